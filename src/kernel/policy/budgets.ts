// Token budgets on the injected Clock: a TokenBucket per rate limit, and a
// BudgetLedger holding per-tenant and per-actor tokens-per-minute, tokens-per-
// second and absolute caps, charged atomically: all meters, or none. A charge
// made up front (a reservation) is settled later with what was actually used:
// the unused part is refunded, an overrun is charged even past the limit (the
// tokens are spent). Crossing a share of a limit raises one alert per window.

import type { Clock } from '../../base/clock.js';
import { BudgetExceeded, ValidationError } from '../../base/errors.js';
import { PolicyCodes } from './codes.js';

export interface TokenBucketOptions {
  clock: Clock;
  /** Most tokens the bucket holds (the largest burst). */
  capacity: number;
  /** Tokens added per millisecond, up to `capacity`. */
  refillPerMs: number;
  /** Starting level; defaults to `capacity`. */
  initial?: number;
}

/**
 * The level is stored as (level, since) and only written on a take, so reads
 * (`available`, `retryAfterMs`, a refused `tryTake`) never change the bucket.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerMs: number;
  private readonly clock: Clock;
  private level: number;
  private since: number;

  constructor(options: TokenBucketOptions) {
    this.clock = options.clock;
    this.capacity = positive(options.capacity, 'capacity');
    this.refillPerMs = nonNegative(options.refillPerMs, 'refillPerMs');
    this.level = options.initial === undefined ? this.capacity : Math.min(this.capacity, nonNegative(options.initial, 'initial'));
    this.since = this.clock.now();
  }

  /** Tokens available now. */
  available(): number {
    return this.levelAt(this.clock.now());
  }

  canTake(n: number): boolean {
    return nonNegative(n, 'tokens') <= this.available();
  }

  tryTake(n: number): boolean {
    const now = this.clock.now();
    const level = this.levelAt(now);
    if (nonNegative(n, 'tokens') > level) return false;
    this.level = level - n;
    this.since = now;
    return true;
  }

  /** Milliseconds until `n` tokens are available: 0 if now, Infinity if never. */
  retryAfterMs(n: number): number {
    const now = this.clock.now();
    const missing = nonNegative(n, 'tokens') - this.levelAt(now);
    if (missing <= 0) return 0;
    if (n > this.capacity || this.refillPerMs === 0) return Infinity;
    let wait = Math.ceil(missing / this.refillPerMs);
    // Guard against floating-point shortfall: the promise must hold when kept.
    while (this.levelAt(now + wait) < n) wait++;
    return wait;
  }

  /** Put back `n` tokens taken earlier (a reservation not used), up to capacity. */
  refund(n: number): void {
    const now = this.clock.now();
    this.level = Math.min(this.capacity, this.levelAt(now) + nonNegative(n, 'tokens'));
    this.since = now;
  }

  /** Take `n` tokens even if they are not there: the level goes negative (a debt the refill pays off first). */
  debit(n: number): void {
    const now = this.clock.now();
    this.level = this.levelAt(now) - nonNegative(n, 'tokens');
    this.since = now;
  }

  private levelAt(now: number): number {
    const elapsed = now - this.since;
    return elapsed <= 0 ? this.level : Math.min(this.capacity, this.level + elapsed * this.refillPerMs);
  }
}

export interface BudgetLimits {
  /** Tokens per minute: bucket of this capacity refilling over 60 s. */
  tpm?: number;
  /** Tokens per second: bucket of this capacity refilling over 1 s. */
  tps?: number;
  /** Absolute cap on tokens ever charged. */
  tokens?: number;
}

export type BudgetName = 'tpm' | 'tps' | 'tokens';
export type BudgetScope = 'tenant' | 'actor';

/** Whose budgets a charge goes to. */
export interface BudgetParty {
  tenant: string;
  actor: string;
}

export interface ChargeRequest extends BudgetParty {
  tokens: number;
}

/** Spending crossed `threshold` of a limit: raised once per window (the rate's period; once for an absolute cap). */
export interface BudgetAlert {
  scope: BudgetScope;
  /** The tenant or actor whose limit it is. */
  id: string;
  budget: BudgetName;
  limit: number;
  /** Tokens used of the limit now (within the rate's window for tpm/tps). */
  used: number;
  /** The share of the limit that raises an alert (0–1). */
  threshold: number;
  /** The charge that crossed it. */
  tenant: string;
  actor: string;
  at: number;
}

/** Default share of a limit at which a budget alert is raised. */
export const DEFAULT_ALERT_AT = 0.8;

export interface BudgetRefusal {
  scope: BudgetScope;
  id: string;
  budget: BudgetName;
  limit: number;
  requested: number;
  available: number;
  /** Infinity when waiting cannot help (absolute cap, or more than the capacity). */
  retryAfterMs: number;
}

export interface MeterSnapshot {
  budget: BudgetName;
  limit: number;
  available: number;
}

interface Meter {
  budget: BudgetName;
  limit: number;
  /** The alert window: the rate's period, Infinity for an absolute cap. */
  periodMs: number;
  /** When this meter last raised an alert. */
  alertedAt?: number;
  available(): number;
  canTake(n: number): boolean;
  take(n: number): void;
  /** Give back `n` tokens (never past the limit). */
  refund(n: number): void;
  /** Take `n` tokens past the limit if need be. */
  debit(n: number): void;
  retryAfterMs(n: number): number;
}

const BUDGET_LABEL: Record<BudgetName, string> = {
  tpm: 'tokens-per-minute',
  tps: 'tokens-per-second',
  tokens: 'absolute token',
};

export class BudgetLedger {
  private readonly clock: Clock;
  private readonly tenants = new Map<string, Meter[]>();
  private readonly actors = new Map<string, Meter[]>();
  private readonly spentBy = new Map<string, number>();
  private readonly listeners = new Set<(alert: BudgetAlert) => void>();
  private readonly alertAt: number;

  constructor(options: { clock: Clock; tenants?: Readonly<Record<string, BudgetLimits>>; /** Share of a limit that raises an alert (default 0.8). */ alertAt?: number }) {
    this.clock = options.clock;
    const at = options.alertAt ?? DEFAULT_ALERT_AT;
    if (typeof at !== 'number' || !(at > 0 && at <= 1)) invalid('alertAt', `alertAt must be a number in (0, 1], got ${String(at)}`);
    this.alertAt = at;
    for (const [tenant, limits] of Object.entries(options.tenants ?? {})) this.setTenant(tenant, limits);
  }

  /** Call `listener` with every budget alert; returns the unsubscribe. */
  onAlert(listener: (alert: BudgetAlert) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Sets (or, with undefined, removes) a tenant's limits; buckets start full. */
  setTenant(tenant: string, limits: BudgetLimits | undefined): void {
    this.set(this.tenants, tenant, limits, 'tenant');
  }

  /** Sets (or, with undefined, removes) an actor's limits; buckets start full. */
  setActor(actor: string, limits: BudgetLimits | undefined): void {
    this.set(this.actors, actor, limits, 'actor');
    if (limits === undefined) this.spentBy.delete(actor);
  }

  /** False when neither the tenant nor the actor has any limit: nothing to charge. */
  hasLimits(tenant: string, actor: string): boolean {
    return this.tenants.has(tenant) || this.actors.has(actor);
  }

  /** The binding refusal if `charge` would fail now, else undefined. Changes nothing. */
  check(req: ChargeRequest): BudgetRefusal | undefined {
    const n = nonNegative(req.tokens, 'tokens');
    let worst: BudgetRefusal | undefined;
    const scan = (scope: BudgetScope, id: string, meters: Meter[] | undefined): void => {
      for (const m of meters ?? []) {
        if (m.canTake(n)) continue;
        const retryAfterMs = m.retryAfterMs(n);
        if (worst === undefined || retryAfterMs > worst.retryAfterMs) {
          worst = { scope, id, budget: m.budget, limit: m.limit, requested: n, available: m.available(), retryAfterMs };
        }
      }
    };
    scan('tenant', req.tenant, this.tenants.get(req.tenant));
    scan('actor', req.actor, this.actors.get(req.actor));
    return worst;
  }

  /**
   * Charges every applicable meter, or none: throws `BudgetExceeded`
   * (`BUDGET_EXCEEDED`) naming the budget that binds longest.
   */
  charge(req: ChargeRequest): void {
    const refusal = this.check(req);
    if (refusal !== undefined) throw budgetExceeded(refusal);
    for (const m of this.tenants.get(req.tenant) ?? []) m.take(req.tokens);
    for (const m of this.actors.get(req.actor) ?? []) m.take(req.tokens);
    this.spentBy.set(req.actor, (this.spentBy.get(req.actor) ?? 0) + req.tokens);
    this.alert(req);
  }

  /**
   * Replace a reservation of `reserved` tokens, charged earlier for `party`,
   * with the `actual` tokens used: refunds the difference, or charges the
   * overrun even past a limit (it cannot be refused: the tokens are spent; the
   * next charge pays for it). Returns the adjustment, actual − reserved. An
   * actor whose limits were removed meanwhile (it stopped) settles with its
   * tenant only.
   */
  settle(party: BudgetParty, reserved: number, actual: number): number {
    const r = nonNegative(reserved, 'reserved');
    const a = nonNegative(actual, 'actual');
    const delta = a - r;
    if (delta === 0) return 0;
    const adjust = (m: Meter): void => (delta > 0 ? m.debit(delta) : m.refund(-delta));
    for (const m of this.tenants.get(party.tenant) ?? []) adjust(m);
    for (const m of this.actors.get(party.actor) ?? []) adjust(m);
    const spent = this.spentBy.get(party.actor);
    if (spent !== undefined) this.spentBy.set(party.actor, Math.max(0, spent + delta));
    if (delta > 0) this.alert(party);
    return delta;
  }

  /** Tokens charged to an actor so far (kept in a persistent actor's checkpoints). */
  spent(actor: string): number {
    return this.spentBy.get(actor) ?? 0;
  }

  /** A restored actor's earlier spending counts against its absolute cap again (rate buckets start full). */
  restoreSpent(actor: string, tokens: number): void {
    const n = nonNegative(tokens, 'tokens');
    this.spentBy.set(actor, n);
    for (const m of this.actors.get(actor) ?? []) if (m.budget === 'tokens') m.take(n);
  }

  snapshot(scope: BudgetScope, id: string): MeterSnapshot[] {
    const meters = (scope === 'tenant' ? this.tenants : this.actors).get(id) ?? [];
    return meters.map((m) => ({ budget: m.budget, limit: m.limit, available: m.available() }));
  }

  private set(map: Map<string, Meter[]>, id: string, limits: BudgetLimits | undefined, scope: BudgetScope): void {
    if (typeof id !== 'string' || id.length === 0) invalid(scope, `${scope} must be a non-empty string`);
    if (limits === undefined) {
      map.delete(id);
      return;
    }
    const meters: Meter[] = [];
    if (limits.tpm !== undefined) meters.push(this.rate('tpm', positive(limits.tpm, `${scope}.tpm`), 60_000));
    if (limits.tps !== undefined) meters.push(this.rate('tps', positive(limits.tps, `${scope}.tps`), 1_000));
    if (limits.tokens !== undefined) meters.push(cap(nonNegative(limits.tokens, `${scope}.tokens`)));
    if (meters.length === 0) map.delete(id);
    else map.set(id, meters);
  }

  /** Raise an alert for each meter of `party` at or past the threshold that has not raised one this window. */
  private alert(party: BudgetParty): void {
    if (this.listeners.size === 0) return;
    const now = this.clock.now();
    const scan = (scope: BudgetScope, id: string, meters: Meter[] | undefined): void => {
      for (const m of meters ?? []) {
        const used = m.limit - m.available();
        if (used < m.limit * this.alertAt) continue;
        if (m.alertedAt !== undefined && now - m.alertedAt < m.periodMs) continue;
        m.alertedAt = now;
        const alert: BudgetAlert = { scope, id, budget: m.budget, limit: m.limit, used: round(used), threshold: this.alertAt, tenant: party.tenant, actor: party.actor, at: now };
        for (const listener of this.listeners) listener(alert);
      }
    };
    scan('tenant', party.tenant, this.tenants.get(party.tenant));
    scan('actor', party.actor, this.actors.get(party.actor));
  }

  private rate(budget: BudgetName, limit: number, periodMs: number): Meter {
    const bucket = new TokenBucket({ clock: this.clock, capacity: limit, refillPerMs: limit / periodMs });
    return {
      budget,
      limit,
      periodMs,
      available: () => bucket.available(),
      canTake: (n) => bucket.canTake(n),
      take: (n) => void bucket.tryTake(n),
      refund: (n) => bucket.refund(n),
      debit: (n) => bucket.debit(n),
      retryAfterMs: (n) => bucket.retryAfterMs(n),
    };
  }
}

function cap(limit: number): Meter {
  let used = 0;
  return {
    budget: 'tokens',
    limit,
    periodMs: Infinity,
    available: () => limit - used,
    canTake: (n) => used + n <= limit,
    take: (n) => void (used += n),
    refund: (n) => void (used = Math.max(0, used - n)),
    debit: (n) => void (used += n),
    retryAfterMs: (n) => (used + n <= limit ? 0 : Infinity),
  };
}

export function budgetExceeded(r: BudgetRefusal): BudgetExceeded {
  const retry = r.retryAfterMs === Infinity ? 'waiting will not help' : `retry after ${r.retryAfterMs} ms`;
  return new BudgetExceeded(
    PolicyCodes.budgetExceeded,
    `Budget exceeded: ${r.scope} "${r.id}" ${BUDGET_LABEL[r.budget]} limit ${r.limit} ` +
      `(requested ${r.requested}, available ${round(r.available)}); ${retry}`,
    { field: `${r.scope}.${r.budget}`, details: { ...r, retryAfterMs: r.retryAfterMs === Infinity ? null : r.retryAfterMs } },
  );
}

function round(n: number): number {
  return Math.floor(n * 1000) / 1000;
}

function positive(n: unknown, field: string): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) invalid(field, `${field} must be a positive finite number, got ${String(n)}`);
  return n as number;
}

function nonNegative(n: unknown, field: string): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) invalid(field, `${field} must be a non-negative finite number, got ${String(n)}`);
  return n as number;
}

function invalid(field: string, message: string): never {
  throw new ValidationError(PolicyCodes.invalidPolicy, message, { field });
}
