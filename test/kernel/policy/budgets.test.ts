import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { BudgetExceeded, ValidationError } from '../../../src/base/errors.js';
import { BudgetLedger, TokenBucket, type BudgetLimits } from '../../../src/kernel/policy/index.js';

function refusal(fn: () => unknown): BudgetExceeded {
  try {
    fn();
  } catch (e) {
    if (e instanceof BudgetExceeded) return e;
    throw e;
  }
  throw new Error('expected BudgetExceeded');
}

describe('TokenBucket', () => {
  it('starts full, refuses beyond its level, and refills on the virtual clock up to capacity', () => {
    const clock = new VirtualClock();
    const b = new TokenBucket({ clock, capacity: 10, refillPerMs: 0.5 });
    expect(b.tryTake(10)).toBe(true);
    expect(b.tryTake(1)).toBe(false);
    clock.advance(4);
    expect(b.available()).toBe(2);
    expect(b.tryTake(3)).toBe(false);
    expect(b.tryTake(2)).toBe(true);
    clock.advance(1_000);
    expect(b.available()).toBe(10);
  });

  it('retryAfterMs is 0 when available, exact when waiting helps, Infinity beyond capacity', () => {
    const clock = new VirtualClock();
    const b = new TokenBucket({ clock, capacity: 10, refillPerMs: 0.25, initial: 0 });
    expect(b.retryAfterMs(0)).toBe(0);
    expect(b.retryAfterMs(3)).toBe(12);
    expect(b.retryAfterMs(11)).toBe(Infinity);
    clock.advance(11);
    expect(b.tryTake(3)).toBe(false);
    clock.advance(1);
    expect(b.tryTake(3)).toBe(true);
  });

  it('reads and refused takes leave the bucket unchanged', () => {
    const clock = new VirtualClock();
    const b = new TokenBucket({ clock, capacity: 5, refillPerMs: 0.001, initial: 1 });
    for (let i = 0; i < 5; i++) {
      expect(b.tryTake(2)).toBe(false);
      b.retryAfterMs(4);
      clock.advance(1);
    }
    expect(b.available()).toBeCloseTo(1.005, 12);
  });

  it('rejects invalid options and token counts with INVALID_POLICY', () => {
    const clock = new VirtualClock();
    expect(() => new TokenBucket({ clock, capacity: 0, refillPerMs: 1 })).toThrow(ValidationError);
    expect(() => new TokenBucket({ clock, capacity: 1, refillPerMs: -1 })).toThrow(/refillPerMs/);
    const b = new TokenBucket({ clock, capacity: 1, refillPerMs: 1 });
    expect(() => b.tryTake(-1)).toThrow(/tokens/);
    expect(() => b.tryTake(Number.NaN)).toThrow(/tokens/);
  });

  const ops = fc.array(fc.record({ dt: fc.integer({ min: 0, max: 50 }), n: fc.integer({ min: 0, max: 12 }) }), {
    minLength: 1,
    maxLength: 120,
  });

  it('property: over any window, granted tokens ≤ capacity + rate × elapsed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0.001, max: 2, noNaN: true }), ops, (capacity, rate, steps) => {
        const clock = new VirtualClock();
        const b = new TokenBucket({ clock, capacity, refillPerMs: rate });
        const grants: { t: number; n: number }[] = [];
        for (const { dt, n } of steps) {
          clock.advance(dt);
          if (b.tryTake(n)) grants.push({ t: clock.now(), n });
        }
        for (let i = 0; i < grants.length; i++) {
          let sum = 0;
          for (let j = i; j < grants.length; j++) {
            sum += grants[j].n;
            const bound = capacity + rate * (grants[j].t - grants[i].t);
            expect(sum).toBeLessThanOrEqual(bound + 1e-9 * Math.max(1, bound));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: waiting retryAfterMs(n) is enough to take n (when n ≤ capacity)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.double({ min: 1e-4, max: 5, noNaN: true }), ops, (capacity, rate, steps) => {
        const clock = new VirtualClock();
        const b = new TokenBucket({ clock, capacity, refillPerMs: rate });
        for (const { dt, n } of steps) {
          clock.advance(dt);
          b.tryTake(n);
        }
        const want = Math.min(capacity, steps[0].n + 1);
        const wait = b.retryAfterMs(want);
        expect(Number.isFinite(wait)).toBe(true);
        clock.advance(wait);
        expect(b.tryTake(want)).toBe(true);
      }),
    );
  });
});

describe('BudgetLedger', () => {
  it('charges the tenant and the actor buckets together', () => {
    const clock = new VirtualClock();
    const ledger = new BudgetLedger({ clock, tenants: { t1: { tpm: 1_000 } } });
    ledger.setActor('a1', { tps: 100, tokens: 500 });
    ledger.charge({ tenant: 't1', actor: 'a1', tokens: 60 });
    expect(ledger.snapshot('tenant', 't1')).toEqual([{ budget: 'tpm', limit: 1_000, available: 940 }]);
    expect(ledger.snapshot('actor', 'a1')).toEqual([
      { budget: 'tps', limit: 100, available: 40 },
      { budget: 'tokens', limit: 500, available: 440 },
    ]);
  });

  it('refuses with BUDGET_EXCEEDED naming the budget, its limit and the retry-after', () => {
    const clock = new VirtualClock();
    const ledger = new BudgetLedger({ clock });
    ledger.setActor('a1', { tps: 100 });
    ledger.charge({ tenant: 't1', actor: 'a1', tokens: 90 });
    const err = refusal(() => ledger.charge({ tenant: 't1', actor: 'a1', tokens: 30 }));
    expect(err.code).toBe('BUDGET_EXCEEDED');
    expect(err.message).toContain('actor "a1" tokens-per-second limit 100');
    expect(err.message).toContain('retry after 200 ms');
    expect(err.details).toMatchObject({ scope: 'actor', id: 'a1', budget: 'tps', limit: 100, requested: 30, retryAfterMs: 200 });
    clock.advance(200);
    expect(() => ledger.charge({ tenant: 't1', actor: 'a1', tokens: 30 })).not.toThrow();
  });

  it('an absolute cap says waiting will not help', () => {
    const clock = new VirtualClock();
    const ledger = new BudgetLedger({ clock, tenants: { t1: { tokens: 100 } } });
    ledger.charge({ tenant: 't1', actor: 'a1', tokens: 100 });
    const err = refusal(() => ledger.charge({ tenant: 't1', actor: 'a1', tokens: 1 }));
    expect(err.message).toContain('tenant "t1" absolute token limit 100');
    expect(err.message).toContain('waiting will not help');
    expect(err.details?.retryAfterMs).toBeNull();
    expect(JSON.parse(JSON.stringify(err.toJSON())).details.retryAfterMs).toBeNull();
  });

  it('reports the budget that binds longest when several refuse', () => {
    const clock = new VirtualClock();
    const ledger = new BudgetLedger({ clock, tenants: { t1: { tps: 10, tpm: 20 } } });
    ledger.charge({ tenant: 't1', actor: 'a', tokens: 10 });
    clock.advance(1_000);
    ledger.charge({ tenant: 't1', actor: 'a', tokens: 10 });
    // Both are short now: tps refills 10 in 1 s, tpm needs ~29 s for the same 10.
    expect(ledger.check({ tenant: 't1', actor: 'a', tokens: 10 })).toMatchObject({ budget: 'tpm', retryAfterMs: 29_000 });
    const err = refusal(() => ledger.charge({ tenant: 't1', actor: 'a', tokens: 10 }));
    expect(err.details).toMatchObject({ budget: 'tpm' });
  });

  it('a refused charge takes nothing, even from the buckets that had room', () => {
    const clock = new VirtualClock();
    const ledger = new BudgetLedger({ clock, tenants: { t1: { tpm: 1_000 } } });
    ledger.setActor('a1', { tps: 10 });
    expect(() => ledger.charge({ tenant: 't1', actor: 'a1', tokens: 50 })).toThrow(BudgetExceeded);
    expect(ledger.snapshot('tenant', 't1')[0].available).toBe(1_000);
  });

  it('limits without a meter, and removed limits, charge nothing', () => {
    const clock = new VirtualClock();
    const ledger = new BudgetLedger({ clock });
    ledger.setActor('a1', {});
    expect(ledger.hasLimits('t1', 'a1')).toBe(false);
    ledger.setActor('a1', { tokens: 1 });
    ledger.setActor('a1', undefined);
    expect(ledger.hasLimits('t1', 'a1')).toBe(false);
    expect(() => ledger.charge({ tenant: 't1', actor: 'a1', tokens: 1e9 })).not.toThrow();
  });

  it('rejects invalid limits with INVALID_POLICY naming the field', () => {
    const ledger = new BudgetLedger({ clock: new VirtualClock() });
    let err: unknown;
    try {
      ledger.setTenant('t1', { tpm: -5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('tenant.tpm');
  });

  const limits: fc.Arbitrary<BudgetLimits> = fc.record(
    { tpm: fc.integer({ min: 1, max: 600 }), tps: fc.integer({ min: 1, max: 60 }), tokens: fc.integer({ min: 0, max: 2_000 }) },
    { requiredKeys: [] },
  );

  it('property: a refused charge changes no meter; an accepted one takes the same amount from every meter', () => {
    fc.assert(
      fc.property(
        limits,
        limits,
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 3_000 }), tokens: fc.integer({ min: 0, max: 80 }) }), { maxLength: 60 }),
        (tenantLimits, actorLimits, steps) => {
          const clock = new VirtualClock();
          const ledger = new BudgetLedger({ clock });
          ledger.setTenant('t1', tenantLimits);
          ledger.setActor('a1', actorLimits);
          const all = (): number[] => [...ledger.snapshot('tenant', 't1'), ...ledger.snapshot('actor', 'a1')].map((m) => m.available);
          for (const { dt, tokens } of steps) {
            clock.advance(dt);
            const before = all();
            let refused = false;
            try {
              ledger.charge({ tenant: 't1', actor: 'a1', tokens });
            } catch (e) {
              expect(e).toBeInstanceOf(BudgetExceeded);
              refused = true;
            }
            const after = all();
            if (refused) expect(after).toEqual(before);
            else after.forEach((v, i) => expect(v).toBeCloseTo(before[i] - tokens, 9));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
