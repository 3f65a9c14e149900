// The bytes of the side-effect journal. An entry is
//   [32-byte SHA-256 of the header][u32 BE header length][header: canonical JSON][payload: msgpackr]
// The header names the entry (actor, seq, key, kind), the SHA-256 of its arguments and
// of its payload, and `prev`, the hash of the actor's previous entry: a hash chain, so
// an altered, removed or reordered entry breaks a link. Pure functions, no storage.

import { Packr } from 'msgpackr';
import { canonicalJson, sha256Hex } from '../../base/canonical.js';
import type { ChainAnchor, Idempotence } from './types.js';

export type EntryKind = 'dispatched' | 'completed' | 'failed' | 'compensated';

export interface EntryHeader {
  v: 1;
  actor: string;
  /** Position in the actor's chain, from 1. */
  seq: number;
  key: string;
  kind: EntryKind;
  /** Clock time of the write. */
  at: number;
  /** SHA-256 of the canonical JSON of the call's arguments. */
  args: string;
  attempt: number;
  /** Only on `dispatched`. */
  idempotent?: Idempotence;
  /** SHA-256 of the payload: the msgpackr result (`completed`) or FailureData (`failed`). */
  payload?: string;
  /** Who settled an in-doubt call by hand (resolve()); absent when the call itself did. */
  by?: string;
  /** Hash of the actor's previous entry, or of its anchor. */
  prev: string;
}

export interface Entry {
  header: EntryHeader;
  payload: Uint8Array | undefined;
  /** SHA-256 of the header text: what the next entry's `prev` carries. */
  hash: string;
}

/** An actor's chain: where it starts (after compaction) and ends, and which turns are compacted. */
export interface ActorMeta {
  anchor: ChainAnchor;
  head: ChainAnchor;
  /** Turns up to this one are covered by a checkpoint; -1 when none is. */
  compactedThrough: number;
}

const HASH_BYTES = 32;
const PREFIX_BYTES = HASH_BYTES + 4;
const KINDS: ReadonlySet<string> = new Set<EntryKind>(['dispatched', 'completed', 'failed', 'compensated']);
const HEX64 = /^[0-9a-f]{64}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Plain msgpack (no record extension), so every payload decodes on its own. */
const packr = new Packr({ useRecords: false });
export const packPayload = (value: unknown): Uint8Array => packr.pack(value);
export const unpackPayload = (bytes: Uint8Array): unknown => packr.unpack(bytes);

/** The `prev` of an actor's first entry: binds the chain to the actor it belongs to. */
export function genesis(actor: string): string {
  return sha256Hex(canonicalJson({ chain: 'agentos/effects/v1', actor }));
}

export function freshMeta(actor: string): ActorMeta {
  const start = { seq: 0, hash: genesis(actor) };
  return { anchor: start, head: start, compactedThrough: -1 };
}

/** Seal a header (its `payload` hash is filled in here) and payload into entry bytes. */
export function encodeEntry(header: Omit<EntryHeader, 'payload'>, payload?: Uint8Array): { entry: Entry; bytes: Uint8Array } {
  const full: EntryHeader = payload === undefined ? { ...header } : { ...header, payload: sha256Hex(payload) };
  const text = encoder.encode(canonicalJson(full));
  const hash = sha256Hex(text);
  const bytes = new Uint8Array(PREFIX_BYTES + text.length + (payload?.length ?? 0));
  bytes.set(Buffer.from(hash, 'hex'), 0);
  new DataView(bytes.buffer).setUint32(HASH_BYTES, text.length);
  bytes.set(text, PREFIX_BYTES);
  if (payload !== undefined) bytes.set(payload, PREFIX_BYTES + text.length);
  return { entry: { header: full, payload, hash }, bytes };
}

/** The entry in these bytes, or why they are not one (garbage, altered header or payload, wrong shape). */
export function decodeEntry(bytes: Uint8Array): Entry | string {
  if (bytes.length < PREFIX_BYTES) return `only ${bytes.length} bytes, too short for an entry`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(HASH_BYTES);
  if (length > bytes.length - PREFIX_BYTES) return `header length ${length} runs past the ${bytes.length} stored bytes`;
  const raw = bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + length);
  const hash = sha256Hex(raw);
  if (Buffer.from(bytes.buffer, bytes.byteOffset, HASH_BYTES).toString('hex') !== hash) return 'altered: its header does not match its hash';
  let text: string;
  let parsed: unknown;
  try {
    text = utf8.decode(raw);
    parsed = JSON.parse(text);
  } catch {
    return 'the header is not JSON';
  }
  const shape = headerProblem(parsed);
  if (shape !== undefined) return shape;
  const header = parsed as EntryHeader;
  if (canonicalJson(header) !== text) return 'the header is not canonical JSON';
  const rest = bytes.subarray(PREFIX_BYTES + length);
  if (header.payload === undefined) {
    if (rest.length > 0) return `${rest.length} stray bytes after a header that names no payload`;
    return { header, payload: undefined, hash };
  }
  if (sha256Hex(rest) !== header.payload) return 'altered: its payload does not match the hash in its header';
  return { header, payload: rest, hash };
}

const REQUIRED = ['v', 'actor', 'seq', 'key', 'kind', 'at', 'args', 'attempt', 'prev'];
const OPTIONAL = ['idempotent', 'payload', 'by'];
const KNOWN: ReadonlySet<string> = new Set([...REQUIRED, ...OPTIONAL]);

function headerProblem(h: unknown): string | undefined {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return 'the header is not an object';
  const r = h as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!KNOWN.has(k)) return `the header has an unknown field "${k}"`;
  for (const k of REQUIRED) if (!(k in r)) return `the header lacks "${k}"`;
  if (r.v !== 1) return `unknown entry version ${JSON.stringify(r.v)}`;
  if (typeof r.actor !== 'string' || typeof r.key !== 'string') return 'actor and key must be strings';
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'seq must be a positive integer';
  if (!Number.isSafeInteger(r.attempt) || (r.attempt as number) < 1) return 'attempt must be a positive integer';
  if (typeof r.kind !== 'string' || !KINDS.has(r.kind)) return `unknown entry kind ${JSON.stringify(r.kind)}`;
  if (typeof r.at !== 'number') return 'at must be a number';
  for (const k of ['args', 'prev', 'payload']) {
    if (k in r && (typeof r[k] !== 'string' || !HEX64.test(r[k] as string))) return `${k} must be a SHA-256 in hex`;
  }
  if ('idempotent' in r && r.idempotent !== true && r.idempotent !== false && r.idempotent !== 'key') return 'idempotent must be true, false or "key"';
  if ((r.kind === 'dispatched') !== 'idempotent' in r) return 'idempotent belongs on dispatched entries, and only there';
  if ((r.kind === 'completed' || r.kind === 'failed') !== 'payload' in r) return `a ${r.kind} entry ${'payload' in r ? 'carries no' : 'needs a'} payload`;
  if ('by' in r && (typeof r.by !== 'string' || r.kind === 'dispatched')) return 'by must be a string, on an outcome';
  return undefined;
}

export const encodeMeta = (meta: ActorMeta): Uint8Array => encoder.encode(canonicalJson(meta));

export function decodeMeta(bytes: Uint8Array): ActorMeta | string {
  let m: unknown;
  try {
    m = JSON.parse(utf8.decode(bytes));
  } catch {
    return 'not JSON';
  }
  const r = m as Partial<ActorMeta> | null;
  const link = (a: unknown): boolean => {
    const x = a as ChainAnchor | null;
    return typeof x === 'object' && x !== null && Number.isSafeInteger(x.seq) && x.seq >= 0 && typeof x.hash === 'string' && HEX64.test(x.hash);
  };
  if (typeof r !== 'object' || r === null || !link(r.anchor) || !link(r.head) || !Number.isSafeInteger(r.compactedThrough)) {
    return 'not an actor head record';
  }
  if (r.anchor!.seq > r.head!.seq) return 'its anchor lies past its head';
  return r as ActorMeta;
}

/** A position in a chain, as the key index and the open-call index store it. */
export const encodeSeq = (seq: number): Uint8Array => encoder.encode(String(seq));

export function decodeSeq(bytes: Uint8Array): number | string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'not text';
  }
  return /^[1-9]\d{0,15}$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : `${JSON.stringify(text.slice(0, 40))} is not a position`;
}
