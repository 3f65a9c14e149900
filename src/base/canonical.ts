// The one canonical JSON encoding behind every hash and signature agentos makes (contract
// hashes, argument hashes, binding manifests, audit leaves): RFC 8785 (JCS) over I-JSON data.
// Equal data always encodes to equal text, and anything JSON cannot carry exactly is refused
// with a CanonicalJsonError naming where it is, never coerced.

import { hash } from 'node:crypto';
import { AgentOsError } from './errors.js';

/** Plain JSON data: what canonicalJson accepts (object members may also be `undefined`, and are omitted). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Code of every CanonicalJsonError. */
export const NOT_JSON_DATA = 'NOT_JSON_DATA';

/** A value canonicalJson refused; callers usually rethrow it as their own family's error with their own code. */
export class CanonicalJsonError extends AgentOsError {
  constructor(
    /** Where the value is: `$` for the root, then `.key` and `[index]` steps (`$.args[2].when`). */
    readonly path: string,
    /** Why it was refused, e.g. `NaN is not a finite number`. */
    readonly reason: string,
  ) {
    super(NOT_JSON_DATA, `${path}: ${reason}`, { field: path });
  }
}

export interface CanonicalJsonOptions {
  /** Most arrays and objects nested along any path (the root counts as one). Default: unlimited. */
  maxDepth?: number;
}

/**
 * RFC 8785 serialisation: object keys sorted by UTF-16 code units, no whitespace, strings
 * escaped as ECMAScript JSON.stringify does, numbers in ECMAScript form (`-0` becomes `0`).
 * Object members whose value is `undefined` are omitted. Refused: NaN and ±Infinity, bigint,
 * functions, symbols, `undefined` elsewhere (root, array element, hole), lone surrogates,
 * objects other than arrays and plain objects (Map, Set, Date, class instances), cycles, and
 * nesting beyond `maxDepth`.
 */
export function canonicalJson(value: unknown, options?: CanonicalJsonOptions): string {
  return encode(value, { maxDepth: options?.maxDepth ?? Infinity, keys: [], open: [] });
}

/** Lowercase hex SHA-256 of a string (as UTF-8) or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** State of one encoding: `keys` is the path to the value being written, `open` the containers around it. */
interface Walk {
  readonly maxDepth: number;
  readonly keys: (string | number)[];
  readonly open: object[];
}

function encode(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case 'string':
      return quote(value, walk);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) refuse(walk, `${value} is not a finite number`);
      return String(value); // Number::toString, as RFC 8785 prescribes
    case 'object':
      return value === null ? 'null' : container(value, walk);
    case 'undefined':
      return refuse(walk, 'undefined is not JSON data');
    default:
      return refuse(walk, `a ${typeof value} is not JSON data`);
  }
}

function container(value: object, walk: Walk): string {
  if (walk.open.includes(value)) refuse(walk, 'the value contains a cycle');
  if (walk.open.length >= walk.maxDepth) refuse(walk, `nested deeper than ${walk.maxDepth} levels`);
  walk.open.push(value);
  const out = Array.isArray(value) ? array(value, walk) : object(value, walk);
  walk.open.pop();
  return out;
}

function array(value: readonly unknown[], walk: Walk): string {
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    walk.keys.push(i);
    const element = value[i];
    if (element === undefined) refuse(walk, 'undefined is not allowed inside an array');
    out += (i === 0 ? '' : ',') + encode(element, walk);
    walk.keys.pop();
  }
  return out + ']';
}

function object(value: object, walk: Walk): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    refuse(walk, `a ${typeof name === 'string' && name !== '' ? name : 'non-plain object'} is not a plain object; pass plain JSON data`);
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of sortedKeys(record)) {
    const member = record[key];
    if (member === undefined) continue;
    walk.keys.push(key);
    out += (out.length === 1 ? '' : ',') + quote(key, walk) + ':' + encode(member, walk);
    walk.keys.pop();
  }
  return out + '}';
}

/** Keys in UTF-16 code-unit order; small objects (nearly all of them) are insertion-sorted, which beats Array.prototype.sort there. */
function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** Strings free of these are their own JSON body: nothing to escape, no surrogate to check. */
// eslint-disable-next-line no-control-regex -- JSON escapes exactly the control characters U+0000..U+001F
const NEEDS_CARE = /["\\\u0000-\u001f\uD800-\uDFFF]/;
/** In `u` mode a well-formed pair is one code point, so this matches only a lone surrogate. */
const LONE_SURROGATE = /\p{Surrogate}/u;

function quote(text: string, walk: Walk): string {
  if (!needsCare(text)) return '"' + text + '"';
  if (LONE_SURROGATE.test(text)) refuse(walk, 'contains a lone UTF-16 surrogate (not valid Unicode)');
  return JSON.stringify(text); // ECMAScript escaping is exactly RFC 8785's
}

/** A loop is cheaper than a regex on short strings (keys, names), the regex cheaper on long ones. */
function needsCare(text: string): boolean {
  if (text.length > 32) return NEEDS_CARE.test(text);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

function refuse(walk: Walk, reason: string): never {
  let path = '$';
  for (const key of walk.keys) path += typeof key === 'number' ? `[${key}]` : `.${key}`;
  throw new CanonicalJsonError(path, reason);
}
