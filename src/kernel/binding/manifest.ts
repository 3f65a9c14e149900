// Sealed binding manifests: the body is serialised as canonical JSON (base/canonical.ts:
// sorted keys, plain JSON data only), hashed with SHA-256 and signed by an injected signer;
// `verifyManifest` recomputes both, so any change to any field is detected.

import { CanonicalJsonError, canonicalJson as encode, sha256Hex } from '../../base/canonical.js';
import { ContractError } from '../../base/errors.js';
import { INVALID_BINDING_REQUEST, type ConstraintValue } from './registry.js';
import type { BindingCondition, BindingMode } from './request.js';
import type { Selection, Substitution } from './resolve.js';
import type { RollbackRecord } from './rollback.js';

export { sha256Hex };

export const MANIFEST_FORMAT = 'agentos.binding/1';

export interface ManifestBody {
  format: typeof MANIFEST_FORMAT;
  bindingId: string;
  requestId: string | null;
  mode: BindingMode;
  must: Record<string, ConstraintValue>;
  prefer: Record<string, ConstraintValue>;
  conditions: BindingCondition[];
  /** SLO targets the caller bound under. */
  slo: Record<string, number>;
  selections: Selection[];
  substitutions: Substitution[];
  /** Rollbacks in force for the names bound here. */
  rollbacks: RollbackRecord[];
  /** From the binder's clock, when it has one. */
  boundAtMs: number | null;
}

export interface BindingManifest {
  body: ManifestBody;
  /** SHA-256 (hex) of the canonical JSON of `body`. */
  hash: string;
  /** `sign(canonical JSON bytes of body)`, hex. */
  signature: string;
}

/** Signs bytes, returning a hex signature (e.g. Ed25519 via node:crypto). */
export type Signer = (bytes: Uint8Array) => string;
/** Checks a hex signature over bytes. */
export type SignatureVerifier = (bytes: Uint8Array, signatureHex: string) => boolean;

/** Canonical JSON (base/canonical.ts); a value JSON cannot carry exactly is a ContractError naming its path under `path`. */
export function canonicalJson(value: unknown, path = '$'): string {
  try {
    return encode(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) {
      const field = path + err.path.slice(1);
      throw new ContractError(INVALID_BINDING_REQUEST, `${field}: cannot be sealed: ${err.reason}`, { field, cause: err });
    }
    throw err;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Hash and sign a body; the result is deeply frozen. */
export function sealManifest(body: ManifestBody, sign: Signer): BindingManifest {
  const text = canonicalJson(body);
  const bytes = new TextEncoder().encode(text);
  const signature = sign(bytes);
  if (typeof signature !== 'string' || !/^[0-9a-f]+$/i.test(signature)) {
    throw new ContractError(INVALID_BINDING_REQUEST, 'sign() must return a hex string', { field: 'sign' });
  }
  return deepFreeze({ body: JSON.parse(text) as ManifestBody, hash: sha256Hex(bytes), signature });
}

export type ManifestCheck = { ok: true } | { ok: false; reason: string };

/** Recompute the hash and check the signature; any edit to body, hash or signature fails. */
export function verifyManifest(manifest: BindingManifest, verify: SignatureVerifier): ManifestCheck {
  let text: string;
  try {
    text = canonicalJson(manifest?.body);
  } catch (error) {
    return { ok: false, reason: `body cannot be canonicalised: ${(error as Error).message}` };
  }
  const bytes = new TextEncoder().encode(text);
  const hash = sha256Hex(bytes);
  if (hash !== manifest.hash) return { ok: false, reason: `hash mismatch: body hashes to ${hash}, manifest says ${String(manifest.hash)}` };
  let valid = false;
  try {
    valid = typeof manifest.signature === 'string' && verify(bytes, manifest.signature);
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: 'signature does not verify' };
}
