// Typed errors of the contract-net marketplace, with their stable codes in one
// place. Between participants an error travels as data (`{ code, message }` in a
// `reject-proposal`, `cancel` or a failed outcome); thrown, it is a MarketError.

import { AgentOsError } from '../../base/errors.js';

/** A market definition or call is malformed, or a market actor runs outside agentos. `field` names the input. */
export class MarketError extends AgentOsError {}

export const MarketCodes = {
  /** contractNetManager / bidder options are malformed. */
  invalidOptions: 'MARKET_INVALID_OPTIONS',
  /** A manager or bidder machine runs outside an agentos node (no kernel to audit through). */
  notAnAgent: 'MARKET_NOT_AN_AGENT',
  /** A proposal arrived after its round closed (deadline passed, round closed early, or task settled). Audited. */
  bidLate: 'MARKET_BID_LATE',
  /** A proposal from a participant the round did not invite. */
  notInvited: 'MARKET_NOT_INVITED',
  /** A second proposal from the same bidder in one round. */
  duplicateBid: 'MARKET_DUPLICATE_BID',
  /** A proposal above the task's maxPrice. */
  overMaxPrice: 'MARKET_OVER_MAX_PRICE',
  /** A proposal the remaining budget cannot pay for (not awarded). */
  overBudget: 'MARKET_OVER_BUDGET',
  /** The message's `sender` is not the actor the kernel says sent it. */
  senderMismatch: 'MARKET_SENDER_MISMATCH',
  /** A message for a conversation this manager does not know. */
  unknownConversation: 'MARKET_UNKNOWN_CONVERSATION',
  /** Another proposal won the round. */
  notSelected: 'MARKET_NOT_SELECTED',
  /** An `announce` for a task id that is still open. */
  duplicateTask: 'MARKET_DUPLICATE_TASK',
  /** Nobody proposed (everyone refused or stayed silent). */
  noBids: 'MARKET_NO_BIDS',
  /** No participant left to invite (none given, or all failed earlier attempts). */
  noBidders: 'MARKET_NO_BIDDERS',
  /** Proposals came, but the remaining budget pays for none of them. */
  budgetExhausted: 'MARKET_BUDGET_EXHAUSTED',
  /** The award strategy chose nobody. */
  noAward: 'MARKET_NO_AWARD',
  /** The award strategy threw, or chose a proposal that was not offered. */
  strategyFailed: 'MARKET_STRATEGY_FAILED',
  /** The winner reported `failure`. */
  executionFailed: 'MARKET_EXECUTION_FAILED',
  /** The winner sent no `inform` before the execution deadline. */
  executionTimeout: 'MARKET_EXECUTION_TIMEOUT',
  /** Every attempt allowed failed. */
  retriesExhausted: 'MARKET_RETRIES_EXHAUSTED',
} as const;

export type MarketCode = (typeof MarketCodes)[keyof typeof MarketCodes];

/** An error as it travels between participants: plain data. */
export interface MarketReason {
  code: string;
  message: string;
}

export const reason = (code: MarketCode, message: string): MarketReason => ({ code, message });
