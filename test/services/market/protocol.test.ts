// The manager's protocol as a pure function: scripted steps for the edge cases,
// and a fast-check property that drives random interleavings of bids, refusals,
// late and forged messages, failures and timeouts through it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/base/rng.js';
import { MarketCodes } from '../../../src/services/market/errors.js';
import { canPay, remainingMicros, toMicros } from '../../../src/services/market/ledger.js';
import { initialState, step, type ProtocolEvent } from '../../../src/services/market/protocol.js';
import { bestValue, earliestEta, lowestPrice, strategyByName, type Proposal } from '../../../src/services/market/strategies.js';
import type { Effect, ManagerState, Outcome, ProtocolConfig } from '../../../src/services/market/types.js';

const config = (over: Partial<ProtocolConfig> = {}): ProtocolConfig => ({
  bidders: ['b1', 'b2', 'b3'],
  deadlineMs: 100,
  executionMs: 1000,
  maxAttempts: 3,
  strategy: lowestPrice,
  strategyName: 'lowest-price',
  earlyClose: true,
  keepOutcomes: 100,
  ...over,
});

/** Feed events one after another; `from` defaults to the message's own sender. */
function run(cfg: ProtocolConfig, events: Array<ProtocolEvent | [ProtocolEvent, string | undefined]>, budget?: number) {
  let state = initialState(budget, 'credits');
  const effects: Effect[] = [];
  let now = 0;
  for (const item of events) {
    const [event, from] = Array.isArray(item) ? item : [item, 'sender' in item ? item.sender : undefined];
    const out = step(state, cfg, event, { self: 'mgr', from, now: now++, requester: event.type === 'announce' ? { replyTo: '@ask', correlationId: event.taskId } : undefined });
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

const announce = (taskId: string, maxPrice = 50): ProtocolEvent => ({ type: 'announce', taskId, maxPrice });
const propose = (cid: string, sender: string, price: number, etaMs = 10, quality = 0.5): ProtocolEvent => ({ type: 'propose', conversationId: cid, sender, price, etaMs, quality });
const audits = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { kind: 'audit' }> => e.kind === 'audit');
const replies = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { kind: 'reply' }> => e.kind === 'reply').map((e) => e.value);
const sentTo = (effects: Effect[], to: string) => effects.filter((e) => e.kind === 'send' && e.to === to).map((e) => (e as Extract<Effect, { kind: 'send' }>).message);

describe('award strategies', () => {
  const ps: Proposal[] = [
    { bidder: 'cheap', price: 10, etaMs: 500, quality: 0.3 },
    { bidder: 'fast', price: 40, etaMs: 50, quality: 0.6 },
    { bidder: 'value', price: 25, etaMs: 200, quality: 0.95 },
    { bidder: 'tie-cheap', price: 10, etaMs: 400, quality: 0.3 },
  ];
  const ctx = { taskId: 't', task: null, maxPrice: 50, attempt: 1, remainingBudget: Infinity };
  it('lowest price (ties: quality, then ETA), earliest ETA, best value by weighted score', () => {
    expect(lowestPrice(ps, ctx)).toMatchObject({ bidder: 'tie-cheap' });
    expect(earliestEta(ps, ctx)).toMatchObject({ bidder: 'fast' });
    expect(bestValue()(ps, ctx)).toMatchObject({ bidder: 'value' });
    expect(bestValue({ quality: 0, price: 0, eta: 1 })(ps, ctx)).toMatchObject({ bidder: 'fast' });
    expect(strategyByName('best-value')(ps, ctx)).toMatchObject({ bidder: 'value' });
  });
  it('unknown names and bad weights are typed errors naming the field', () => {
    expect(() => strategyByName('cheapest')).toThrow(expect.objectContaining({ code: 'MARKET_INVALID_OPTIONS', field: 'strategy' }));
    expect(() => bestValue({ price: -1 })).toThrow(expect.objectContaining({ code: 'MARKET_INVALID_OPTIONS', field: 'price' }));
  });
});

describe('contract-net protocol (pure)', () => {
  it('announces to every bidder, awards the cheapest once all answered, rejects the rest, charges the budget', () => {
    const cid = 'mgr/t1/r1';
    const { state, effects } = run(config(), [announce('t1'), propose(cid, 'b1', 30), propose(cid, 'b2', 20), { type: 'refuse', conversationId: cid, sender: 'b3' }], 100);
    expect(sentTo(effects, 'b3')[0]).toMatchObject({ type: 'cfp', conversationId: cid, taskId: 't1', maxPrice: 50, replyWithinMs: 100 });
    expect(sentTo(effects, 'b2').map((m) => m.type)).toEqual(['cfp', 'accept-proposal']);
    expect(sentTo(effects, 'b1')[1]).toMatchObject({ type: 'reject-proposal', reason: { code: MarketCodes.notSelected } });
    expect(effects).toContainEqual({ kind: 'cancel-timer', id: `deadline:${cid}` });
    expect(state.tasks.t1).toMatchObject({ phase: 'executing', winner: { bidder: 'b2', price: 20 } });
    expect(state.ledger.charged).toBe(toMicros(20));
    expect(audits(effects).map((a) => a.decision)).toEqual(['announced', 'bid', 'bid', 'declined', 'awarded']);
  });

  it('a proposal after the deadline is refused as MARKET_BID_LATE, audited, and changes nothing else', () => {
    const cid = 'mgr/t1/r1';
    const before = run(config(), [announce('t1'), propose(cid, 'b1', 30), { type: 'market.timeout', conversationId: cid, what: 'deadline' }], 100);
    const after = step(before.state, config(), propose(cid, 'b2', 5), { self: 'mgr', from: 'b2', now: 99 });
    expect(after.state.tasks).toEqual(before.state.tasks);
    expect(after.state.ledger).toEqual(before.state.ledger);
    expect(after.state.stats.lateBids).toBe(1);
    expect(after.effects).toEqual([
      expect.objectContaining({ kind: 'audit', decision: 'bid-late', reason: expect.objectContaining({ code: 'MARKET_BID_LATE' }) }),
      expect.objectContaining({ kind: 'send', to: 'b2', message: expect.objectContaining({ type: 'reject-proposal', reason: expect.objectContaining({ code: 'MARKET_BID_LATE' }) }) }),
    ]);
  });

  it('refuses forged, uninvited, duplicate and over-price proposals with their codes', () => {
    const cid = 'mgr/t1/r1';
    const { effects, state } = run(config(), [
      announce('t1', 50),
      [propose(cid, 'b1', 10), 'mallory'],
      propose(cid, 'stranger', 10),
      propose(cid, 'b2', 60),
      propose(cid, 'b3', 30),
      propose(cid, 'b3', 1),
      propose('mgr/nope/r9', 'b1', 1),
    ]);
    const codes = audits(effects).filter((a) => a.decision === 'bid-refused').map((a) => a.reason?.code);
    expect(codes).toEqual([MarketCodes.senderMismatch, MarketCodes.notInvited, MarketCodes.overMaxPrice, MarketCodes.duplicateBid, MarketCodes.unknownConversation]);
    // The rejection of a forged proposal goes to whoever really sent it, not to the name it used.
    expect(sentTo(effects, 'mallory')[0]).toMatchObject({ type: 'reject-proposal', reason: { code: MarketCodes.senderMismatch } });
    expect(state.tasks.t1!.proposals.map((p) => p.bidder)).toEqual(['b3']);
    expect(state.tasks.t1!.phase).toBe('collecting'); // b1 has not answered (the forged one did not count)
  });

  it('a winner that fails is refunded, excluded, and the task announced again to the others', () => {
    const r1 = 'mgr/t1/r1';
    const r2 = 'mgr/t1/r2';
    const { state, effects } = run(
      config(),
      [announce('t1'), propose(r1, 'b1', 10), propose(r1, 'b2', 20), propose(r1, 'b3', 30), { type: 'failure', conversationId: r1, sender: 'b1', reason: 'disk full' }, propose(r2, 'b2', 20), propose(r2, 'b3', 30), { type: 'inform', conversationId: r2, sender: 'b2', result: { ok: true } }],
      100,
    );
    expect(sentTo(effects, 'b1').filter((m) => m.type === 'cfp')).toHaveLength(1);
    expect(sentTo(effects, 'b3').filter((m) => m.type === 'cfp')).toHaveLength(2);
    expect(audits(effects).map((a) => a.decision)).toContain('reannounced');
    expect(replies(effects)).toEqual([expect.objectContaining({ status: 'done', winner: 'b2', price: 20, attempts: 2, result: { ok: true }, conversations: [r1, r2] })]);
    expect(state.ledger).toMatchObject({ charged: toMicros(20), refunded: toMicros(10) });
    expect(state.tasks).toEqual({});
  });

  it('no affordable proposal fails the task with MARKET_BUDGET_EXHAUSTED; the strategy never sees an unaffordable bid', () => {
    const seen: number[][] = [];
    const cfg = config({ strategy: (ps) => (seen.push(ps.map((p) => p.price)), ps.reduce((a, b) => (b.quality > a.quality ? b : a))), strategyName: 'best-quality' });
    const r1 = 'mgr/t1/r1';
    const r2 = 'mgr/t2/r2';
    const { effects, state } = run(
      cfg,
      [announce('t1'), propose(r1, 'b1', 10, 1, 0.1), propose(r1, 'b2', 20, 1, 0.9), propose(r1, 'b3', 12, 1, 0.5), announce('t2'), propose(r2, 'b1', 10), propose(r2, 'b2', 11), { type: 'refuse', conversationId: r2, sender: 'b3' }],
      25,
    );
    expect(seen[0]).toEqual([10, 20, 12]);
    expect(state.tasks.t1!.winner!.bidder).toBe('b2');
    expect(replies(effects)).toEqual([expect.objectContaining({ taskId: 't2', status: 'failed', reason: expect.objectContaining({ code: MarketCodes.budgetExhausted }) })]);
    expect(seen).toHaveLength(1);
  });

  it('an execution timeout cancels the winner; when attempts run out the task fails with MARKET_RETRIES_EXHAUSTED', () => {
    const r1 = 'mgr/t1/r1';
    const { effects, state } = run(config({ bidders: ['b1'], maxAttempts: 1 }), [announce('t1'), propose(r1, 'b1', 10), { type: 'market.timeout', conversationId: r1, what: 'execution' }, { type: 'inform', conversationId: r1, sender: 'b1', result: 1 }], 100);
    expect(sentTo(effects, 'b1').map((m) => m.type)).toEqual(['cfp', 'accept-proposal', 'cancel']);
    expect(replies(effects)).toEqual([expect.objectContaining({ status: 'failed', reason: expect.objectContaining({ code: MarketCodes.retriesExhausted }) })]);
    expect(audits(effects).at(-1)).toMatchObject({ decision: 'inform-ignored', reason: { code: MarketCodes.bidLate } });
    expect(state.ledger.charged).toBe(0);
  });

  it('an announce for a task still open is refused (MARKET_DUPLICATE_TASK); once settled the id may be used again', () => {
    const { effects, state } = run(config({ bidders: ['b1'] }), [announce('t1'), announce('t1'), { type: 'refuse', conversationId: 'mgr/t1/r1', sender: 'b1' }, announce('t1')]);
    expect(replies(effects).map((o) => (o.status === 'failed' ? o.reason.code : o.status))).toEqual([MarketCodes.duplicateTask, MarketCodes.noBids]);
    expect(state.tasks.t1!.conversationId).toBe('mgr/t1/r2');
  });
});

// ── the property ──────────────────────────────────────────────────────────

type Pending = { kind: 'msg'; event: ProtocolEvent; from: string | undefined } | { kind: 'timer'; id: string; event: ProtocolEvent };

/**
 * Random interleavings: simulated bidders answer each cfp (propose at a random
 * price, refuse, or stay silent), winners inform, fail or never answer; extra
 * late and forged proposals are injected; delivery order is random.
 */
function simulate(seed: number, tasks: number, bidders: number, budget: number | undefined, maxAttempts: number) {
  const rng = seededRng(seed);
  const cfg = config({ bidders: Array.from({ length: bidders }, (_, i) => `b${i}`), maxAttempts, strategy: [lowestPrice, earliestEta, bestValue()][seed % 3]!, strategyName: 's' });
  let state: ManagerState = initialState(budget, 'credits');
  const pending: Pending[] = [];
  for (let i = 0; i < tasks; i++) pending.push({ kind: 'msg', event: { type: 'announce', taskId: `t${i}`, maxPrice: 10 + rng.int(90) }, from: undefined });
  const outcomes = new Map<string, Outcome>();
  const executing = new Map<string, number>(); // task → awards not yet settled
  let donePrices = 0;
  let now = 0;
  for (let steps = 0; pending.length > 0; steps++) {
    if (steps > 100_000) throw new Error('no progress');
    const item = pending.splice(rng.int(pending.length), 1)[0]!;
    now += rng.int(5);
    const out = step(state, cfg, item.event, { self: 'mgr', from: item.kind === 'msg' ? item.from : undefined, now, requester: item.event.type === 'announce' ? { replyTo: '@ask', correlationId: item.event.taskId } : undefined });
    state = out.state;
    for (const e of out.effects) {
      if (e.kind === 'timer') pending.push({ kind: 'timer', id: e.id, event: e.event });
      else if (e.kind === 'cancel-timer') {
        const i = pending.findIndex((p) => p.kind === 'timer' && p.id === e.id);
        if (i >= 0) pending.splice(i, 1);
      } else if (e.kind === 'reply') {
        expect(outcomes.has(e.value.taskId), `task ${e.value.taskId} settled twice`).toBe(false);
        outcomes.set(e.value.taskId, e.value);
        if (e.value.status === 'done') donePrices += toMicros(e.value.price);
        else expect(Object.values(MarketCodes)).toContain(e.value.reason.code);
      } else if (e.kind === 'audit' && e.decision === 'awarded') {
        const n = (executing.get(e.subject) ?? 0) + 1;
        expect(n, `task ${e.subject} awarded twice at once`).toBe(1);
        executing.set(e.subject, n);
      } else if (e.kind === 'audit' && (e.decision === 'execution-failed' || e.decision === 'done')) {
        executing.set(e.subject, (executing.get(e.subject) ?? 0) - 1);
      } else if (e.kind === 'send') {
        const m = e.message;
        const sender = e.to;
        if (m.type === 'cfp') {
          const r = rng.next();
          if (r < 0.7) pending.push({ kind: 'msg', event: { type: 'propose', conversationId: m.conversationId, sender, price: rng.int(120), etaMs: rng.int(1000), quality: rng.next() }, from: sender });
          else if (r < 0.9) pending.push({ kind: 'msg', event: { type: 'refuse', conversationId: m.conversationId, sender }, from: sender });
          if (rng.next() < 0.1) pending.push({ kind: 'msg', event: { type: 'propose', conversationId: m.conversationId, sender: 'b0', price: 0, etaMs: 0, quality: 1 }, from: 'mallory' });
        } else if (m.type === 'accept-proposal') {
          const r = rng.next();
          if (r < 0.6) pending.push({ kind: 'msg', event: { type: 'inform', conversationId: m.conversationId, sender, result: { ok: true } }, from: sender });
          else if (r < 0.85) pending.push({ kind: 'msg', event: { type: 'failure', conversationId: m.conversationId, sender, reason: 'broke' }, from: sender });
          // else: silent, the execution timer fails it
          if (rng.next() < 0.2) pending.push({ kind: 'msg', event: { type: 'propose', conversationId: m.conversationId, sender, price: 1, etaMs: 1, quality: 1 }, from: sender });
        }
      }
    }
    // Invariants after every step.
    const l = state.ledger;
    if (l.limit !== null) expect(l.charged).toBeLessThanOrEqual(l.limit);
    const inFlight = Object.values(state.tasks).reduce((sum, t) => sum + (t.phase === 'executing' ? toMicros(t.winner!.price) : 0), 0);
    expect(l.charged).toBe(inFlight + donePrices);
    for (const t of Object.values(state.tasks)) {
      expect(t.phase === 'executing').toBe(t.winner !== null);
      if (t.winner) expect(t.winner.price).toBeLessThanOrEqual(t.maxPrice);
    }
  }
  return { state, outcomes, cfg };
}

describe('contract-net protocol properties', () => {
  it('over random bids, refusals, late and forged messages, failures and timeouts: total charged ≤ budget, one winner per task at a time, every task ends done or failed with a typed reason', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
        fc.integer({ min: 1, max: 4 }),
        (seed, tasks, bidders, budget, maxAttempts) => {
          const { state, outcomes } = simulate(seed, tasks, bidders, budget, maxAttempts);
          expect(state.tasks).toEqual({});
          expect([...outcomes.keys()].sort()).toEqual(Array.from({ length: tasks }, (_, i) => `t${i}`).sort());
          for (const o of outcomes.values()) {
            expect(o.attempts).toBeLessThanOrEqual(maxAttempts);
            if (o.status === 'done') expect(o.price).toBeGreaterThanOrEqual(0);
          }
          // Everything charged is paid for a finished task.
          const done = [...outcomes.values()].filter((o) => o.status === 'done').reduce((s, o) => s + toMicros((o as { price: number }).price), 0);
          expect(state.ledger.charged).toBe(done);
          if (budget !== undefined) expect(remainingMicros(state.ledger)).toBeGreaterThanOrEqual(0);
          expect(canPay(state.ledger, 0)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
