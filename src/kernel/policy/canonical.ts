// Canonical JSON of call arguments (base/canonical.ts: sorted keys, JSON values only) and its
// SHA-256. An approval and its grant are bound to this hash, so two argument values hash
// alike exactly when a tool would receive the same JSON.

import { CanonicalJsonError, canonicalJson as encode, sha256Hex } from '../../base/canonical.js';
import { ValidationError } from '../../base/errors.js';
import { PolicyCodes } from './codes.js';

export type { JsonValue } from '../../base/canonical.js';

export interface ArgsSnapshot {
  /** A deep-frozen copy of the arguments, so what a human reviews cannot change under them. */
  readonly copy: unknown;
  /** Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace. */
  readonly canonical: string;
  /** Lowercase hex SHA-256 of `canonical`. */
  readonly hash: string;
}

/**
 * Accepts null, booleans, finite numbers, strings, arrays and plain objects.
 * Object properties whose value is `undefined` are skipped (as JSON.stringify
 * does); `undefined` at the top level counts as `null`. Anything else (Map,
 * Date, class instances, functions, bigint, NaN, lone surrogates, cycles) is
 * refused with `INVALID_ARGS` naming the path, rather than silently hashing as `{}`.
 */
export function snapshotArgs(args: unknown): ArgsSnapshot {
  const canonical = canonicalJson(args);
  return { copy: frozenCopy(args === undefined ? null : args), canonical, hash: sha256Hex(canonical) };
}

/** SHA-256 (hex) of the canonical JSON of `args`. On the hot path: no copy is made. */
export function hashArgs(args: unknown): string {
  return sha256Hex(canonicalJson(args));
}

export function canonicalJson(args: unknown): string {
  try {
    return encode(args === undefined ? null : args);
  } catch (err) {
    if (err instanceof CanonicalJsonError) {
      throw new ValidationError(PolicyCodes.invalidArgs, `Arguments at ${err.path} cannot be hashed: ${err.reason}`, { field: err.path, cause: err });
    }
    throw err;
  }
}

/** Deep copy of already-validated JSON data, frozen, in the caller's key order. */
function frozenCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy));
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // defineProperty, so a key named "__proto__" stays data.
    if (v !== undefined) Object.defineProperty(copy, key, { value: frozenCopy(v), enumerable: true });
  }
  return Object.freeze(copy);
}
