// What a crash campaign records, for the checker: every start (with its recovery
// report), every kill, every order sent and which were acknowledged, the in-doubt
// calls an operator settled, the tools' effect files, and the final state.

import type { RecoveryReport } from '../../src/index.js';
import type { StateReply, StatusReply } from './worker.js';
import type { Invocation, Payment } from './workload.js';

export type KillMode = 'recovery' | 'start' | 'busy' | 'idle' | 'effect';

export interface StartRecord {
  /** Which run of the campaign (0-based; the final run is `kills`, its check restart `kills + 1`). */
  run: number;
  pid: number;
  /** Fork to ready, wall clock (process start, tsx, node open, recovery, spawns). */
  forkToReadyMs: number;
  recovery: RecoveryReport;
  /** Actors this run spawned because recovery did not bring them back (first run). */
  spawned: string[];
  verify: { ok: boolean; detail?: string };
}

export interface KillRecord {
  run: number;
  mode: KillMode;
  /** Planned delay (ms) from the mode's reference point (`recovering`, `ready`, or quiet; for `effect`, the deadline). */
  delayMs: number;
  /** `effect` kills: the worker killed itself inside a tool (else it was killed at the deadline). */
  selfKilled?: boolean;
  /** Whether the worker had reported ready when it was killed. */
  afterReady: boolean;
  /** Posts sent and not yet acknowledged at the kill. */
  postsInFlight: number;
}

export interface SentOrder {
  id: string;
  agent: string;
  amount: number;
  run: number;
}

export interface OperatorResolution {
  run: number;
  key: string;
  actor: string;
  /** Whether the effects file showed the shipment had left. */
  effectSeen: boolean;
  outcome: 'result' | 'failure';
  error?: string;
}

export interface FinalRecord {
  /** Every agent idle with an empty queue and mailbox, and nothing in doubt. */
  quiescent: boolean;
  waitedMs: number;
  status?: StatusReply;
  state?: StateReply;
  /** The state after one more clean stop and start (must equal `state`). */
  afterRestart?: StateReply;
  error?: string;
}

export interface CampaignHistory {
  seed: number;
  /** Ids of the order takers. */
  agents: string[];
  starts: StartRecord[];
  kills: KillRecord[];
  sent: SentOrder[];
  acked: string[];
  /** Posts the node refused (a typed error came back, not a kill). */
  refused: Array<{ id: string; error: string }>;
  resolutions: OperatorResolution[];
  /** Commands a live node failed (status, inDoubt, resolve…) that should not fail. */
  nodeErrors: Array<{ run: number; error: string }>;
  /** Workers that died without being killed. */
  died: Array<{ run: number; reason: string; stderr: string }>;
  invocations: Invocation[];
  payments: Payment[];
  final: FinalRecord;
}

export function emptyHistory(seed: number, agents: string[]): CampaignHistory {
  return { seed, agents, starts: [], kills: [], sent: [], acked: [], refused: [], resolutions: [], nodeErrors: [], died: [], invocations: [], payments: [], final: { quiescent: false, waitedMs: 0 } };
}
