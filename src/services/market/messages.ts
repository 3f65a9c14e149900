// The contract-net messages (FIPA ACL performatives: cfp, propose, refuse,
// accept-proposal, reject-proposal, inform, failure, cancel) as zod schemas, the
// edge check the kernel runs before a message reaches a participant's mailbox.
// Every message is plain JSON that names participants by actor id only and
// carries its `conversationId` and `sender`, so it can cross nodes or an A2A bus
// unchanged. A round of one task is one conversation; a re-announcement opens a new one.

import { z } from 'zod';

const id = z.string().min(1).max(256);
const conversationId = z.string().min(1).max(1024);
const money = z.number().nonnegative().max(1e12);
const ms = z.number().int().nonnegative().max(2 ** 31 - 1);
const positiveMs = z.number().int().positive().max(2 ** 31 - 1);
const json = z.json();
const failure = z.strictObject({ code: z.string().min(1).max(64), message: z.string().max(4096) });

// ── to the manager ─────────────────────────────────────────────────────

/** Start a contract-net for a task (from the manager's client: code, or another actor). */
export const announceMessage = z.strictObject({
  type: z.literal('announce'),
  taskId: id,
  /** What is to be done; plain JSON, shown to bidders as is. */
  task: json.optional(),
  /** The most the manager will pay for this task. */
  maxPrice: money,
  /** Participants to invite (default: the manager's `bidders`). */
  bidders: z.array(id).min(1).max(10_000).optional(),
  /** How long proposals are accepted (default: the manager's `deadlineMs`). */
  deadlineMs: positiveMs.optional(),
  /** How long the winner has to `inform` (default: the manager's `executionMs`). */
  executionMs: positiveMs.optional(),
  /** Rounds in all, the first included (default: the manager's `maxAttempts`). */
  maxAttempts: z.number().int().min(1).max(100).optional(),
  /** An actor to tell the outcome (`market.outcome`), besides the reply to an ask. */
  notify: id.optional(),
});

export const proposeMessage = z.strictObject({
  type: z.literal('propose'),
  conversationId,
  sender: id,
  price: money,
  /** Time the bidder expects to need, ms. */
  etaMs: ms,
  /** Self-declared quality, 0 (worst) to 1 (best). */
  quality: z.number().min(0).max(1),
});

export const refuseMessage = z.strictObject({ type: z.literal('refuse'), conversationId, sender: id, reason: z.string().max(4096).optional() });
export const informMessage = z.strictObject({ type: z.literal('inform'), conversationId, sender: id, result: json.optional() });
export const failureMessage = z.strictObject({ type: z.literal('failure'), conversationId, sender: id, reason: z.string().max(4096) });
export const statusMessage = z.strictObject({ type: z.literal('status') });

export const managerMessages = z.discriminatedUnion('type', [announceMessage, proposeMessage, refuseMessage, informMessage, failureMessage, statusMessage]);

// ── to a bidder ────────────────────────────────────────────────────────

export const cfpMessage = z.strictObject({
  type: z.literal('cfp'),
  conversationId,
  sender: id,
  taskId: id,
  task: json,
  maxPrice: money,
  currency: z.string().max(16).optional(),
  /** Proposals later than this (from the cfp) are refused as MARKET_BID_LATE. */
  replyWithinMs: positiveMs,
  /** 1 for the first round of a task, more for a re-announcement. */
  attempt: z.number().int().min(1),
});

export const acceptMessage = z.strictObject({
  type: z.literal('accept-proposal'),
  conversationId,
  sender: id,
  taskId: id,
  task: json,
  price: money,
  /** The winner must `inform` within this, or the task is re-announced without it. */
  executeWithinMs: positiveMs,
});

export const rejectMessage = z.strictObject({ type: z.literal('reject-proposal'), conversationId, sender: id, taskId: id.optional(), reason: failure });
export const cancelMessage = z.strictObject({ type: z.literal('cancel'), conversationId, sender: id, taskId: id, reason: failure });

export const bidderMessages = z.discriminatedUnion('type', [cfpMessage, acceptMessage, rejectMessage, cancelMessage]);

export type AnnounceMessage = z.infer<typeof announceMessage>;
export type ProposeMessage = z.infer<typeof proposeMessage>;
export type RefuseMessage = z.infer<typeof refuseMessage>;
export type InformMessage = z.infer<typeof informMessage>;
export type FailureMessage = z.infer<typeof failureMessage>;
export type ManagerMessage = z.infer<typeof managerMessages>;
export type CfpMessage = z.infer<typeof cfpMessage>;
export type AcceptMessage = z.infer<typeof acceptMessage>;
export type RejectMessage = z.infer<typeof rejectMessage>;
export type CancelMessage = z.infer<typeof cancelMessage>;
export type BidderMessage = z.infer<typeof bidderMessages>;

/** What the manager tells a task's `notify` actor when the task settles; add it to that actor's messages. */
export const outcomeMessage = z.strictObject({ type: z.literal('market.outcome'), outcome: z.record(z.string(), json) });
