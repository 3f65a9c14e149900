// The byte layout of memory keys. Every record key starts with a 16-byte scope id
// (a SHA-256 of the length-prefixed tenant and namespace) and a table byte, then the
// caller's part (a blinded name, and a sequence number for ordered tables). The
// prefix has a fixed length and is computed only from the tenant the kernel vouches
// for, so no caller-supplied key, stream or id can reach into another scope: whatever
// a caller chooses lands after its own prefix.

import { createHash } from 'node:crypto';
import { NAMESPACE_PATTERN } from '../../kernel/contract/names.js';
import { invalidArg, MemoryCodes, MemoryError } from './errors.js';

export const SCOPE_BYTES = 16;
/** Largest caller-chosen key, stream or id, in UTF-8 bytes (LMDB keys stay under its 1978-byte limit). */
export const MAX_KEY_BYTES = 1024;
/** Largest stream or source id (they are length-prefixed inside the key). */
export const MAX_ID_BYTES = 256;
export const MAX_TENANT_CHARS = 128;

/** What a record is; one byte after the scope id. */
export const Table = {
  kv: 0x4b, // K
  log: 0x4c, // L
  vectors: 0x56, // V: the scope's general vector collection
  chunkVectors: 0x52, // R: RAG chunk embeddings (one record per vector: the layout before groups)
  vectorGroups: 0x47, // G: vectors sealed in groups (a RAG source's chunk embeddings in one record)
  chunks: 0x43, // C: RAG chunk text and citation data
  sources: 0x53, // S: RAG sources
  meta: 0x4d, // M: per-scope settings (dimension of a collection)
  dedupe: 0x44, // D: idempotency keys of appends
} as const;
export type TableByte = (typeof Table)[keyof typeof Table];

/** A tenant and a namespace: where a call's data lives. */
export interface ScopeName {
  tenant: string;
  namespace: string;
}

export function checkScopeName(scope: ScopeName): void {
  if (typeof scope?.tenant !== 'string' || scope.tenant.length === 0 || scope.tenant.length > MAX_TENANT_CHARS) {
    throw invalidArg('tenant', `must be a non-empty string of at most ${MAX_TENANT_CHARS} characters`);
  }
  if (typeof scope.namespace !== 'string' || scope.namespace.length > 128 || !NAMESPACE_PATTERN.test(scope.namespace)) {
    throw invalidArg('namespace', `must match ${NAMESPACE_PATTERN.source}, like "clinic/triage" (got ${JSON.stringify(String(scope.namespace).slice(0, 40))})`);
  }
}

/** Length-prefixed UTF-8 (u16 big-endian length). */
export function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

export function scopeId(scope: ScopeName): Buffer {
  return createHash('sha256')
    .update('agentos.memory.scope/v1\0')
    .update(lengthPrefixed(scope.tenant))
    .update(lengthPrefixed(scope.namespace))
    .digest()
    .subarray(0, SCOPE_BYTES);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-8 bytes of a caller-chosen string, bounded; lone surrogates are refused (they would not round-trip). */
export function userBytes(text: unknown, field: string, max = MAX_KEY_BYTES): Buffer {
  if (typeof text !== 'string' || text.length === 0) throw invalidArg(field, 'must be a non-empty string');
  if (LONE_SURROGATE.test(text)) throw invalidArg(field, 'must be well-formed Unicode (no lone surrogates)');
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > max) throw new MemoryError(MemoryCodes.tooLarge, `memory: ${field} is ${bytes.length} bytes; at most ${max}`, { field });
  return bytes;
}

export function tablePrefix(scope: Buffer, table: TableByte): Buffer {
  const out = Buffer.allocUnsafe(SCOPE_BYTES + 1);
  scope.copy(out, 0);
  out[SCOPE_BYTES] = table;
  return out;
}

/** scope | table | bytes: a key whose caller part is its tail (kv keys, vector ids, source ids). */
export function tailKey(scope: Buffer, table: TableByte, tail: Buffer): Buffer {
  return Buffer.concat([tablePrefix(scope, table), tail]);
}

/** scope | table | u16 len | id | u64 n: an ordered sequence under an id (log entries, chunks). */
export function seqKey(scope: Buffer, table: TableByte, id: Buffer, n: number): Buffer {
  const out = Buffer.allocUnsafe(SCOPE_BYTES + 1 + 2 + id.length + 8);
  scope.copy(out, 0);
  out[SCOPE_BYTES] = table;
  out.writeUInt16BE(id.length, SCOPE_BYTES + 1);
  id.copy(out, SCOPE_BYTES + 3);
  out.writeBigUInt64BE(BigInt(n), SCOPE_BYTES + 3 + id.length);
  return out;
}

/** The sequence number at the end of a seqKey. */
export function seqOf(key: Buffer): number {
  return Number(key.readBigUInt64BE(key.length - 8));
}

/** The first key after every key that starts with `prefix` (for range ends). */
export function prefixEnd(prefix: Buffer): Buffer {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]!++;
      return out.subarray(0, i + 1);
    }
  }
  return Buffer.concat([prefix, Buffer.alloc(1, 0xff)]); // all 0xff: never in practice (scope ids are hashes)
}

export function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

// ── references: opaque handles to a record, safe to hand to an agent ──────

const REF_VERSION = 'm1';

/** An opaque reference to a record (a citation's `ref`): its whole key, base64url. */
export function encodeRef(key: Buffer): string {
  return `${REF_VERSION}.${key.toString('base64url')}`;
}

/**
 * The key a reference names, checked against the caller's scope. A reference that
 * names another scope is MEMORY_CROSS_TENANT, and is refused before any lookup.
 */
export function decodeRef(ref: unknown, scope: Buffer, tables: readonly TableByte[], field = 'ref'): Buffer {
  if (typeof ref !== 'string' || !ref.startsWith(`${REF_VERSION}.`) || ref.length > 4096) throw new MemoryError(MemoryCodes.badReference, `memory: ${field} is not a memory reference`, { field });
  const key = Buffer.from(ref.slice(REF_VERSION.length + 1), 'base64url');
  if (key.length <= SCOPE_BYTES) throw new MemoryError(MemoryCodes.badReference, `memory: ${field} is not a memory reference`, { field });
  if (!startsWith(key, scope)) {
    throw new MemoryError(MemoryCodes.crossTenant, `memory: ${field} belongs to another tenant or namespace; it is not readable here`, { field });
  }
  if (!tables.includes(key[SCOPE_BYTES] as TableByte)) throw new MemoryError(MemoryCodes.badReference, `memory: ${field} does not name a record of this kind`, { field });
  return key;
}
