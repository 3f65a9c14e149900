// Content identity of a contract for admission and audit: SHA-256 over its canonical JSON
// (base/canonical.ts: keys sorted, undefined members dropped, arrays in order), so key order
// and formatting of the YAML never change the hash.
import { CanonicalJsonError, canonicalJson as encode, sha256Hex } from '../../base/canonical.js';
import { ContractError } from '../../base/errors.js';
import { ContractErrorCodes } from './issues.js';
import type { Contract } from './schema.js';

/** Canonical JSON of `value`; a value JSON cannot carry exactly is a ContractError (CONTRACT_INVALID) naming its path. */
export function canonicalJson(value: unknown): string {
  try {
    return encode(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) {
      throw new ContractError(ContractErrorCodes.invalid, `contract ${err.path} cannot be hashed: ${err.reason}`, { field: err.path, cause: err });
    }
    throw err;
  }
}

/** SHA-256 hex of the contract's canonical JSON (defaults included, `$schema` excluded). */
export function contractHash(contract: Contract): string {
  const { $schema: _hint, ...rest } = contract as Contract & { $schema?: unknown };
  return sha256Hex(canonicalJson(rest));
}
