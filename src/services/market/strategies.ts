// Award strategies: which of a round's proposals wins. A strategy is a plain
// function over the proposals the manager may award (each within the task's
// maxPrice and the remaining budget), so custom ones are one line. Built-ins
// break ties the same way every time (then by arrival order), so a seeded run
// awards the same bidder on every machine.

import { MarketCodes, MarketError } from './errors.js';

/** One bidder's offer in a round. */
export interface Proposal {
  /** The bidder's actor id. */
  bidder: string;
  price: number;
  etaMs: number;
  /** 0 (worst) to 1 (best), as declared by the bidder. */
  quality: number;
}

/** What a strategy knows about the task besides the proposals. */
export interface AwardContext {
  taskId: string;
  task: unknown;
  maxPrice: number;
  /** 1 for the first round, more after a winner failed. */
  attempt: number;
  /** What the manager can still spend (Infinity without a budget). */
  remainingBudget: number;
}

/**
 * Chooses the winner among `proposals` (in arrival order, never empty): return
 * the proposal (or its bidder id), or undefined to award nobody. Must be a pure
 * function of its arguments for runs to be reproducible.
 */
export type AwardStrategy = (proposals: readonly Proposal[], context: AwardContext) => Proposal | string | undefined;

export type StrategyName = 'lowest-price' | 'best-value' | 'earliest-eta';

/** The proposal that is smallest under `compare`; ties keep the earliest arrival. */
function best(proposals: readonly Proposal[], compare: (a: Proposal, b: Proposal) => number): Proposal | undefined {
  let winner: Proposal | undefined;
  for (const p of proposals) if (winner === undefined || compare(p, winner) < 0) winner = p;
  return winner;
}

const byPrice = (a: Proposal, b: Proposal): number => a.price - b.price;
const byQuality = (a: Proposal, b: Proposal): number => b.quality - a.quality;
const byEta = (a: Proposal, b: Proposal): number => a.etaMs - b.etaMs;

/** Cheapest; then higher quality, then sooner. */
export const lowestPrice: AwardStrategy = (proposals) => best(proposals, (a, b) => byPrice(a, b) || byQuality(a, b) || byEta(a, b));

/** Soonest; then cheaper, then higher quality. */
export const earliestEta: AwardStrategy = (proposals) => best(proposals, (a, b) => byEta(a, b) || byPrice(a, b) || byQuality(a, b));

export interface ValueWeights {
  /** Weight of quality (0..1). Default 1. */
  quality?: number;
  /** Weight of price as a share of the task's maxPrice (0..1). Default 1. */
  price?: number;
  /** Weight of the ETA as a share of the slowest proposal's ETA (0..1). Default 0. */
  eta?: number;
}

/**
 * Best quality for the price: the highest weighted score
 * `quality·wq − (price / maxPrice)·wp − (etaMs / slowest etaMs)·we`; ties go to the cheaper.
 */
export function bestValue(weights: ValueWeights = {}): AwardStrategy {
  const wq = weight(weights.quality, 1, 'quality');
  const wp = weight(weights.price, 1, 'price');
  const we = weight(weights.eta, 0, 'eta');
  return (proposals, { maxPrice }) => {
    const slowest = Math.max(...proposals.map((p) => p.etaMs));
    const score = (p: Proposal): number => wq * p.quality - wp * (maxPrice > 0 ? p.price / maxPrice : 0) - we * (slowest > 0 ? p.etaMs / slowest : 0);
    return best(proposals, (a, b) => score(b) - score(a) || byPrice(a, b) || byEta(a, b));
  };
}

function weight(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new MarketError(MarketCodes.invalidOptions, `bestValue: weight ${field} must be a finite number >= 0 (got ${String(value)})`, { field });
  }
  return value;
}

export const STRATEGY_NAMES: readonly StrategyName[] = ['lowest-price', 'best-value', 'earliest-eta'];

/** A built-in strategy by name (the names experiment files and options use). */
export function strategyByName(name: string): AwardStrategy {
  switch (name) {
    case 'lowest-price':
      return lowestPrice;
    case 'best-value':
      return bestValue();
    case 'earliest-eta':
      return earliestEta;
    default:
      throw new MarketError(MarketCodes.invalidOptions, `unknown award strategy ${JSON.stringify(name)} (built-ins: ${STRATEGY_NAMES.join(', ')}; or pass a function)`, {
        field: 'strategy',
      });
  }
}
