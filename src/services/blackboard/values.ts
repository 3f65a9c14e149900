// A value on the board is JSON data, stored and compared as its RFC 8785
// canonical form: the board keeps `JSON.parse(canonicalJson(value))`, a deep copy
// the writer can no longer change, equal in memory and after a restart (`-0` is
// `0`, keys sorted). Its SHA-256 is what the audit log records, never the value.

import { CanonicalJsonError, canonicalJson, sha256Hex, type JsonValue } from '../../base/canonical.js';
import { BlackboardCodes, BlackboardError } from './errors.js';

export interface NormalizedValue {
  value: JsonValue;
  /** SHA-256 (hex) of the canonical JSON. */
  hash: string;
  /** Bytes of the canonical JSON (UTF-8). */
  bytes: number;
}

/** Deepest nesting accepted (arrays and objects along one path). */
export const MAX_VALUE_DEPTH = 64;

export function normalizeValue(value: unknown, maxBytes: number): NormalizedValue {
  let json: string;
  try {
    json = canonicalJson(value, { maxDepth: MAX_VALUE_DEPTH });
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    const field = `value${err.path.slice(1)}`;
    throw new BlackboardError(BlackboardCodes.invalidValue, `${field} is not JSON data: ${err.reason}`, { field, cause: err });
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new BlackboardError(BlackboardCodes.valueTooLarge, `value is ${bytes} bytes as JSON, over the board's limit of ${maxBytes}`, {
      field: 'value',
      details: { bytes, maxBytes },
    });
  }
  return { value: JSON.parse(json) as JsonValue, hash: sha256Hex(json), bytes };
}
