// What the engine keeps of a run, in LMDB, rewritten after every step transition:
// the run's checkpoint. A node that dies mid-run resumes from these records —
// completed steps stay completed, a step found `running` was in flight (in doubt).

import type { RootDatabase, Database } from 'lmdb';

export type StepStatus =
  | 'pending'
  /** Dispatched (agent asked, child run started); its outcome is not recorded yet. */
  | 'running'
  /** An approval gate waiting for a person. */
  | 'waiting'
  | 'completed'
  | 'skipped'
  | 'failed'
  /** Was running when the node died; neither idempotent nor compensable: a person resolves it. */
  | 'in-doubt'
  | 'compensated';

export type RunStatus =
  | 'running'
  /** Nothing runs; an approval gate waits for a person. */
  | 'waiting'
  | 'compensating'
  /** A step failed and the workflow says `on_failure: pause`: an operator retries it or cancels the run. */
  | 'paused'
  | 'completed'
  /** Failed; completed steps were compensated (see `compensated`). */
  | 'failed'
  | 'cancelled'
  | 'in-doubt'
  /** Cannot continue: its definition is gone or changed (reason in `error`). */
  | 'held';

export interface ErrorRecord {
  code: string;
  message: string;
  step?: string;
}

export interface ApprovalRecord {
  /** Stable: `wf-<run>-<step>`, the same after a restart. */
  id: string;
  requestedAt: number;
  deadline: number;
  escalationLevel: 0 | 1;
  argsHash: string;
  by?: string;
  decidedAt?: number;
}

export interface StepRecord {
  status: StepStatus;
  /** Attempts dispatched so far. */
  attempts: number;
  /** The step's idempotency key: the same for every attempt and retry. */
  key: string;
  input?: unknown;
  inputHash?: string;
  output?: unknown;
  error?: ErrorRecord;
  startedAt?: number;
  endedAt?: number;
  /** Node-clock time of the next attempt of a step waiting to be retried. */
  retryAt?: number;
  approval?: ApprovalRecord;
  /** Sub-workflow / loop: the child run of the current attempt or iteration. */
  child?: string;
  /** Loop: iterations finished. */
  iteration?: number;
}

export interface RunRecord {
  id: string;
  workflow: string;
  version: string;
  /** The definition's hash when the run started. */
  hash: string;
  tenant: string;
  input: Record<string, unknown>;
  status: RunStatus;
  steps: Record<string, StepRecord>;
  /** Step ids in completion order (SAGA compensates in reverse). */
  completed: string[];
  compensated: string[];
  output?: Record<string, unknown>;
  error?: ErrorRecord;
  /** A sub-workflow or loop iteration: the parent run and step. */
  parent?: { run: string; step: string };
  /** The run's trace (W3C traceparent): steps after a restart continue it. */
  traceparent?: string;
  createdAt: number;
  updatedAt: number;
}

export const ACTIVE: ReadonlySet<RunStatus> = new Set(['running', 'waiting', 'compensating', 'paused', 'in-doubt']);

/** Runs by id in the node's LMDB (`workflow-runs`). */
export class RunStore {
  private readonly db: Database<RunRecord, string>;

  constructor(root: RootDatabase) {
    this.db = root.openDB<RunRecord, string>({ name: 'workflow-runs', encoding: 'msgpack' });
  }

  get(id: string): RunRecord | undefined {
    return this.db.get(id);
  }

  /** Resolves once the record is committed. */
  save(run: RunRecord): Promise<boolean> {
    return this.db.put(run.id, run);
  }

  *all(): Iterable<RunRecord> {
    for (const { value } of this.db.getRange()) yield value;
  }

  remove(id: string): Promise<boolean> {
    return this.db.remove(id);
  }
}
