// Reservations settled with actual usage, and budget alerts: the ledger's
// totals follow what calls really used, never go negative, and a limit's alert
// is raised once per window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { ValidationError } from '../../../src/base/errors.js';
import { BudgetLedger, TokenBucket, type BudgetAlert } from '../../../src/kernel/policy/budgets.js';

const party = { tenant: 't1', actor: 'a1' };
const usedOf = (l: BudgetLedger, scope: 'tenant' | 'actor', id: string, budget: string): number => {
  const m = l.snapshot(scope, id).find((s) => s.budget === budget)!;
  return m.limit - m.available;
};

describe('TokenBucket refund and debit', () => {
  it('a refund puts tokens back up to capacity; a debit may take the level below zero, and the refill pays it off first', () => {
    const clock = new VirtualClock();
    const b = new TokenBucket({ clock, capacity: 10, refillPerMs: 1 });
    expect(b.tryTake(8)).toBe(true);
    b.refund(5);
    expect(b.available()).toBe(7);
    b.refund(100);
    expect(b.available()).toBe(10);
    b.debit(14);
    expect(b.available()).toBe(-4);
    expect(b.canTake(1)).toBe(false);
    expect(b.retryAfterMs(1)).toBe(5);
    clock.advance(5);
    expect(b.tryTake(1)).toBe(true);
  });
});

describe('BudgetLedger.settle', () => {
  it('refunds the unused part of a reservation to every meter and to spent()', () => {
    const clock = new VirtualClock();
    const l = new BudgetLedger({ clock, tenants: { t1: { tokens: 1000 } } });
    l.setActor('a1', { tpm: 600, tokens: 500 });
    l.charge({ ...party, tokens: 300 });
    expect(l.settle(party, 300, 120)).toBe(-180);
    expect(l.spent('a1')).toBe(120);
    expect(usedOf(l, 'tenant', 't1', 'tokens')).toBe(120);
    expect(usedOf(l, 'actor', 'a1', 'tokens')).toBe(120);
    expect(usedOf(l, 'actor', 'a1', 'tpm')).toBe(120);
  });

  it('charges an overrun even past the limit (the tokens are spent) and refuses the next charge until it is paid off', () => {
    const clock = new VirtualClock();
    const l = new BudgetLedger({ clock });
    l.setActor('a1', { tpm: 600, tokens: 500 });
    l.charge({ ...party, tokens: 400 });
    expect(l.settle(party, 400, 700)).toBe(300);
    expect(l.spent('a1')).toBe(700);
    expect(usedOf(l, 'actor', 'a1', 'tokens')).toBe(700);
    expect(l.check({ ...party, tokens: 1 })).toMatchObject({ budget: 'tokens', retryAfterMs: Infinity });
    // The per-minute bucket goes 100 into debt: 10 s of refill (10/s) pays it off, 50 s more buys 500.
    l.setActor('a2', { tpm: 600 });
    l.charge({ tenant: 't1', actor: 'a2', tokens: 600 });
    l.settle({ tenant: 't1', actor: 'a2' }, 600, 700);
    expect(l.snapshot('actor', 'a2')[0]!.available).toBe(-100);
    clock.advance(10_000);
    expect(l.snapshot('actor', 'a2')[0]!.available).toBe(0);
    clock.advance(50_000);
    expect(l.snapshot('actor', 'a2')[0]!.available).toBe(500);
  });

  it('an actor that stopped meanwhile settles with its tenant only, and is not brought back', () => {
    const clock = new VirtualClock();
    const l = new BudgetLedger({ clock, tenants: { t1: { tokens: 1000 } } });
    l.setActor('a1', { tokens: 500 });
    l.charge({ ...party, tokens: 300 });
    l.setActor('a1', undefined);
    l.settle(party, 300, 50);
    expect(usedOf(l, 'tenant', 't1', 'tokens')).toBe(50);
    expect(l.spent('a1')).toBe(0);
    expect(l.snapshot('actor', 'a1')).toEqual([]);
  });

  it('restoreSpent after settlements restores what was actually used', () => {
    const clock = new VirtualClock();
    const l = new BudgetLedger({ clock });
    l.setActor('a1', { tokens: 1000 });
    l.charge({ ...party, tokens: 400 });
    l.settle(party, 400, 90);
    const checkpointed = l.spent('a1');
    const after = new BudgetLedger({ clock });
    after.setActor('a1', { tokens: 1000 });
    after.restoreSpent('a1', checkpointed);
    expect(after.spent('a1')).toBe(90);
    expect(usedOf(after, 'actor', 'a1', 'tokens')).toBe(90);
  });

  it('refuses negative or non-finite reserved/actual with INVALID_POLICY naming the field', () => {
    const l = new BudgetLedger({ clock: new VirtualClock() });
    expect(() => l.settle(party, -1, 0)).toThrow(ValidationError);
    expect(() => l.settle(party, 0, Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_POLICY', field: 'actual' }));
    expect(() => new BudgetLedger({ clock: new VirtualClock(), alertAt: 1.5 })).toThrow(expect.objectContaining({ field: 'alertAt' }));
  });

  it('property: for any sequence of reserve/settle, spent() and every cap equal the actuals settled plus the reservations outstanding, never negative', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('reserve' as const), actor: fc.constantFrom('a1', 'a2'), tokens: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), actual: fc.integer({ min: 0, max: 600 }) }),
      fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 30_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = new VirtualClock();
        const l = new BudgetLedger({ clock, tenants: { t1: { tokens: 5_000, tpm: 2_000 } } });
        l.setActor('a1', { tokens: 1_500, tpm: 900 });
        l.setActor('a2', {});
        const open: { actor: string; tokens: number }[] = [];
        const total = { a1: 0, a2: 0 } as Record<string, number>;
        for (const o of ops) {
          if (o.op === 'wait') clock.advance(o.ms);
          else if (o.op === 'reserve') {
            if (l.check({ tenant: 't1', actor: o.actor, tokens: o.tokens }) !== undefined) continue;
            l.charge({ tenant: 't1', actor: o.actor, tokens: o.tokens });
            open.push({ actor: o.actor, tokens: o.tokens });
            total[o.actor]! += o.tokens;
          } else if (open.length > 0) {
            const [r] = open.splice(o.pick % open.length, 1);
            expect(l.settle({ tenant: 't1', actor: r!.actor }, r!.tokens, o.actual)).toBe(o.actual - r!.tokens);
            total[r!.actor]! += o.actual - r!.tokens;
          }
          for (const a of ['a1', 'a2']) {
            expect(l.spent(a)).toBe(total[a]);
            expect(l.spent(a)).toBeGreaterThanOrEqual(0);
          }
          expect(usedOf(l, 'actor', 'a1', 'tokens')).toBe(total.a1);
          expect(usedOf(l, 'tenant', 't1', 'tokens')).toBe(total.a1! + total.a2!);
          for (const m of [...l.snapshot('tenant', 't1'), ...l.snapshot('actor', 'a1')]) expect(m.available).toBeLessThanOrEqual(m.limit);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('budget alerts', () => {
  it('raises one alert when spending crosses 80% of a limit, and again only in the next window', () => {
    const clock = new VirtualClock(1_000);
    const l = new BudgetLedger({ clock });
    const alerts: BudgetAlert[] = [];
    l.onAlert((a) => alerts.push(a));
    l.setActor('a1', { tpm: 1000 });
    l.charge({ ...party, tokens: 700 });
    expect(alerts).toEqual([]);
    l.charge({ ...party, tokens: 150 });
    expect(alerts).toEqual([{ scope: 'actor', id: 'a1', budget: 'tpm', limit: 1000, used: 850, threshold: 0.8, tenant: 't1', actor: 'a1', at: 1_000 }]);
    l.charge({ ...party, tokens: 100 });
    clock.advance(30_000);
    l.charge({ ...party, tokens: 450 });
    expect(alerts).toHaveLength(1);
    clock.advance(30_000);
    l.charge({ ...party, tokens: 400 });
    expect(alerts.map((a) => [a.at, a.used])).toEqual([
      [1_000, 850],
      [61_000, 800],
    ]);
  });

  it('an absolute cap alerts once; an overrun at settlement can cross the threshold too; alertAt is configurable', () => {
    const clock = new VirtualClock();
    const l = new BudgetLedger({ clock, alertAt: 0.5, tenants: { t1: { tokens: 100 } } });
    const alerts: BudgetAlert[] = [];
    const stop = l.onAlert((a) => alerts.push(a));
    l.charge({ ...party, tokens: 10 });
    l.settle(party, 10, 60);
    expect(alerts.map((a) => [a.scope, a.id, a.budget, a.used])).toEqual([['tenant', 't1', 'tokens', 60]]);
    clock.advance(1e9);
    l.charge({ ...party, tokens: 30 });
    expect(alerts).toHaveLength(1);
    stop();
    l.setTenant('t1', { tokens: 100 });
    l.charge({ ...party, tokens: 90 });
    expect(alerts).toHaveLength(1);
  });
});
