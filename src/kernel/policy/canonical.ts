// Canonical JSON of call arguments (sorted keys, JSON values only) and its
// SHA-256. An approval and its grant are bound to this hash, so two argument
// values hash alike exactly when a tool would receive the same JSON.

import { hash } from 'node:crypto';
import { ValidationError } from '../../base/errors.js';
import { PolicyCodes } from './codes.js';

/** Plain JSON data: what a tool, model or memory call may carry as arguments. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

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
 * Date, class instances, functions, bigint, NaN, cycles) is refused with
 * `INVALID_ARGS` naming the path, rather than silently hashing as `{}`.
 */
export function snapshotArgs(args: unknown): ArgsSnapshot {
  const canonical = canonicalJson(args);
  return { copy: frozenCopy(args === undefined ? null : args), canonical, hash: sha256(canonical) };
}

/** SHA-256 (hex) of the canonical JSON of `args`. On the hot path: no copy is made. */
export function hashArgs(args: unknown): string {
  return sha256(canonicalJson(args));
}

export function canonicalJson(args: unknown): string {
  return write(args === undefined ? null : args, [], []);
}

function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/** `keys` is the path from the root (for error messages), `ancestors` the open containers (for cycles). */
function write(value: unknown, keys: (string | number)[], ancestors: object[]): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) invalid(keys, `${value} is not a finite number`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      invalid(keys, `a ${typeof value} is not JSON data`);
  }
  const obj = value as object;
  if (ancestors.includes(obj)) invalid(keys, 'the arguments contain a cycle');
  ancestors.push(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = '[';
    for (let i = 0; i < obj.length; i++) {
      keys.push(i);
      if (!(i in obj) || obj[i] === undefined) invalid(keys, 'undefined is not allowed inside an array');
      out += (i > 0 ? ',' : '') + write(obj[i], keys, ancestors);
      keys.pop();
    }
    out += ']';
  } else {
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      invalid(keys, `a ${name} is not a plain object; pass plain JSON data`);
    }
    const record = obj as Record<string, unknown>;
    out = '{';
    let first = true;
    for (const key of sortedKeys(record)) {
      const v = record[key];
      if (v === undefined) continue;
      keys.push(key);
      out += (first ? '' : ',') + quote(key) + ':' + write(v, keys, ancestors);
      keys.pop();
      first = false;
    }
    out += '}';
  }
  ancestors.pop();
  return out;
}

// Strings with nothing to escape (the common case) skip JSON.stringify;
// control characters, quotes, backslashes and surrogates take the slow path.
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** Keys in UTF-16 code-unit order (as Array.prototype.sort), insertion-sorted when few. */
function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  if (keys.length > 12) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
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

function invalid(keys: readonly (string | number)[], why: string): never {
  const path = keys.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${k}`), '$');
  throw new ValidationError(PolicyCodes.invalidArgs, `Arguments at ${path} cannot be hashed: ${why}`, { field: path });
}
