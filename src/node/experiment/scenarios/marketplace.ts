// The marketplace scenario: N seeded bidders with cost, quality, speed and
// reliability profiles; M tasks arriving at seeded times; one contract-net
// manager awarding by a strategy within an optional budget. One row per task
// (winner, price, attempts, completion time on the virtual clock) and a summary
// per seed. Every random choice comes from the run's seeded RNG, in an order
// fixed by the (deterministic) message order, so a seed always gives the same rows.

import { z } from 'zod';
import type { Rng } from '../../../base/rng.js';
import { describeZodIssue, formatPath } from '../../../kernel/contract/issues.js';
import { bidder, contractNetManager, STRATEGY_NAMES, type CallForProposals, type ManagerState, type Outcome, type StrategyName } from '../../../services/market/index.js';
import { runUntil } from '../drive.js';
import { ExperimentCodes, ExperimentError } from '../errors.js';
import { defineExperiment, type ExperimentRow } from '../types.js';

const ms = z.number().int().min(1).max(2 ** 31 - 1);

const Params = z.strictObject({
  /** How many bidders are invited to every task. */
  bidders: z.number().int().min(1).max(10_000).default(10),
  /** How many tasks are announced. */
  tasks: z.number().int().min(1).max(100_000).default(20),
  strategy: z.enum(STRATEGY_NAMES as [StrategyName, ...StrategyName[]]).default('lowest-price'),
  /** Chance that a winner fails the job it won. */
  failureRate: z.number().min(0).max(1).default(0.1),
  /** Share of bidders that answer after the proposal deadline (their bids are refused as late). */
  lateRate: z.number().min(0).max(1).default(0.05),
  /** Chance that a bidder declines a call for proposals. */
  refuseRate: z.number().min(0).max(1).default(0.1),
  /** The manager's budget; null for none. */
  budget: z.number().min(0).nullable().default(null),
  /** The most the manager pays for a task. */
  maxPrice: z.number().positive().max(1e9).default(100),
  deadlineMs: ms.default(50),
  executionMs: ms.default(2_000),
  maxAttempts: z.number().int().min(1).max(100).default(3),
  /** Mean time between task arrivals (exponential), ms; 0 announces every task at once. */
  arrivalMs: z.number().min(0).max(1e7).default(20),
  /** Give up (EXPERIMENT_STALLED) if the tasks are not settled by then, virtual ms. */
  horizonMs: ms.default(3_600_000),
});

export type MarketplaceParams = z.output<typeof Params>;

interface Profile {
  id: string;
  /** What the bidder's work costs it; its bids vary around this. */
  cost: number;
  quality: number;
  etaMs: number;
  /** Time it takes to answer a cfp (past the deadline for a late bidder). */
  thinkMs: number;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const mean = (xs: number[]): number | null => (xs.length === 0 ? null : round(xs.reduce((a, b) => a + b, 0) / xs.length, 4));

function profileOf(rng: Rng, p: MarketplaceParams, i: number): Profile {
  const cost = p.maxPrice * (0.05 + 0.75 * rng.next());
  // Dearer bidders tend to be better: quality grows with cost, plus noise.
  const quality = round(Math.min(1, 0.3 + 0.5 * (cost / p.maxPrice) + 0.2 * rng.next()), 3);
  const etaMs = 100 + rng.int(900);
  const late = rng.next() < p.lateRate;
  const thinkMs = late ? p.deadlineMs + 1 + rng.int(p.deadlineMs) : rng.int(Math.max(1, Math.floor(p.deadlineMs / 2)));
  return { id: `bidder-${String(i).padStart(4, '0')}`, cost, quality, etaMs, thinkMs };
}

export const marketplaceScenario = defineExperiment<MarketplaceParams>({
  name: 'marketplace',
  description: 'contract-net marketplace: seeded bidders (cost, quality, speed, reliability), tasks at seeded times, an award strategy, a failure rate, an optional budget',

  parseParams(params: unknown): MarketplaceParams {
    const r = Params.safeParse(params ?? {}, { error: describeZodIssue });
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')} (known: ${Object.keys(Params.shape).join(', ')})` : issue.message;
    const field = issue.code === 'unrecognized_keys' ? String(issue.keys[0]) : formatPath(path);
    throw new ExperimentError(ExperimentCodes.invalid, `params.${field}: ${message}`, { field });
  },

  async run({ node, clock, rng, params: p, record }) {
    const profiles = Array.from({ length: p.bidders }, (_, i) => profileOf(rng, p, i));
    const byId = new Map(profiles.map((pr) => [pr.id, pr]));
    const of = (id: string): Profile => byId.get(id)!;
    const definition = bidder({
      name: 'market-bidder',
      evaluate: (cfp: CallForProposals) => {
        const pr = of(cfp.bidder);
        if (rng.next() < p.refuseRate) return { refuse: 'busy' };
        const price = round(pr.cost * (0.9 + 0.2 * rng.next()), 2);
        if (price > cfp.maxPrice) return { refuse: `my price ${price} is above ${cfp.maxPrice}` };
        return { price, etaMs: Math.round(pr.etaMs * (0.8 + 0.4 * rng.next())), quality: pr.quality };
      },
      replyAfterMs: (cfp) => of(cfp.bidder).thinkMs,
      workMs: (award) => Math.round(of(award.bidder).etaMs * (0.8 + 0.5 * rng.next())),
      execute: (award) => {
        if (rng.next() < p.failureRate) throw new Error(`${award.bidder} could not finish ${award.taskId}`);
        return { taskId: award.taskId, by: award.bidder };
      },
    });
    for (const pr of profiles) await node.spawn(definition, { id: pr.id });
    const manager = await node.spawn(
      contractNetManager({
        name: 'market-manager',
        bidders: profiles.map((pr) => pr.id),
        strategy: p.strategy,
        ...(p.budget === null ? {} : { budget: p.budget }),
        deadlineMs: p.deadlineMs,
        executionMs: p.executionMs,
        maxAttempts: p.maxAttempts,
        keepOutcomes: p.tasks,
      }),
      { id: 'manager' },
    );

    // Tasks arrive at seeded times (exponential gaps) and are announced by ask; the reply is the outcome.
    const outcomes: (Outcome | undefined)[] = new Array(p.tasks);
    let settled = 0;
    let failure: unknown;
    let at = 0;
    for (let i = 0; i < p.tasks; i++) {
      at += Math.round(-Math.log(1 - rng.next()) * p.arrivalMs);
      const taskId = `task-${String(i).padStart(5, '0')}`;
      clock.setTimeout(() => {
        manager.ask<Outcome>({ type: 'announce', taskId, task: { index: i }, maxPrice: p.maxPrice }, { timeoutMs: 2 ** 31 - 1 }).then(
          (o) => ((outcomes[i] = o), settled++),
          (err) => ((failure ??= err), settled++),
        );
      }, at);
    }
    await runUntil(node, clock, () => settled === p.tasks, { horizonMs: p.horizonMs });
    if (failure !== undefined) throw failure;

    const done = outcomes.filter((o): o is Extract<Outcome, { status: 'done' }> => o?.status === 'done');
    const durations: number[] = [];
    for (const o of outcomes as Outcome[]) {
      const row: ExperimentRow = {
        task: o.taskId,
        status: o.status,
        winner: o.status === 'done' ? o.winner : null,
        price: o.status === 'done' ? o.price : null,
        quality: o.status === 'done' ? o.quality : null,
        attempts: o.attempts,
        bids: o.bids,
        announcedAt: o.announcedAt,
        completedAt: o.completedAt,
        durationMs: o.completedAt - o.announcedAt,
        reason: o.status === 'failed' ? o.reason.code : null,
      };
      if (o.status === 'done') durations.push(o.completedAt - o.announcedAt);
      record(row);
    }
    const state = manager.getSnapshot()!.context as ManagerState;
    const budget = state.ledger;
    const sorted = [...durations].sort((a, b) => a - b);
    const delivered = node.stats().scheduler;
    return {
      tasks: p.tasks,
      completed: done.length,
      failed: p.tasks - done.length,
      completionRate: round(done.length / p.tasks, 4),
      meanPrice: mean(done.map((o) => o.price)),
      meanQuality: mean(done.map((o) => o.quality)),
      meanDurationMs: mean(durations),
      p95DurationMs: sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!,
      rounds: state.stats.rounds,
      reannouncements: state.stats.reannouncements,
      lateBids: state.stats.lateBids,
      declined: state.stats.declined,
      budgetSpent: round(budget.charged / 1e6, 2),
      budgetRemaining: budget.limit === null ? null : round((budget.limit - budget.charged) / 1e6, 2),
      makespanMs: clock.now(),
      messages: delivered.HRT.delivered + delivered.SRT.delivered + delivered.DT.delivered,
    };
  },
});

export default marketplaceScenario;
