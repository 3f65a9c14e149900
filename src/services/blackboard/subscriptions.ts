// Who hears of which writes: per tenant, each subscriber's glob patterns. A
// subscription remembers the admission it was made under (the kernel's record
// of the actor), so one that outlives its actor — stopped, or its id reused by a
// new actor — is recognised and dropped the next time it would be notified, or
// when anyone in its tenant subscribes.

import { BlackboardCodes, BlackboardError } from './errors.js';
import { topicMatches } from './names.js';

export interface Subscription {
  tenant: string;
  subscriber: string;
  patterns: string[];
  /** The subscriber's admission record when it subscribed (identity, not data). */
  token: object;
}

export class Subscriptions {
  private readonly byTenant = new Map<string, Map<string, Subscription>>();

  /** Add a pattern (a repeat is a no-op); refuses past `max` patterns per subscriber. */
  add(tenant: string, subscriber: string, pattern: string, token: object, max: number): void {
    let subs = this.byTenant.get(tenant);
    if (!subs) this.byTenant.set(tenant, (subs = new Map()));
    let sub = subs.get(subscriber);
    if (sub && sub.token !== token) {
      subs.delete(subscriber); // left over from an earlier actor with this id
      sub = undefined;
    }
    if (!sub) subs.set(subscriber, (sub = { tenant, subscriber, patterns: [], token }));
    if (sub.patterns.includes(pattern)) return;
    if (sub.patterns.length >= max) {
      throw new BlackboardError(BlackboardCodes.tooManySubscriptions, `"${subscriber}" already holds ${sub.patterns.length} subscriptions (the board's maxSubscriptions)`, {
        field: 'pattern',
      });
    }
    sub.patterns.push(pattern);
  }

  /** Remove one pattern, or every pattern of the subscriber; returns how many were removed. */
  remove(tenant: string, subscriber: string, pattern?: string): number {
    const subs = this.byTenant.get(tenant);
    const sub = subs?.get(subscriber);
    if (!subs || !sub) return 0;
    const before = sub.patterns.length;
    sub.patterns = pattern === undefined ? [] : sub.patterns.filter((p) => p !== pattern);
    if (sub.patterns.length === 0) this.drop(tenant, subscriber);
    return before - sub.patterns.length;
  }

  drop(tenant: string, subscriber: string): void {
    const subs = this.byTenant.get(tenant);
    subs?.delete(subscriber);
    if (subs?.size === 0) this.byTenant.delete(tenant);
  }

  /** Drop the tenant's subscriptions whose subscriber is no longer the actor that subscribed; returns how many. */
  sweep(tenant: string, alive: (sub: Subscription) => boolean): number {
    let dropped = 0;
    for (const sub of [...(this.byTenant.get(tenant)?.values() ?? [])]) {
      if (alive(sub)) continue;
      this.drop(tenant, sub.subscriber);
      dropped++;
    }
    return dropped;
  }

  /** Subscribers with a pattern selecting `topic`, each once, in subscription order. */
  matching(tenant: string, topic: string): Subscription[] {
    const out: Subscription[] = [];
    for (const sub of this.byTenant.get(tenant)?.values() ?? []) {
      if (sub.patterns.some((p) => topicMatches(p, topic))) out.push(sub);
    }
    return out;
  }

  /** Patterns held, over every subscriber. */
  get size(): number {
    let n = 0;
    for (const subs of this.byTenant.values()) for (const sub of subs.values()) n += sub.patterns.length;
    return n;
  }
}
