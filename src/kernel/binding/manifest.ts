// Sealed binding manifests: the body is serialised as canonical JSON (sorted keys, no
// undefined, finite numbers only), hashed with SHA-256 and signed by an injected signer;
// `verifyManifest` recomputes both, so any change to any field is detected.

import { createHash } from 'node:crypto';
import { ContractError } from '../../base/errors.js';
import { INVALID_BINDING_REQUEST, type ConstraintValue } from './registry.js';
import type { BindingCondition, BindingMode } from './request.js';
import type { Selection, Substitution } from './resolve.js';
import type { RollbackRecord } from './rollback.js';

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

/** JSON with object keys sorted at every level; rejects values JSON cannot carry faithfully. */
export function canonicalJson(value: unknown, path = '$'): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ContractError(INVALID_BINDING_REQUEST, `${path}: ${value} cannot be sealed`, { field: path });
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v === undefined ? null : v, `${path}[${i}]`)).join(',')}]`;
  const proto: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || (typeof value === 'object' && proto === null)) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k], `${path}.${k}`)}`).join(',')}}`;
  }
  throw new ContractError(INVALID_BINDING_REQUEST, `${path}: a ${typeof value === 'object' ? value?.constructor?.name : typeof value} cannot be sealed`, { field: path });
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
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
