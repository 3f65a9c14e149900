// Audit records and their leaf encoding: RFC 8785 canonical JSON (base/canonical.ts: sorted
// keys, no whitespace, ECMAScript number form) in UTF-8, over I-JSON values only, so any
// implementation can re-derive the exact leaf bytes. See docs/audit-format.md.

import { CanonicalJsonError, canonicalJson as encode } from '../../base/canonical.js';
import { AuditError, StorageError } from '../../base/errors.js';
import { AuditCodes } from './codes.js';

/** Kernel decision families; any other non-empty string is accepted too. */
export type AuditKind = 'admission' | 'policy' | 'budget' | 'binding' | 'consent' | (string & {});

/** What a caller supplies; the log adds `v`, `seq`, `time` and `node`. */
export interface AuditRecordInput {
  /** Who caused the decision (actor id, user, service). */
  actor?: string;
  tenant?: string;
  kind: AuditKind;
  /** e.g. 'admitted' | 'refused' | 'allowed' | 'denied' | 'requested' | 'granted' | 'rejected' | 'expired'. */
  decision: string;
  /** What the decision was about (tool name, contract id, target actor…). */
  subject?: string;
  reason?: string;
  /** Digests of what was decided on: contract, prompt, toolManifest, arguments, sources, bindingManifest… */
  hashes?: Record<string, string>;
  data?: Record<string, unknown>;
}

/** A stored record, exactly as encoded in its leaf. */
export interface AuditRecord {
  v: 1;
  /** Leaf index of this record; equal to its position in the log. */
  seq: number;
  /** Integer milliseconds from the node's clock. */
  time: number;
  node: string;
  /** null for node-level records that belong to no tenant. */
  tenant: string | null;
  kind: string;
  decision: string;
  actor?: string;
  subject?: string;
  reason?: string;
  hashes?: Record<string, string>;
  data?: Record<string, unknown>;
}

export const RECORD_VERSION = 1;
/** Leaves larger than this are refused: the audit path must stay cheap. */
export const MAX_RECORD_BYTES = 64 * 1024;
const MAX_DEPTH = 32;
const INPUT_KEYS = new Set(['actor', 'tenant', 'kind', 'decision', 'subject', 'reason', 'hashes', 'data']);

function invalid(field: string, message: string): AuditError {
  return new AuditError(AuditCodes.invalidRecord, `audit record ${field}: ${message}`, { field });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Nesting limit of a whole record (the record itself is one level): the audit path must stay cheap. */
const WHOLE = { maxDepth: MAX_DEPTH };
/** The same limit for a member's value, one level below the record. */
const MEMBER = { maxDepth: MAX_DEPTH - 1 };

/**
 * RFC 8785 (JCS) serialisation of an I-JSON value (base/canonical.ts): keys sorted by UTF-16
 * code units, no whitespace, numbers in ECMAScript form. Object members whose value is undefined
 * are omitted; anything JSON cannot carry exactly (NaN, Infinity, bigint, undefined in arrays,
 * lone surrogates, Dates, Maps, class instances, cycles, nesting deeper than 32) is refused, never coerced.
 */
export function canonicalJson(value: unknown, name = 'value'): string {
  try {
    return encode(value, WHOLE);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw invalid(name + err.path.slice(1), err.reason);
    throw err;
  }
}

function optionalString(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(key, `must be a string, got ${typeof v}`);
  return v;
}

function requiredString(input: Record<string, unknown>, key: string): string {
  const v = input[key];
  if (typeof v !== 'string' || v.length === 0) throw invalid(key, 'must be a non-empty string');
  return v;
}

/** Validate a caller's input and complete it into the record that will be stored. */
export function buildRecord(input: AuditRecordInput, seq: number, time: number, node: string): AuditRecord {
  if (!isPlainObject(input)) throw invalid('input', 'must be a plain object');
  const raw = input as unknown as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!INPUT_KEYS.has(key) && raw[key] !== undefined) throw invalid(key, 'is not a record field (put extra data under `data`)');
  }
  const record: AuditRecord = {
    v: RECORD_VERSION,
    seq,
    time,
    node,
    tenant: optionalString(raw, 'tenant') ?? null,
    kind: requiredString(raw, 'kind'),
    decision: requiredString(raw, 'decision'),
  };
  const actor = optionalString(raw, 'actor');
  if (actor !== undefined) record.actor = actor;
  const subject = optionalString(raw, 'subject');
  if (subject !== undefined) record.subject = subject;
  const reason = optionalString(raw, 'reason');
  if (reason !== undefined) record.reason = reason;
  if (raw.hashes !== undefined) {
    if (!isPlainObject(raw.hashes)) throw invalid('hashes', 'must be a plain object of strings');
    for (const [k, v] of Object.entries(raw.hashes)) {
      if (typeof v !== 'string') throw invalid(`hashes.${k}`, `must be a string, got ${typeof v}`);
    }
    record.hashes = raw.hashes as Record<string, string>;
  }
  if (raw.data !== undefined) {
    if (!isPlainObject(raw.data)) throw invalid('data', 'must be a plain object');
    record.data = raw.data;
  }
  return record;
}

function member(key: string, value: unknown): string {
  try {
    return '"' + key + '":' + encode(value, MEMBER);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw invalid(`record.${key}${err.path.slice(1)}`, err.reason);
    throw err;
  }
}

/**
 * The exact leaf bytes of a record: UTF-8 of its canonical JSON. The record's own
 * fields are written in their sorted order directly (this is the append hot path);
 * the result equals canonicalJson(record), which the tests check.
 */
export function encodeRecord(r: AuditRecord): Buffer {
  let out = '{';
  if (r.actor !== undefined) out += member('actor', r.actor) + ',';
  if (r.data !== undefined) out += member('data', r.data) + ',';
  out += member('decision', r.decision) + ',';
  if (r.hashes !== undefined) out += member('hashes', r.hashes) + ',';
  out += member('kind', r.kind) + ',' + member('node', r.node) + ',';
  if (r.reason !== undefined) out += member('reason', r.reason) + ',';
  out += member('seq', r.seq) + ',';
  if (r.subject !== undefined) out += member('subject', r.subject) + ',';
  out += member('tenant', r.tenant) + ',' + member('time', r.time) + ',' + member('v', r.v) + '}';
  const bytes = Buffer.from(out, 'utf8');
  if (bytes.length > MAX_RECORD_BYTES) {
    throw invalid('record', `encodes to ${bytes.length} bytes, more than the ${MAX_RECORD_BYTES}-byte limit`);
  }
  return bytes;
}

const SEQ_MEMBER = Buffer.from(',"seq":');

/**
 * The top-level `seq` of canonical leaf bytes without parsing them (verify() reads 1e5 of these).
 * In canonical form `seq` always follows other members and only strings and numbers follow it, so
 * its member is the last `,"seq":` (inside a string the quote would be escaped). Undefined if absent.
 */
export function seqOf(leaf: Uint8Array): number | undefined {
  const bytes = Buffer.isBuffer(leaf) ? leaf : Buffer.from(leaf.buffer, leaf.byteOffset, leaf.byteLength);
  const at = bytes.lastIndexOf(SEQ_MEMBER);
  if (at < 0) return undefined;
  const start = at + SEQ_MEMBER.length;
  let end = start;
  let value = 0;
  while (end < bytes.length && end - start < 16 && bytes[end] >= 0x30 && bytes[end] <= 0x39) value = value * 10 + bytes[end++] - 0x30;
  const digits = end - start;
  const next = bytes[end];
  if (digits === 0 || digits > 15 || (digits > 1 && bytes[start] === 0x30) || (next !== 0x2c && next !== 0x7d)) return undefined;
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse leaf bytes back into a record; a StorageError if they are not a well-formed record. */
export function decodeRecord(bytes: Uint8Array, index?: number): AuditRecord {
  const where = index === undefined ? 'audit leaf' : `audit record ${index}`;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (cause) {
    throw new StorageError(AuditCodes.corrupt, `${where} is not UTF-8 JSON`, { cause, details: { index } });
  }
  const r = value as Partial<AuditRecord> | null;
  const ok =
    isPlainObject(r) &&
    r.v === RECORD_VERSION &&
    Number.isSafeInteger(r.seq) &&
    typeof r.time === 'number' &&
    typeof r.node === 'string' &&
    (r.tenant === null || typeof r.tenant === 'string') &&
    typeof r.kind === 'string' &&
    typeof r.decision === 'string';
  if (!ok) throw new StorageError(AuditCodes.corrupt, `${where} is not an audit record of version ${RECORD_VERSION}`, { details: { index } });
  return r as AuditRecord;
}
