// A cheap upper-bound estimate of a message's encoded size, so oversize
// payloads are refused at the edge without serialising every message.
// Walks the value once and stops as soon as the limit is passed.

const MAX_DEPTH = 64;

/**
 * Returns an estimate of the JSON/msgpack size in bytes, or `Infinity` once it
 * exceeds `limit` (or the value nests deeper than 64 levels or is cyclic).
 */
export function estimateSize(value: unknown, limit: number): number {
  let total = 0;
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): boolean => {
    switch (typeof v) {
      case 'string':
        total += v.length * 3 + 2; // worst case UTF-8
        break;
      case 'number':
      case 'bigint':
        total += 9;
        break;
      case 'boolean':
        total += 1;
        break;
      case 'undefined':
        break;
      case 'object': {
        if (v === null) {
          total += 1;
          break;
        }
        if (depth > MAX_DEPTH || seen.has(v)) return false;
        seen.add(v);
        if (ArrayBuffer.isView(v)) {
          total += v.byteLength + 5;
        } else if (Array.isArray(v)) {
          total += 5;
          for (const item of v) {
            if (!walk(item, depth + 1) || total > limit) return false;
          }
        } else {
          total += 5;
          for (const key in v) {
            total += key.length * 3 + 2;
            if (!walk((v as Record<string, unknown>)[key], depth + 1) || total > limit) return false;
          }
        }
        seen.delete(v);
        break;
      }
      default:
        total += 16; // functions and symbols are not sendable; the schema rejects them
    }
    return total <= limit;
  };
  return walk(value, 0) ? total : Infinity;
}
