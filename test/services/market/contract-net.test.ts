// The contract net with real actors on a node (real LMDB audit log, virtual
// clock): manager and bidders are agentos agents talking by actor id through
// the kernel; deadlines are XState delayed events on the node clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, tell } from '../../../src/index.js';
import { bidder, contractNetManager, MarketCodes, outcomeMessage, type AwardStrategy, type Outcome } from '../../../src/services/market/index.js';
import { fixedBidder, marketNode, type MarketNode } from './support.js';

let m: MarketNode;
beforeEach(async () => {
  m = await marketNode();
});
afterEach(async () => {
  await m.close();
});

/** Five bidders, each the best under one criterion. */
const PROFILES = {
  cheap: { price: 10, etaMs: 500, quality: 0.3 },
  fast: { price: 40, etaMs: 50, quality: 0.6 },
  value: { price: 25, etaMs: 200, quality: 0.95 },
  middling: { price: 30, etaMs: 300, quality: 0.7 },
  premium: { price: 45, etaMs: 100, quality: 0.99 },
};
const NAMES = Object.keys(PROFILES);

async function spawnBidders(opts: Partial<Record<string, Parameters<typeof fixedBidder>[2]>> = {}): Promise<void> {
  for (const [id, bid] of Object.entries(PROFILES)) await m.node.spawn(fixedBidder('fixed-bidder', bid, opts[id]), { id });
}

const bidderStats = (id: string) => (m.node.lookup(id)!.getSnapshot()!.context as { stats: Record<string, number> }).stats;

describe('a round with five bidders', () => {
  const highestQuality: AwardStrategy = (ps) => ps.reduce((a, b) => (b.quality > a.quality ? b : a));
  const cases: [string, ConstructorParameters<typeof Object>[0], string][] = [
    ['lowest-price', 'lowest-price', 'cheap'],
    ['earliest-eta', 'earliest-eta', 'fast'],
    ['best-value', 'best-value', 'value'],
    ['a custom function', highestQuality, 'premium'],
  ];
  for (const [label, strategy, winner] of cases) {
    it(`awards by ${label}: "${winner}" wins, the other four are rejected, the bids and the award are audited`, async () => {
      await spawnBidders();
      const mgr = await m.node.spawn(contractNetManager({ bidders: NAMES, strategy: strategy as AwardStrategy, budget: 100, deadlineMs: 50 }), { id: 'mgr' });
      const outcome = mgr.ask<Outcome>({ type: 'announce', taskId: 'job-1', task: { doc: 'a.pdf' }, maxPrice: 50 }, { timeoutMs: 60_000 });
      await m.run(0);
      const o = await outcome;
      expect(o).toMatchObject({ status: 'done', taskId: 'job-1', winner, attempts: 1, bids: 5, result: { by: 'fixed-bidder', task: 'job-1' } });
      for (const id of NAMES) expect(bidderStats(id)).toMatchObject(id === winner ? { won: 1, done: 1, lost: 0 } : { won: 0, lost: 1 });
      const audit = m.marketAudit();
      expect(audit.map((r) => r.decision)).toEqual(['announced', 'bid', 'bid', 'bid', 'bid', 'bid', 'awarded', 'done']);
      const award = audit.find((r) => r.decision === 'awarded')!;
      expect(award).toMatchObject({ actor: 'mgr', subject: 'job-1', data: { bidder: winner, proposals: 5, affordable: 5, strategy: typeof strategy === 'string' ? strategy : 'highestQuality' } });
      const price = PROFILES[winner as keyof typeof PROFILES].price;
      expect(await mgr.ask({ type: 'status' })).toMatchObject({ budget: { limit: 100, charged: price, remaining: 100 - price }, open: [], stats: { awarded: 1, done: 1 } });
      expect(m.node.audit.verify()).toMatchObject({ ok: true });
    });
  }
});

describe('deadlines on the node clock', () => {
  it('a bid after the deadline is refused with MARKET_BID_LATE and audited; the round closed at the deadline without it', async () => {
    await spawnBidders({ premium: { replyAfterMs: 80 }, fast: { replyAfterMs: 20 } });
    const mgr = await m.node.spawn(contractNetManager({ bidders: NAMES, strategy: 'best-value', deadlineMs: 50 }), { id: 'mgr' });
    let settled: Outcome | undefined;
    void mgr.ask<Outcome>({ type: 'announce', taskId: 'job-1', maxPrice: 50 }, { timeoutMs: 60_000 }).then((o) => (settled = o));
    await m.run(49);
    expect(settled).toBeUndefined(); // time has not reached the deadline: the round is still open
    await m.run(40);
    expect(settled).toMatchObject({ status: 'done', winner: 'value', bids: 4, awardedAt: 50 });
    const late = m.marketAudit().filter((r) => r.decision === 'bid-late');
    expect(late).toEqual([expect.objectContaining({ actor: 'mgr', subject: 'job-1', reason: expect.stringContaining('arrived after its round'), data: expect.objectContaining({ bidder: 'premium', code: MarketCodes.bidLate }) })]);
    expect(m.events.filter((e) => e.type === '@agentos.market.bid-late')).toHaveLength(1);
    // The late bidder got its rejection (its offer is withdrawn); nothing else moved.
    expect(bidderStats('premium')).toMatchObject({ proposed: 1, lost: 1, won: 0 });
    expect(await mgr.ask({ type: 'status' })).toMatchObject({ budget: { charged: 25 }, stats: { lateBids: 1, bids: 4, awarded: 1 } });
  });

  it('a winner that sends nothing before the execution deadline is cancelled and the task re-announced to the others', async () => {
    await spawnBidders({ cheap: { workMs: 5_000 } });
    const mgr = await m.node.spawn(contractNetManager({ bidders: NAMES, deadlineMs: 50, executionMs: 1_000 }), { id: 'mgr' });
    const outcome = mgr.ask<Outcome>({ type: 'announce', taskId: 'job-1', maxPrice: 50 }, { timeoutMs: 60_000 });
    await m.run(1_200, 100);
    expect(await outcome).toMatchObject({ status: 'done', winner: 'value', attempts: 2, completedAt: 1_000 });
    expect(bidderStats('cheap')).toMatchObject({ won: 1, cancelled: 1, done: 0 });
    await m.run(5_000, 1_000);
    expect(m.marketAudit().filter((r) => r.decision === 'inform-ignored')).toEqual([]); // the cancelled work never informed
  });
});

describe('failures and budgets', () => {
  it("the winner's failure triggers a re-announcement to the others; the failed bidder is not asked again", async () => {
    await spawnBidders({ cheap: { fail: true } });
    const mgr = await m.node.spawn(contractNetManager({ bidders: NAMES, budget: 100 }), { id: 'mgr' });
    const o = mgr.ask<Outcome>({ type: 'announce', taskId: 'job-1', maxPrice: 50 }, { timeoutMs: 60_000 });
    await m.run(0);
    expect(await o).toMatchObject({ status: 'done', winner: 'value', price: 25, attempts: 2 });
    expect(bidderStats('cheap')).toMatchObject({ cfps: 1, won: 1, failed: 1 });
    for (const id of NAMES.filter((n) => n !== 'cheap')) expect(bidderStats(id).cfps).toBe(2);
    const decisions = m.marketAudit().map((r) => r.decision);
    expect(decisions.slice(decisions.indexOf('awarded'))).toEqual(['awarded', 'execution-failed', 'reannounced', 'bid', 'bid', 'bid', 'bid', 'awarded', 'done']);
    const failed = m.marketAudit().find((r) => r.decision === 'execution-failed')!;
    expect(failed).toMatchObject({ reason: expect.stringContaining('winner "cheap" failed: fixed-bidder broke down on job-1'), data: { bidder: 'cheap', refunded: 10, code: MarketCodes.executionFailed } });
    expect(await mgr.ask({ type: 'status' })).toMatchObject({ budget: { charged: 25, refunded: 10, remaining: 75 } });
  });

  it('the budget is charged on award and never exceeded: a bid above what remains is never awarded, and an unaffordable task fails with MARKET_BUDGET_EXHAUSTED', async () => {
    await spawnBidders();
    const highestQuality: AwardStrategy = (ps) => ps.reduce((a, b) => (b.quality > a.quality ? b : a));
    const mgr = await m.node.spawn(contractNetManager({ bidders: NAMES, strategy: highestQuality, budget: { amount: 60, currency: 'EUR' } }), { id: 'mgr' });
    const outcomes: Outcome[] = [];
    for (const id of ['a', 'b', 'c']) {
      const o = mgr.ask<Outcome>({ type: 'announce', taskId: id, maxPrice: 50 }, { timeoutMs: 60_000 });
      await m.run(0);
      outcomes.push(await o);
    }
    // premium (45) first; then only "cheap" (10) fits the 15 left, whatever the strategy prefers; then nothing fits the 5 left.
    expect(outcomes.map((o) => (o.status === 'done' ? `${o.winner}:${o.price}` : o.reason.code))).toEqual(['premium:45', 'cheap:10', MarketCodes.budgetExhausted]);
    expect(await mgr.ask({ type: 'status' })).toMatchObject({ budget: { limit: 60, charged: 55, remaining: 5, currency: 'EUR' } });
    const awards = m.marketAudit().filter((r) => r.decision === 'awarded').map((r) => r.data);
    expect(awards).toEqual([expect.objectContaining({ affordable: 5, charged: 45 }), expect.objectContaining({ affordable: 1, charged: 55 })]);
  });

  it('every bidder failing in turn ends the task with MARKET_RETRIES_EXHAUSTED and a full refund', async () => {
    const fail = { fail: true };
    await spawnBidders({ cheap: fail, fast: fail, value: fail, middling: fail, premium: fail });
    const mgr = await m.node.spawn(contractNetManager({ bidders: NAMES, budget: 100, maxAttempts: 3 }), { id: 'mgr' });
    const o = mgr.ask<Outcome>({ type: 'announce', taskId: 'job-1', maxPrice: 50 }, { timeoutMs: 60_000 });
    await m.run(0);
    expect(await o).toMatchObject({ status: 'failed', attempts: 3, reason: { code: MarketCodes.retriesExhausted } });
    expect(await mgr.ask({ type: 'status' })).toMatchObject({ budget: { charged: 0, refunded: 10 + 25 + 30 } });
  });

  it('a second announce of an open task is refused (MARKET_DUPLICATE_TASK); malformed messages never reach the manager', async () => {
    await spawnBidders();
    const mgr = await m.node.spawn(contractNetManager({ bidders: NAMES, deadlineMs: 50 }), { id: 'mgr' });
    const first = mgr.ask<Outcome>({ type: 'announce', taskId: 'job-1', maxPrice: 50 }, { timeoutMs: 60_000 });
    const second = mgr.ask<Outcome>({ type: 'announce', taskId: 'job-1', maxPrice: 50 }, { timeoutMs: 60_000 });
    await m.run(0);
    expect(await second).toMatchObject({ status: 'failed', reason: { code: MarketCodes.duplicateTask } });
    expect(await first).toMatchObject({ status: 'done' });
    expect(() => mgr.send({ type: 'announce', taskId: 'x', maxPrice: -1 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE', field: 'maxPrice' }));
    expect(() => mgr.send({ type: 'propose', conversationId: 'c', sender: 's', price: 1, etaMs: 1, quality: 2 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE', field: 'quality' }));
    expect(() => mgr.send({ type: 'market.timeout', conversationId: 'c', what: 'deadline' } as never)).toThrow(expect.objectContaining({ code: 'UNKNOWN_MESSAGE_TYPE' }));
  });
});

describe('participants are addressed by id only', () => {
  it('an actor announces with notify and gets the outcome as a message; a bidder ignores a cfp whose sender is forged', async () => {
    const inbox = z.discriminatedUnion('type', [outcomeMessage, z.object({ type: z.literal('go') })]);
    const client = defineAgent({
      name: 'client',
      messages: inbox,
      machine: setup({ types: { context: {} as { outcomes: unknown[] }, events: {} as z.infer<typeof inbox> } }).createMachine({
        context: { outcomes: [] },
        on: {
          go: { actions: tell('mgr', { type: 'announce', taskId: 'job-9', maxPrice: 50, notify: 'client' } as { type: string }) },
          'market.outcome': { actions: assign({ outcomes: ({ context, event }) => [...context.outcomes, event.outcome] }) },
        },
      }),
    });
    await spawnBidders();
    await m.node.spawn(contractNetManager({ bidders: NAMES }), { id: 'mgr' });
    const ref = await m.node.spawn(client, { id: 'client' });
    ref.send({ type: 'go' });
    await m.run(0);
    expect((ref.getSnapshot()!.context as { outcomes: Outcome[] }).outcomes).toEqual([expect.objectContaining({ status: 'done', winner: 'cheap', taskId: 'job-9' })]);

    // A cfp in the manager's name from another actor gets no answer.
    const spy = defineAgent({
      name: 'spy',
      messages: z.object({ type: z.literal('go') }),
      machine: setup({}).createMachine({
        on: { go: { actions: tell('cheap', { type: 'cfp', conversationId: 'fake', sender: 'mgr', taskId: 'x', task: null, maxPrice: 1, replyWithinMs: 1, attempt: 1 } as { type: string }) } },
      }),
    });
    const before = bidderStats('cheap').cfps;
    (await m.node.spawn(spy, { id: 'spy' })).send({ type: 'go' });
    await m.run(0);
    expect(bidderStats('cheap').cfps).toBe(before);
  });

  it('every message between participants is plain JSON carrying its conversation and sender', async () => {
    const seen: unknown[] = [];
    await m.node.spawn(
      bidder({
        name: 'recorder',
        evaluate: (cfp) => (seen.push(cfp), { price: 1, etaMs: 1, quality: 1 }),
        execute: (award) => (seen.push(award), 'ok'),
      }),
      { id: 'r1' },
    );
    const mgr = await m.node.spawn(contractNetManager({ bidders: ['r1'] }), { id: 'mgr' });
    const o = mgr.ask<Outcome>({ type: 'announce', taskId: 't', task: { n: 1 }, maxPrice: 5 }, { timeoutMs: 60_000 });
    await m.run(0);
    expect(await o).toMatchObject({ status: 'done', result: 'ok' });
    expect(JSON.parse(JSON.stringify(seen))).toEqual(seen);
    expect(seen[0]).toMatchObject({ bidder: 'r1', manager: 'mgr', taskId: 't', task: { n: 1 }, maxPrice: 5, conversationId: 'mgr/t/r1', attempt: 1 });
  });
});

describe('options', () => {
  it('bad manager and bidder options are typed errors naming the field', () => {
    expect(() => contractNetManager({ deadlineMs: 0 })).toThrow(expect.objectContaining({ code: 'MARKET_INVALID_OPTIONS', field: 'deadlineMs' }));
    expect(() => contractNetManager({ strategy: 'cheapest' as never })).toThrow(expect.objectContaining({ field: 'strategy' }));
    expect(() => contractNetManager({ budget: -5 })).toThrow(expect.objectContaining({ field: 'budget' }));
    expect(() => contractNetManager({ budget: 500, contract: { budgets: { currency: { amount: 100, code: 'USD' } } } })).toThrow(expect.objectContaining({ field: 'budget' }));
    expect(() => bidder({ evaluate: 1 as never, execute: () => 1 })).toThrow(expect.objectContaining({ code: 'MARKET_INVALID_OPTIONS', field: 'evaluate' }));
  });
});
