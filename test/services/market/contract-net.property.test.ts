// The budget and award invariants with real actors: random bidders (prices,
// think times past the deadline, work past the execution deadline, failures),
// concurrent tasks and budgets, on one node with a virtual clock; the invariants
// are checked on the audit trail the manager leaves, award by award.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractNetManager, MarketCodes, type Outcome } from '../../../src/services/market/index.js';
import { fixedBidder, marketNode, type MarketNode } from './support.js';

let m: MarketNode;
beforeAll(async () => {
  m = await marketNode();
});
afterAll(async () => {
  await m.close();
});

const bidderArb = fc.record({
  price: fc.integer({ min: 0, max: 60 }),
  etaMs: fc.integer({ min: 0, max: 500 }),
  quality: fc.double({ min: 0, max: 1, noNaN: true }),
  fail: fc.boolean(),
  replyAfterMs: fc.constantFrom(0, 0, 10, 80), // 80 is past the 50 ms deadline
  workMs: fc.constantFrom(0, 0, 200, 1_500), // 1500 is past the 1000 ms execution deadline
});

let run = 0;

describe('contract net on a node, property', () => {
  it('over random bids and failures: total charged never exceeds the budget, no task is awarded twice at once, every task ends done or failed with a typed reason', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(bidderArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('lowest-price', 'best-value', 'earliest-eta') as fc.Arbitrary<'lowest-price' | 'best-value' | 'earliest-eta'>,
        async (bidders, maxPrices, budget, maxAttempts, strategy) => {
          const tag = `p${++run}`;
          const auditFrom = m.node.audit.size;
          const ids = bidders.map((_, i) => `${tag}-b${i}`);
          for (const [i, b] of bidders.entries()) await m.node.spawn(fixedBidder('prop-bidder', { price: b.price, etaMs: b.etaMs, quality: b.quality }, b), { id: ids[i]! });
          const mgrId = `${tag}-mgr`;
          const mgr = await m.node.spawn(contractNetManager({ name: 'prop-manager', bidders: ids, strategy, budget, maxAttempts, deadlineMs: 50, executionMs: 1_000 }), { id: mgrId });
          const outcomes: (Outcome | undefined)[] = maxPrices.map(() => undefined);
          maxPrices.forEach((maxPrice, i) => void mgr.ask<Outcome>({ type: 'announce', taskId: `t${i}`, maxPrice }, { timeoutMs: 1e6 }).then((o) => (outcomes[i] = o)));
          for (let t = 0; t < 20 && outcomes.some((o) => o === undefined); t++) await m.run(500, 50);

          // Every task ended, done or failed with one of the market's codes.
          for (const o of outcomes) {
            expect(o).toBeDefined();
            if (o!.status === 'failed') expect(Object.values(MarketCodes)).toContain(o!.reason.code);
            expect(o!.attempts).toBeLessThanOrEqual(maxAttempts);
          }
          // Award by award, from the audit trail: the budget holds and no task has two live awards.
          const records = [];
          for (let i = auditFrom; i < m.node.audit.size; i++) records.push(m.node.audit.record(i) as { kind: string; actor?: string; decision: string; subject?: string; data?: Record<string, number> });
          const live = new Map<string, number>();
          for (const r of records.filter((x) => x.kind === 'market' && x.actor === mgrId)) {
            if (r.decision === 'awarded') {
              live.set(r.subject!, (live.get(r.subject!) ?? 0) + 1);
              expect(live.get(r.subject!)).toBe(1);
              if (budget !== undefined) expect(r.data!.charged).toBeLessThanOrEqual(budget);
              expect(r.data!.price).toBeLessThanOrEqual(maxPrices[Number(r.subject!.slice(1))]!);
            }
            if (r.decision === 'execution-failed' || r.decision === 'done') live.set(r.subject!, live.get(r.subject!)! - 1);
          }
          // What stays charged is exactly what the tasks that were done cost.
          const status = await mgr.ask<{ budget: { charged: number } }>({ type: 'status' });
          const paid = outcomes.reduce((sum, o) => sum + (o!.status === 'done' ? o!.price : 0), 0);
          expect(status.budget.charged).toBeCloseTo(paid, 6);
          for (const id of [mgrId, ...ids]) await m.node.lookup(id)!.stop();
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);
});
