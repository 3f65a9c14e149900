// The records the durable store keeps for persistent actors, and their codec.
// Each record is msgpack (no shared structures, so any record decodes alone)
// and is checked field by field on the way back: a record that does not decode
// or has the wrong shape is a StorageError naming the actor and the record,
// never a half-read value.

import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { StorageError } from '../../base/errors.js';

export const DurableCodes = {
  /** A stored record does not decode, or decodes to the wrong shape. */
  corrupt: 'DURABLE_CORRUPT',
  /** The turn log's hash chain is broken: an entry was changed, removed or inserted. */
  chainBroken: 'DURABLE_CHAIN_BROKEN',
  /** A persisted actor names a definition this node does not have. */
  unknownDefinition: 'DURABLE_UNKNOWN_DEFINITION',
  /** The actor is held (not running) because its stored state could not be used. */
  held: 'ACTOR_HELD',
  /** Writing to LMDB failed; persistent actors refuse further work. */
  writeFailed: 'DURABLE_WRITE_FAILED',
} as const;

/** Spawn options of a persisted top-level actor, replayed on recovery. */
export interface SpawnRecord {
  tenant?: string;
  restart?: 'permanent' | 'transient' | 'temporary';
  shutdownMs?: number | 'infinity';
  input?: unknown;
}

/** A supervisor spec with every agent replaced by its `name@version`. */
export interface SpecRecord {
  kind: 'supervisor';
  id: string;
  strategy: string;
  intensity?: number;
  periodMs?: number;
  children: Array<ChildRecord | SpecRecord>;
}

export interface ChildRecord {
  kind?: undefined;
  id: string;
  agent: string;
  input?: unknown;
  restart?: string;
  shutdownMs?: number | 'infinity';
  args?: unknown;
}

/** Something recovery must start again: a top-level agent, a top-level supervisor tree, or a dynamic child. */
export type ActorRecord =
  | { v: 1; kind: 'agent'; id: string; order: number; agent: string; spawn: SpawnRecord }
  | { v: 1; kind: 'tree'; id: string; order: number; spec: SpecRecord; spawn: SpawnRecord }
  | { v: 1; kind: 'dynamic'; id: string; order: number; supervisor: string; args?: unknown };

/** A message payload, inline or (when large) stored once by hash in the blob table. */
export type Body = { inline: unknown } | { blob: string };

/** A message accepted for a persistent actor and not yet handled. */
export interface InboxRecord {
  seq: number;
  at: number;
  body: Body;
  from?: string;
  /** Dedupe position of a message from a persistent sender: [turn, call]. */
  origin?: [number, number];
  priority?: number;
  deadline?: number;
  conversationId?: string;
  performative?: string;
}

/** One handled message (a turn), kept for redelivery after a crash and for replay. */
export interface TurnRecord {
  turn: number;
  /** Inbox position it came from. */
  seq: number;
  /** Clock time the turn ran. */
  at: number;
  body: Body;
  from?: string;
  /** Keys of calls whose results the actor received since the previous turn, in order. */
  settled: string[];
  /** XState state value right after the message was handled. */
  value: unknown;
  /** Digest of state value and context right after the message was handled. */
  digest: string;
  /** The handler crashed: on redelivery the turn is skipped, not run again. */
  crashed?: boolean;
  /** Chain hash: sha256(previous chain ‖ this record without `chain`). */
  chain: string;
}

export interface CheckpointRecord {
  v: 1;
  /** Turns up to and including this one are in the snapshot. */
  turn: number;
  at: number;
  /** Chain hash of the turn record `turn` (or the genesis value for turn 0). */
  chain: string;
  /** encodeSnapshot bytes. */
  snapshot: Uint8Array;
}

const packr = new Packr({ useRecords: false, moreTypes: true } as ConstructorParameters<typeof Packr>[0]);

export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** Bytes of the seal: the first 8 of the SHA-256 of the record's msgpack. */
const SEAL = 8;

/**
 * What is stored for a record: its msgpack, then a seal over it. A bit flipped on disk
 * can leave msgpack that still decodes (another amount, another input): the seal turns
 * that into an unreadable record, never a different one. Turn records are not sealed:
 * their hash chain catches the same, and says where.
 */
export function seal(packed: Uint8Array): Buffer {
  const digest = createHash('sha256').update(packed).digest();
  return Buffer.concat([packed, digest.subarray(0, SEAL)]);
}

/** The msgpack inside stored bytes, or why they are not a sealed record. */
function unseal(bytes: Uint8Array): Uint8Array | string {
  if (bytes.length <= SEAL) return `${bytes.length} bytes is too short for a record`;
  const body = bytes.subarray(0, bytes.length - SEAL);
  const digest = createHash('sha256').update(body).digest().subarray(0, SEAL);
  return Buffer.from(bytes.buffer, bytes.byteOffset + body.length, SEAL).equals(digest) ? body : 'its bytes do not match their seal (damaged on disk)';
}

export function corruptRecord(actor: string, what: string, why: string): StorageError {
  return new StorageError(DurableCodes.corrupt, `persistent actor "${actor}": its ${what} is unreadable: ${why}`, {
    field: what,
    details: { actor, record: what },
  });
}

function unpackRecord(bytes: Uint8Array, actor: string, what: string, sealed = true): Record<string, unknown> {
  const body = sealed ? unseal(bytes) : bytes;
  if (typeof body === 'string') throw corruptRecord(actor, what, body);
  let value: unknown;
  try {
    value = packr.unpack(body);
  } catch (err) {
    throw corruptRecord(actor, what, (err as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corruptRecord(actor, what, 'not a record');
  return value as Record<string, unknown>;
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

function checkBody(v: unknown): v is Body {
  if (typeof v !== 'object' || v === null) return false;
  return 'inline' in v || isStr((v as { blob?: unknown }).blob);
}

export function decodeActor(bytes: Uint8Array, id: string): ActorRecord {
  const r = unpackRecord(bytes, id, 'registration');
  const ok =
    r.v === 1 &&
    r.id === id &&
    isInt(r.order) &&
    ((r.kind === 'agent' && isStr(r.agent)) || (r.kind === 'tree' && typeof r.spec === 'object' && r.spec !== null) || (r.kind === 'dynamic' && isStr(r.supervisor)));
  if (!ok) throw corruptRecord(id, 'registration', 'fields missing or of the wrong type');
  return r as unknown as ActorRecord;
}

export function decodeInbox(bytes: Uint8Array, actor: string, seq: number): InboxRecord {
  const r = unpackRecord(bytes, actor, `inbox message ${seq}`);
  if (r.seq !== seq || !isInt(r.at) || !checkBody(r.body)) throw corruptRecord(actor, `inbox message ${seq}`, 'fields missing or of the wrong type');
  return r as unknown as InboxRecord;
}

export function decodeTurn(bytes: Uint8Array, actor: string, turn: number): TurnRecord {
  const r = unpackRecord(bytes, actor, `turn ${turn}`, false); // not sealed: its hash chain covers it
  if (r.turn !== turn || !isInt(r.seq) || !isInt(r.at) || !checkBody(r.body) || !Array.isArray(r.settled) || !isStr(r.digest) || !isStr(r.chain)) {
    throw corruptRecord(actor, `turn ${turn}`, 'fields missing or of the wrong type');
  }
  return r as unknown as TurnRecord;
}

export function decodeCheckpoint(bytes: Uint8Array, actor: string, which: string): CheckpointRecord {
  const r = unpackRecord(bytes, actor, `${which} checkpoint`);
  if (r.v !== 1 || !isInt(r.turn) || !isInt(r.at) || !isStr(r.chain) || !(r.snapshot instanceof Uint8Array)) {
    throw corruptRecord(actor, `${which} checkpoint`, 'fields missing or of the wrong type');
  }
  return r as unknown as CheckpointRecord;
}

export function decodeOrigin(bytes: Uint8Array, actor: string, sender: string): [number, number] {
  const r = unpackRecord(bytes, actor, `dedupe mark of ${sender}`);
  const at = r.at as unknown;
  if (!Array.isArray(at) || at.length !== 2 || !isInt(at[0]) || !isInt(at[1])) throw corruptRecord(actor, `dedupe mark of ${sender}`, 'not a [turn, call] pair');
  return at as [number, number];
}
