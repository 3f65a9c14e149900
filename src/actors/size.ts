// A cheap upper bound of a message's encoded size (UTF-8 JSON, which also
// bounds msgpack), so oversize payloads are refused at the edge without
// serialising every message. Stops as soon as the limit is passed.
// Escape sequences are not counted: a string is bounded by 3 bytes per UTF-16 unit.

const MAX_DEPTH = 64;
const NUMBER = 25; // longest JSON form of a double, e.g. -0.0000012345678901234567 (JS writes decimals down to 1e-7)
const NULL = 4;
const BOOLEAN = 5;

const stringSize = (s: string): number => s.length * 3 + 2;
const memberSize = (key: string): number => stringSize(key) + 2; // "key": and a comma

/**
 * An upper bound of the value's encoded size in bytes, or `Infinity` once it
 * exceeds `limit` (or the value nests deeper than 64 levels or is cyclic).
 */
export function estimateSize(value: unknown, limit: number): number {
  const flat = flatSize(value);
  if (flat >= 0) return flat <= limit ? flat : Infinity;
  return walkSize(value, limit);
}

function scalarSize(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return stringSize(v);
    case 'number':
    case 'bigint':
      return NUMBER;
    case 'boolean':
      return BOOLEAN;
    case 'undefined':
      return 0;
    default:
      return v === null ? NULL : -1;
  }
}

/** The common case without allocation: a plain object of primitives; -1 for anything else. */
function flatSize(value: unknown): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return -1;
  let total = 2;
  for (const key in value) {
    const s = scalarSize((value as Record<string, unknown>)[key]);
    if (s < 0) return -1;
    total += memberSize(key) + s;
  }
  return total;
}

/** The general walk (exported for tests: the fast path must agree with it). */
export function walkSize(value: unknown, limit: number): number {
  let total = 0;
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): boolean => {
    const s = scalarSize(v);
    if (s >= 0) {
      total += s;
      return total <= limit;
    }
    if (typeof v !== 'object') {
      total += 16; // functions and symbols are not sendable; the schema rejects them
      return total <= limit;
    }
    const obj = v as object;
    if (depth > MAX_DEPTH || seen.has(obj)) return false;
    seen.add(obj);
    if (ArrayBuffer.isView(obj)) {
      total += obj.byteLength * 4 + 2; // as a JSON array of bytes
    } else if (Array.isArray(obj)) {
      total += 2;
      for (const item of obj) {
        total += 1;
        if (!walk(item, depth + 1)) return false;
      }
    } else {
      total += 2;
      for (const key in obj) {
        total += memberSize(key);
        if (!walk((obj as Record<string, unknown>)[key], depth + 1)) return false;
      }
    }
    seen.delete(obj);
    return total <= limit;
  };
  return walk(value, 0) ? total : Infinity;
}
