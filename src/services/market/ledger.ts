// The manager's budget: a limit in one currency, charged when a task is awarded
// and refunded when its winner fails. Amounts are kept in integer micro-units so
// sums are exact: "charged never exceeds the limit" holds to the last unit, not
// to a floating-point rounding. Plain data, so it lives in the machine's context.

export interface Ledger {
  /** The budget in micro-units, or null for no limit. */
  limit: number | null;
  /** Charged and not refunded, micro-units. */
  charged: number;
  /** Refunded over the ledger's life, micro-units (for reports). */
  refunded: number;
  currency: string;
}

const MICRO = 1_000_000;

export const toMicros = (amount: number): number => Math.round(amount * MICRO);
export const fromMicros = (micros: number): number => micros / MICRO;

export function openLedger(limit: number | undefined, currency: string): Ledger {
  return { limit: limit === undefined ? null : toMicros(limit), charged: 0, refunded: 0, currency };
}

/** What can still be charged, micro-units (Infinity without a limit). */
export function remainingMicros(l: Ledger): number {
  return l.limit === null ? Infinity : l.limit - l.charged;
}

export function canPay(l: Ledger, price: number): boolean {
  return toMicros(price) <= remainingMicros(l);
}

/** Charge `price`; the caller has checked `canPay` (a charge past the limit is a bug, refused loudly). */
export function charge(l: Ledger, price: number): Ledger {
  const micros = toMicros(price);
  if (micros > remainingMicros(l)) throw new RangeError(`ledger: charge of ${price} exceeds the remaining budget`);
  return { ...l, charged: l.charged + micros };
}

/** Give back a charge made earlier (its winner failed). */
export function refund(l: Ledger, price: number): Ledger {
  const micros = Math.min(toMicros(price), l.charged);
  return { ...l, charged: l.charged - micros, refunded: l.refunded + micros };
}

/** The ledger in currency units, for replies and reports. */
export function ledgerView(l: Ledger): { limit: number | null; charged: number; remaining: number | null; refunded: number; currency: string } {
  return {
    limit: l.limit === null ? null : fromMicros(l.limit),
    charged: fromMicros(l.charged),
    remaining: l.limit === null ? null : fromMicros(l.limit - l.charged),
    refunded: fromMicros(l.refunded),
    currency: l.currency,
  };
}
