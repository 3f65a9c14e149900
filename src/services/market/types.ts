// The manager's state and what a step of the protocol asks the world to do.
// All of it is plain JSON data: the state is the manager machine's context
// (checkpointable, inspectable), effects are carried out by the machine shell.

import type { ReplyHandle } from '../../actors/reply.js';
import type { MarketReason } from './errors.js';
import type { Ledger } from './ledger.js';
import type { BidderMessage } from './messages.js';
import type { AwardStrategy, Proposal } from './strategies.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** How a task ended: its winner informed a result, or it failed with a typed reason. */
export type Outcome = DoneOutcome | FailedOutcome;

interface OutcomeBase {
  taskId: string;
  /** Rounds run (1 unless a winner failed and the task was re-announced). */
  attempts: number;
  /** Valid proposals received over all rounds. */
  bids: number;
  /** Node-clock times (ms). */
  announcedAt: number;
  completedAt: number;
  /** The conversation of each round, first to last. */
  conversations: string[];
}

export interface DoneOutcome extends OutcomeBase {
  status: 'done';
  winner: string;
  price: number;
  quality: number;
  etaMs: number;
  currency: string;
  awardedAt: number;
  result: Json;
}

export interface FailedOutcome extends OutcomeBase {
  status: 'failed';
  reason: MarketReason;
}

/** One open task: its current round, and what earlier rounds left behind. */
export interface TaskState {
  taskId: string;
  task: Json;
  maxPrice: number;
  deadlineMs: number;
  executionMs: number;
  maxAttempts: number;
  /** Everyone the task may invite; failed winners are excluded from later rounds. */
  bidders: string[];
  excluded: string[];
  attempt: number;
  conversationId: string;
  phase: 'collecting' | 'executing';
  invited: string[];
  /** Who answered this round: a proposal (kept in `proposals`) or a refusal/rejection. */
  responses: Record<string, 'proposed' | 'refused'>;
  responded: number;
  proposals: Proposal[];
  winner: Proposal | null;
  announcedAt: number;
  awardedAt: number | null;
  bids: number;
  conversations: string[];
  /** Where the outcome goes: the ask that announced the task, an actor to tell. */
  requester: ReplyHandle | null;
  notify: string | null;
}

export interface MarketStats {
  announced: number;
  rounds: number;
  reannouncements: number;
  /** Proposals that entered a round (within maxPrice, from an invited bidder, in time). */
  bids: number;
  lateBids: number;
  /** Proposals refused for another reason (over maxPrice, not invited, duplicate, forged sender, unknown conversation). */
  refusedBids: number;
  /** `refuse` answers to a cfp. */
  declined: number;
  awarded: number;
  done: number;
  failed: number;
  executionFailures: number;
}

export interface ManagerState {
  ledger: Ledger;
  tasks: Record<string, TaskState>;
  /** Conversation id → task id, for open tasks and the outcomes kept (to tell a late message from an unknown one). */
  rounds: Record<string, string>;
  /** Recent outcomes, oldest first (at most `keepOutcomes`). */
  outcomes: Outcome[];
  stats: MarketStats;
  /** Numbers conversations, so a task id announced again never reuses one. */
  seq: number;
}

export interface ProtocolConfig {
  bidders: readonly string[];
  deadlineMs: number;
  executionMs: number;
  maxAttempts: number;
  strategy: AwardStrategy;
  strategyName: string;
  /** Close a round as soon as every invited bidder answered (default true). */
  earlyClose: boolean;
  keepOutcomes: number;
}

/** A timer of the manager: the round's proposal deadline, or the winner's execution deadline. */
export interface TimeoutEvent {
  type: 'market.timeout';
  conversationId: string;
  what: 'deadline' | 'execution';
}

export type Effect =
  | { kind: 'send'; to: string; message: BidderMessage }
  | { kind: 'timer'; id: string; delayMs: number; event: TimeoutEvent }
  | { kind: 'cancel-timer'; id: string }
  | { kind: 'audit'; decision: string; subject: string; reason?: MarketReason; data: Record<string, Json> }
  | { kind: 'reply'; to: ReplyHandle; value: Outcome }
  | { kind: 'notify'; to: string; outcome: Outcome };

export function emptyStats(): MarketStats {
  return { announced: 0, rounds: 0, reannouncements: 0, bids: 0, lateBids: 0, refusedBids: 0, declined: 0, awarded: 0, done: 0, failed: 0, executionFailures: 0 };
}
