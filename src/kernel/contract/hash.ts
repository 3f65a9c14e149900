// Content identity of a contract for admission and audit: SHA-256 over a
// canonical JSON encoding (object keys sorted, undefined dropped, arrays in
// order), so key order and formatting of the YAML never change the hash.
import { createHash } from 'node:crypto';
import type { Contract } from './schema.js';

/** Deterministic JSON: sorted keys, no whitespace. Throws TypeError on cycles or non-JSON values. */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const encode = (v: unknown): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: non-finite number ${v}`);
      return JSON.stringify(v);
    }
    if (typeof v !== 'object') throw new TypeError(`canonicalJson: cannot encode a ${typeof v}`);
    if (seen.has(v)) throw new TypeError('canonicalJson: cyclic value');
    seen.add(v);
    let out: string;
    if (Array.isArray(v)) {
      out = `[${v.map((x) => (x === undefined ? 'null' : encode(x))).join(',')}]`;
    } else {
      const rec = v as Record<string, unknown>;
      const keys = Object.keys(rec).filter((k) => rec[k] !== undefined).sort();
      out = `{${keys.map((k) => `${JSON.stringify(k)}:${encode(rec[k])}`).join(',')}}`;
    }
    seen.delete(v);
    return out;
  };
  return encode(value);
}

/** SHA-256 hex of the contract's canonical JSON (defaults included, `$schema` excluded). */
export function contractHash(contract: Contract): string {
  const { $schema: _hint, ...rest } = contract as Contract & { $schema?: unknown };
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
