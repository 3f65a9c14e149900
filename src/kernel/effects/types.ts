// The shapes the side-effect journal takes and gives: call options, in-doubt calls,
// journaled failures, verification and compaction reports.

/**
 * `sync`: every journal write a caller waits on is committed and flushed to disk (fsync)
 * before the call proceeds, so a journaled result survives power loss. `async`: the
 * `dispatched` entry is still committed before the call runs (a process crash cannot
 * lose it, so nothing is re-run silently), but the outcome is queued and not waited on;
 * a crash before it commits leaves the call in doubt.
 */
export type Durability = 'sync' | 'async';

/**
 * `false`: running the call twice would repeat its effect; an unknown outcome goes
 * in doubt. `true`: the call is idempotent by nature (a PUT, a set). `'key'`: the tool
 * honours the idempotency key (deduplicates on its side). Either of the last two is
 * retried with the same key when its outcome is unknown.
 */
export type Idempotence = boolean | 'key';

/** What the called function gets. */
export interface CallContext {
  key: string;
  /** 1 on the first dispatch; n+1 when an idempotent call in doubt is retried. */
  attempt: number;
}

/** A call dispatched whose outcome never reached the journal. */
export interface InDoubtCall {
  key: string;
  actor: string;
  turn: number;
  step?: number;
  call: number;
  /** SHA-256 (hex) of the canonical JSON of the arguments it was dispatched with. */
  argsHash: string;
  attempt: number;
  idempotent: Idempotence;
  /** Clock time of the dispatch. */
  dispatchedAt: number;
}

export interface RunOptions {
  /** The call's arguments, JSON data; hashed into the journal, and a replay with other arguments is refused. */
  args: unknown;
  /** Default false. */
  idempotent?: Idempotence;
  /**
   * Undoes whatever a non-idempotent call in doubt may have done. Called (instead of
   * throwing EffectInDoubt) when this run finds the key in doubt; must itself be safe
   * to run more than once, since a crash during it leaves the key in doubt still.
   */
  compensate?: (call: InDoubtCall, args: unknown) => unknown;
  /** Overrides the journal's default. */
  durability?: Durability;
}

/** A failure as journaled: plain data, the same on every replay. */
export interface FailureData {
  name: string;
  message: string;
  /** The thrown error's `code`, when it had a string one (every AgentOsError does). */
  code?: string;
  field?: string;
  details?: unknown;
}

/** Where a key stands. `running`: dispatched by this journal, outcome not yet written. */
export type CallState =
  | { state: 'new' }
  | { state: 'running' }
  | { state: 'in-doubt'; call: InDoubtCall }
  | { state: 'completed'; attempt: number }
  | { state: 'failed'; attempt: number; failure: FailureData }
  | { state: 'compensated'; attempt: number }
  | { state: 'compacted' };

export type VerifyResult =
  | { ok: true; actors: number; entries: number }
  | {
      ok: false;
      actor: string;
      /** Position in the actor's chain where the break is (1-based). */
      seq?: number;
      /** The idempotency key of the entry at fault, when it can still be read. */
      key?: string;
      problem: string;
    };

export interface ChainAnchor {
  /** The last entry dropped by compaction (0 when none was), whose hash the next entry must carry. */
  seq: number;
  hash: string;
}

export interface CompactResult {
  /** Entries removed by this compaction. */
  dropped: number;
  /** Where the actor's chain now starts; a checkpoint may record it. */
  anchor: ChainAnchor;
  /** Keys of turns up to this one that are no longer journaled refuse to run (EFFECT_COMPACTED). */
  compactedThrough: number;
}
