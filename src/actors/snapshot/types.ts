// The shape of a versioned actor snapshot: XState's persisted snapshot plus
// what XState's own persistence loses (pending delayed events with their due
// times, which children are in-flight promises) plus the agent's extras.
// Everything here is plain data: it survives msgpackr unchanged.

/** Actor ids from the root (excluded) down: `[]` is the root, `['kid', 'grandkid']` a grandchild. */
export type ActorPath = string[];

export interface DefinitionRef {
  name: string;
  version: string;
}

/** A delayed event (`after`, `raise`/`sendTo` with `delay`) armed but not yet delivered. */
export interface PendingTimer {
  /** The actor that scheduled it (cancelling by `id` is relative to this actor). */
  source: ActorPath;
  /** The actor it will be delivered to. */
  target: ActorPath;
  /** XState's send id: `xstate.after.<delay>.<stateId>` for `after`, the user's `id` otherwise. */
  id: string;
  event: { type: string; [key: string]: unknown };
  /** Absolute due time on the injected Clock. */
  dueAt: number;
  /** Order the timer was armed in; breaks ties between equal due times. */
  seq: number;
}

/**
 * How a child comes back on restore:
 * - `machine`: its own state, children and timers, running;
 * - `stateful`: transition logic, its state restored, running;
 * - `restartable`: callback/observable logic, started again from its persisted input (its closure state is new);
 * - `promise`: cannot resume; held (default) or re-run, see `InFlightInvoke`.
 */
export type ChildKind = 'machine' | 'stateful' | 'restartable' | 'promise';

export interface ChildEntry {
  path: ActorPath;
  /** Name the logic is registered under in `setup({ actors })`, or XState's inline invoke id. */
  src: string;
  kind: ChildKind;
  systemId?: string;
  status: string;
}

/** A promise actor that had not settled at capture: its outcome must come from the effect journal. */
export interface InFlightInvoke {
  path: ActorPath;
  src: string;
  systemId?: string;
  input: unknown;
}

/** The persisted snapshot of an XState machine (`actor.getPersistedSnapshot()`), with every child `src` a string. */
export interface PersistedMachineSnapshot {
  status: string;
  value: unknown;
  context: unknown;
  children: Record<string, { snapshot: unknown; src: string; systemId?: string; syncSnapshot?: boolean }>;
  [key: string]: unknown;
}

export const SNAPSHOT_FORMAT = 1;

export interface ActorSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  definition: DefinitionRef;
  /** Clock time of the capture. */
  capturedAt: number;
  actor: { id: string; systemId?: string };
  xstate: PersistedMachineSnapshot;
  timers: PendingTimer[];
  inFlight: InFlightInvoke[];
  children: ChildEntry[];
  /** Agent state outside the machine: RNG state, token counts, tool cursors. */
  extra: Record<string, unknown>;
}

/** Stable error codes of this module (all thrown as `StorageError` unless noted). */
export const SnapshotCodes = {
  /** Bytes are not a whole, intact snapshot: truncated, bit-flipped, wrong magic, malformed body. */
  corrupt: 'SNAPSHOT_CORRUPT',
  /** A whole snapshot that this definition cannot use: other definition, other version without migration, unknown state or child. */
  incompatible: 'SNAPSHOT_INCOMPATIBLE',
  /** The live actor holds something a snapshot cannot carry (a function, an inline actor, an untracked timer…). */
  uncapturable: 'SNAPSHOT_UNCAPTURABLE',
  /** The snapshot decoded and matched, but the restored actor failed while starting. */
  restoreFailed: 'SNAPSHOT_RESTORE_FAILED',
  /** `settleInFlight`/`reissueInFlight` named an actor that is not a held promise (ActorError). */
  notInFlight: 'NOT_IN_FLIGHT',
} as const;
