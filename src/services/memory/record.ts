// One stored memory record: a short clear header, then the payload (msgpackr)
// sealed with AES-256-GCM under the tenant's key. The associated data binds the
// tenant, the namespace, the record's own key and its expiry, so a ciphertext
// copied to another tenant, namespace or key, or with its expiry pushed back,
// fails to open. Layout:
//   [u8 version=1][8-byte key tag][u64 BE expiresAt, 0 = never][12-byte IV][16-byte GCM tag][ciphertext]

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import { MemoryCodes, MemoryError } from './errors.js';
import { keyTag, type TenantKey } from './keyring.js';
import { lengthPrefixed, type ScopeName } from './keys.js';

const VERSION = 1;
const TAG_AT = 1;
const EXPIRY_AT = 9;
const IV_AT = 17;
const AUTH_AT = 29;
export const RECORD_HEADER_BYTES = 45;

const packr = new Packr({ useRecords: false, moreTypes: true } as ConstructorParameters<typeof Packr>[0]);

/** What sealing and opening need to know about the scope a record lives in. */
export interface SealingScope extends ScopeName {
  readonly id: Buffer;
  readonly key: TenantKey;
  /** keyTag(key, id), computed once per scope. */
  readonly tag: Buffer;
}

export function sealingScope(name: ScopeName, id: Buffer, key: TenantKey): SealingScope {
  return Object.freeze({ tenant: name.tenant, namespace: name.namespace, id, key, tag: keyTag(key, id) });
}

function aad(scope: SealingScope, recordKey: Buffer, header: Buffer): Buffer {
  const k = Buffer.allocUnsafe(2);
  k.writeUInt16BE(recordKey.length, 0);
  return Buffer.concat([Buffer.from('agentos.memory.record/v1\0'), lengthPrefixed(scope.tenant), lengthPrefixed(scope.namespace), k, recordKey, header.subarray(0, IV_AT)]);
}

/** Encode and seal a payload for `recordKey`; `expiresAt` is integer ms on the store's clock (0: never). */
export function sealRecord(scope: SealingScope, recordKey: Buffer, payload: unknown, expiresAt: number): Buffer {
  const plain = packr.pack(payload);
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + plain.length);
  out[0] = VERSION;
  scope.tag.copy(out, TAG_AT);
  out.writeBigUInt64BE(BigInt(expiresAt), EXPIRY_AT);
  randomBytes(12).copy(out, IV_AT);
  const cipher = createCipheriv('aes-256-gcm', scope.key.key, out.subarray(IV_AT, AUTH_AT));
  cipher.setAAD(aad(scope, recordKey, out));
  const n = cipher.update(plain).copy(out, RECORD_HEADER_BYTES);
  cipher.final();
  cipher.getAuthTag().copy(out, AUTH_AT);
  if (n !== plain.length) throw new Error('aes-256-gcm produced an unexpected length');
  return out;
}

/** The expiry in a record's clear header (0: never); -1 if the bytes are not a record. */
export function expiryOf(bytes: Uint8Array): number {
  if (bytes.length < RECORD_HEADER_BYTES || bytes[0] !== VERSION) return -1;
  return Number(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readBigUInt64BE(EXPIRY_AT));
}

export function isExpired(expiresAt: number, now: number): boolean {
  return expiresAt !== 0 && expiresAt <= now;
}

/**
 * Open a record read under `recordKey` in `scope`. A record sealed for another
 * tenant or namespace is MEMORY_CROSS_TENANT; one that does not authenticate is
 * MEMORY_CORRUPT. Neither returns any of its content.
 */
export function openRecord<T = unknown>(scope: SealingScope, recordKey: Buffer, raw: Uint8Array): { payload: T; expiresAt: number } {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  const corrupt = (why: string, cause?: unknown): never => {
    throw new MemoryError(MemoryCodes.corrupt, `memory: a stored record cannot be read (${why}); it was altered or damaged`, { field: 'record', ...(cause ? { cause } : {}) });
  };
  if (bytes.length < RECORD_HEADER_BYTES || bytes[0] !== VERSION) corrupt('unknown format');
  if (!bytes.subarray(TAG_AT, EXPIRY_AT).equals(scope.tag)) {
    throw new MemoryError(MemoryCodes.crossTenant, 'memory: a record under this key was sealed for another tenant or namespace; it is not readable here', { field: 'record' });
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', scope.key.key, bytes.subarray(IV_AT, AUTH_AT));
    decipher.setAAD(aad(scope, recordKey, bytes));
    decipher.setAuthTag(bytes.subarray(AUTH_AT, RECORD_HEADER_BYTES));
    const head = decipher.update(bytes.subarray(RECORD_HEADER_BYTES));
    const tail = decipher.final();
    plain = tail.length === 0 ? head : Buffer.concat([head, tail]); // GCM gives it all from update: no copy of a large record
  } catch (err) {
    return corrupt('authentication failed', err);
  }
  let payload: T;
  try {
    payload = packr.unpack(plain) as T;
  } catch (err) {
    return corrupt('payload does not decode', err);
  }
  return { payload, expiresAt: expiryOf(bytes) };
}
