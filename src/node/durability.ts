// The node's view of its persistent actors: what recovery did when the node
// started, the calls left in doubt by a crash (waiting for a person), and the
// operator's tools: settle such a call by hand, check the journals, discard the
// stored state of an actor that is held.

import { ActorError, ErrorCodes } from '../base/errors.js';
import type { RecoveryReport } from '../kernel/durable/manager.js';
import type { InDoubtCall, Resolution, VerifyResult } from '../kernel/effects/index.js';
import type { Kernel } from '../kernel/kernel.js';

export interface DurabilityApi {
  /** What recovery did when this node started (empty when nothing was stored). */
  readonly recovery: RecoveryReport;
  /** Calls dispatched before a crash whose outcome is unknown and that may not run again. */
  inDoubt(): InDoubtCall[];
  /** Settle an in-doubt call: the actor waiting on it gets this outcome, and every later replay too. */
  resolve(key: string, resolution: Resolution, by: string): Promise<void>;
  /** Check the side-effect journal's hash chains (one actor, or all). */
  verify(actor?: string): VerifyResult;
  /** Drop the stored state of a persistent actor that is not running (e.g. held), so its id can be used again. */
  discard(id: string): Promise<void>;
  /** Resolves when every durable write queued so far is on disk. */
  flushed(): Promise<void>;
}

const EMPTY: RecoveryReport = { restored: [], held: [], redelivered: 0, requeued: 0, resumedCalls: 0, ms: 0 };

export function durabilityApi(kernel: Kernel, recovery: RecoveryReport | undefined): DurabilityApi {
  const d = (): NonNullable<Kernel['durability']> => {
    if (!kernel.durability) throw new ActorError(ErrorCodes.invalidOptions, 'this node has no storage for persistent actors', { field: 'durability' });
    return kernel.durability;
  };
  return {
    recovery: recovery ?? EMPTY,
    inDoubt: () => d().inDoubt(),
    resolve: (key, resolution, by) => d().resolve(key, resolution, by),
    verify: (actor) => d().verify(actor),
    discard: async (id) => {
      const cell = kernel.lookup(id);
      const status = cell ? (kernel.describe(id)?.status as string | undefined) : undefined;
      if (cell && status !== 'held') throw new ActorError(ErrorCodes.duplicateActor, `"${id}" is running; stop it instead of discarding its state`, { field: 'id' });
      if (cell) await kernel.stopActor(id);
      await d().forget(id);
    },
    flushed: () => d().flushed(),
  };
}
