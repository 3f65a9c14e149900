// Versioned actor snapshots: capture a running machine actor (with what
// XState's own persistence loses), encode it to a checked record, decode it
// (migrating across definition versions), restore a started actor that
// carries on as the original would have.
//
// What comes back, and how (xstate 5.33):
// - state value, context, history, status: XState's persisted snapshot;
// - children, invoked or spawned, at any depth: recreated by XState from their
//   registered logic, started, addressable by id and systemId; we name inline
//   logic, refuse what cannot be named, and refuse a snapshot whose child the
//   machine no longer registers (XState drops it silently);
// - machine and transition children resume their state; callback and
//   observable children start again from their persisted input (closure state
//   is new); promise children cannot resume: held for the kernel (inflight.ts);
// - delayed events (`after`, delayed raise/sendTo): not persisted by XState at
//   all; captured with due times (trackDelays) and re-armed by restore (timers.ts).
// Not carried: the mailbox (the cell journals it), events queued inside XState
// mid-step (capture between messages, never from inside an action).

export { captureSnapshot, type CaptureOptions } from './capture.js';
export { decodeSnapshot, encodeSnapshot, readSnapshotHeader, type DecodeOptions, type MigrateSnapshot, type SnapshotHeader } from './codec.js';
export { heldInFlight, reissueInFlight, settleInFlight } from './inflight.js';
export { restoreActor, type RestoreOptions } from './restore.js';
export { CatchUpClock, catchUp, nextDue, trackDelays } from './timers.js';
export {
  SNAPSHOT_FORMAT,
  SnapshotCodes,
  type ActorPath,
  type ActorSnapshot,
  type ChildEntry,
  type ChildKind,
  type DefinitionRef,
  type InFlightInvoke,
  type PendingTimer,
  type PersistedMachineSnapshot,
} from './types.js';
