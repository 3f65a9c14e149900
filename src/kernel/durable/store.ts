// LMDB storage of persistent actors, in sub-databases of the node's environment:
// registrations (what recovery starts again), checkpoints (latest and replay
// base), the inbox (accepted, not yet handled), the turn log (handled, kept for
// redelivery and replay), dedupe marks (last message seen from each persistent
// sender) and blobs (large payloads, stored once by hash, reference-counted).
// Every logical step is one transaction, so the tables agree after any crash.

import { createHash } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { StorageError } from '../../base/errors.js';
import {
  corruptRecord,
  decodeActor,
  decodeCheckpoint,
  decodeInbox,
  decodeOrigin,
  decodeTurn,
  DurableCodes,
  pack,
  seal,
  unpack,
  type ActorRecord,
  type Body,
  type CheckpointRecord,
  type InboxRecord,
  type TurnRecord,
} from './records.js';

export const DURABLE_DBS = {
  actors: 'durable-actors',
  checkpoints: 'durable-checkpoints',
  inbox: 'durable-inbox',
  turns: 'durable-turns',
  dedupe: 'durable-dedupe',
  blobs: 'durable-blobs',
} as const;

/** Payloads at least this large (packed bytes) are stored once by hash. */
export const BLOB_THRESHOLD = 1024;

export const GENESIS_CHAIN = '0'.repeat(64);

type Key2 = [string, number];

export class DurableStore {
  private readonly actorsDb: Database<Uint8Array, string>;
  private readonly checkpointsDb: Database<Uint8Array, [string, string]>;
  private readonly inboxDb: Database<Uint8Array, Key2>;
  private readonly turnsDb: Database<Uint8Array, Key2>;
  private readonly dedupeDb: Database<Uint8Array, [string, string]>;
  private readonly blobsDb: Database<Uint8Array, string>;
  private failure: unknown;
  /** Senders whose marks a queued forget drops (count of such forgets not yet committed). */
  private readonly forgettingSenders = new Map<string, number>();

  constructor(readonly root: RootDatabase) {
    const sub = <K extends string | Key2 | [string, string]>(name: string): Database<Uint8Array, K> => root.openDB<Uint8Array, K>({ name, encoding: 'binary' });
    this.actorsDb = sub(DURABLE_DBS.actors);
    this.checkpointsDb = sub(DURABLE_DBS.checkpoints);
    this.inboxDb = sub(DURABLE_DBS.inbox);
    this.turnsDb = sub(DURABLE_DBS.turns);
    this.dedupeDb = sub(DURABLE_DBS.dedupe);
    this.blobsDb = sub(DURABLE_DBS.blobs);
  }

  // ── writes (each one transaction; resolve when committed) ─────────────

  register(record: ActorRecord): Promise<void> {
    return this.txn(() => this.actorsDb.put(record.id, seal(pack(record))));
  }

  /**
   * Forget an actor for good: registration, checkpoints, inbox, turns, dedupe marks and its blob
   * references. `movedAway`: the actor lives on elsewhere, so the marks others keep of it stay.
   */
  forget(id: string, registration: boolean, movedAway = false): Promise<void> {
    if (!movedAway) this.forgettingSenders.set(id, (this.forgettingSenders.get(id) ?? 0) + 1);
    const done = this.txn(() => {
      if (registration) this.actorsDb.remove(id);
      this.checkpointsDb.remove([id, 'latest']);
      this.checkpointsDb.remove([id, 'base']);
      for (const { key, value } of this.inboxDb.getRange({ start: [id, 0], end: [id, Infinity] })) {
        this.releaseBody(safeBody(() => decodeInbox(value, id, key[1]).body));
        this.inboxDb.remove(key);
      }
      for (const { key, value } of this.turnsDb.getRange({ start: [id, 0], end: [id, Infinity] })) {
        this.releaseBody(safeBody(() => decodeTurn(value, id, key[1]).body));
        this.turnsDb.remove(key);
      }
      // Marks it kept, and marks others kept of it: a new actor may take the id and start its history again.
      for (const key of this.dedupeDb.getKeys()) if (key[0] === id || (!movedAway && key[1] === id)) this.dedupeDb.remove(key);
    });
    if (movedAway) return done;
    const settled = (): void => {
      const n = (this.forgettingSenders.get(id) ?? 1) - 1;
      if (n > 0) this.forgettingSenders.set(id, n);
      else this.forgettingSenders.delete(id);
    };
    done.then(settled, settled);
    return done;
  }

  /** Whether a forget that drops the marks others keep of sender `id` is queued and not yet committed. */
  isForgetting(id: string): boolean {
    return this.forgettingSenders.has(id);
  }

  /**
   * An actor moved in from another node: its registration, its checkpoint (as latest and
   * replay base: no turns follow it here) and the dedupe marks it kept, in one transaction.
   */
  importState(registration: ActorRecord, checkpoint: CheckpointRecord, marks: ReadonlyArray<[string, [number, number]]>): Promise<void> {
    const actor = registration.id;
    return this.txn(() => {
      this.actorsDb.put(actor, seal(pack(registration)));
      const bytes = seal(packCheckpoint(checkpoint));
      this.checkpointsDb.put([actor, 'latest'], bytes);
      this.checkpointsDb.put([actor, 'base'], bytes);
      for (const [from, at] of marks) this.dedupeDb.put([actor, from], seal(pack({ at })));
    });
  }

  /** An accepted message (and, from a persistent sender, its dedupe mark). `body` comes from `prepareBody`. */
  accept(actor: string, record: InboxRecord, blob?: Buffer): Promise<void> {
    return this.txn(() => {
      if (blob !== undefined && 'blob' in record.body) this.retainBlob(record.body.blob, blob);
      this.inboxDb.put([actor, record.seq], seal(pack(record)));
      if (record.from !== undefined && record.origin !== undefined) this.dedupeDb.put([actor, record.from], seal(pack({ at: record.origin })));
    });
  }

  /** A handled message moves from the inbox to the turn log (its blob reference moves with it). */
  turn(actor: string, record: TurnRecord): Promise<void> {
    return this.txn(() => {
      this.inboxDb.remove([actor, record.seq]);
      this.turnsDb.put([actor, record.turn], pack(record));
    });
  }

  /**
   * A checkpoint. With `base`, it also becomes the replay base and the turn log up to
   * its turn is dropped (compaction), releasing the blobs those turns held.
   */
  checkpoint(actor: string, record: CheckpointRecord, base: boolean): Promise<void> {
    return this.txn(() => {
      const bytes = seal(packCheckpoint(record));
      this.checkpointsDb.put([actor, 'latest'], bytes);
      if (!base) return;
      this.checkpointsDb.put([actor, 'base'], bytes);
      for (const { key, value } of this.turnsDb.getRange({ start: [actor, 0], end: [actor, record.turn + 1] })) {
        this.releaseBody(safeBody(() => decodeTurn(value, actor, key[1]).body));
        this.turnsDb.remove(key);
      }
    });
  }

  /** Resolves when every write queued so far is committed and flushed to disk. */
  async flushed(): Promise<void> {
    await this.inboxDb.committed;
    await this.root.flushed;
  }

  /** The first write failure, if any: persistent actors stop taking work after one. */
  get failed(): unknown {
    return this.failure;
  }

  // ── reads ─────────────────────────────────────────────────────────────

  registrations(): Array<ActorRecord | { id: string; error: StorageError }> {
    const out: Array<ActorRecord | { id: string; error: StorageError }> = [];
    for (const { key, value } of this.actorsDb.getRange()) {
      try {
        out.push(decodeActor(value, key));
      } catch (err) {
        out.push({ id: key, error: err as StorageError });
      }
    }
    return out.sort((a, b) => ('order' in a ? a.order : -1) - ('order' in b ? b.order : -1));
  }

  /** Every actor with stored state (a checkpoint), nested children of persistent trees included. */
  actorsWithState(): string[] {
    const ids = new Set<string>();
    for (const key of this.checkpointsDb.getKeys()) if (Array.isArray(key) && typeof key[0] === 'string') ids.add(key[0]);
    return [...ids].sort();
  }

  registration(id: string): ActorRecord | undefined {
    const bytes = this.actorsDb.get(id);
    return bytes === undefined ? undefined : decodeActor(bytes, id);
  }

  checkpointOf(actor: string, which: 'latest' | 'base' = 'latest'): CheckpointRecord | undefined {
    const bytes = this.checkpointsDb.get([actor, which]);
    return bytes === undefined ? undefined : decodeCheckpoint(bytes, actor, which);
  }

  inbox(actor: string): InboxRecord[] {
    const out: InboxRecord[] = [];
    for (const { key, value } of this.inboxDb.getRange({ start: [actor, 0], end: [actor, Infinity] })) out.push(decodeInbox(value, actor, key[1]));
    return out;
  }

  /** Turn records after `afterTurn`, in order. */
  turns(actor: string, afterTurn: number): TurnRecord[] {
    const out: TurnRecord[] = [];
    for (const { key, value } of this.turnsDb.getRange({ start: [actor, afterTurn + 1], end: [actor, Infinity] })) out.push(decodeTurn(value, actor, key[1]));
    return out;
  }

  /** Turn records after `afterTurn`, in order, each decoded or with why it cannot be (replay reports damage instead of stopping at it). */
  turnLog(actor: string, afterTurn: number): Array<{ turn: number; record: TurnRecord } | { turn: number; error: StorageError }> {
    const out: Array<{ turn: number; record: TurnRecord } | { turn: number; error: StorageError }> = [];
    for (const { key, value } of this.turnsDb.getRange({ start: [actor, afterTurn + 1], end: [actor, Infinity] })) {
      try {
        out.push({ turn: key[1], record: decodeTurn(value, actor, key[1]) });
      } catch (err) {
        out.push({ turn: key[1], error: err as StorageError });
      }
    }
    return out;
  }

  /** Highest inbox position ever used by the actor (inbox or turn log), 0 if none. */
  lastSeq(actor: string): number {
    let max = 0;
    for (const key of this.inboxDb.getKeys({ start: [actor, Infinity], end: [actor, 0], reverse: true, limit: 1 })) max = Math.max(max, key[1]);
    for (const { value, key } of this.turnsDb.getRange({ start: [actor, Infinity], end: [actor, 0], reverse: true, limit: 1 })) {
      max = Math.max(max, decodeTurn(value, actor, key[1]).seq);
    }
    return max;
  }

  /** Last [turn, call] seen by `actor` from persistent sender `from`. */
  origin(actor: string, from: string): [number, number] | undefined {
    const bytes = this.dedupeDb.get([actor, from]);
    return bytes === undefined ? undefined : decodeOrigin(bytes, actor, from);
  }

  /** The dedupe marks `actor` keeps: the last [turn, call] seen from each persistent sender. */
  marks(actor: string): Array<[string, [number, number]]> {
    const out: Array<[string, [number, number]]> = [];
    for (const { key, value } of this.dedupeDb.getRange({ start: [actor] as unknown as [string, string] })) {
      if (key[0] !== actor) break;
      out.push([key[1], decodeOrigin(value, actor, key[1])]);
    }
    return out;
  }

  payload(actor: string, body: Body): unknown {
    if ('inline' in body) return body.inline;
    const bytes = this.blobsDb.get(body.blob);
    if (bytes === undefined) throw corruptRecord(actor, `blob ${body.blob}`, 'missing');
    const blob = bytes.subarray(4);
    if (createHash('sha256').update(blob).digest('hex') !== body.blob) throw corruptRecord(actor, `blob ${body.blob}`, 'its bytes do not match its hash');
    try {
      return unpack(blob);
    } catch (err) {
      throw corruptRecord(actor, `blob ${body.blob}`, (err as Error).message);
    }
  }

  /** Number of stored blobs (tests and the soak report). */
  blobCount(): number {
    return this.blobsDb.getKeysCount();
  }

  // ── internals ─────────────────────────────────────────────────────────

  private txn(work: () => void): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(writeFailed(this.failure));
    const done = this.inboxDb.transaction(work).then(
      () => undefined,
      (cause: unknown) => {
        this.failure ??= cause;
        throw writeFailed(cause);
      },
    );
    return done;
  }

  /** Inside a transaction: count one more reference to a blob, storing its bytes on the first. */
  private retainBlob(hash: string, bytes: Buffer): void {
    const old = this.blobsDb.get(hash);
    const refs = old === undefined ? 0 : refsOf(old);
    const rec = Buffer.allocUnsafe(4 + bytes.length);
    rec.writeUInt32BE(refs + 1, 0);
    bytes.copy(rec, 4);
    this.blobsDb.put(hash, rec);
  }

  private releaseBody(body: Body | undefined): void {
    if (body === undefined || !('blob' in body)) return;
    const old = this.blobsDb.get(body.blob);
    if (old === undefined) return;
    const refs = refsOf(old);
    if (refs <= 1) this.blobsDb.remove(body.blob);
    else {
      const rec = Buffer.from(old);
      rec.writeUInt32BE(refs - 1, 0);
      this.blobsDb.put(body.blob, rec);
    }
  }
}

/** Checkpoints at least this large (packed) are padded to a size class. */
const PAD_FROM = 4096;

/**
 * A checkpoint that keeps growing (a conversation kept in context) never fits the pages
 * its previous version freed, so LMDB kept appending: the data file grew with the square
 * of the checkpoint's size (46 MB for 5 MB of stored values after 10,000 checkpoints of a
 * growing conversation). Padded to a size class (powers of two and halfway between: at
 * most half again as many bytes), successive versions reuse the same runs of pages.
 * The decoders ignore the extra `pad` field.
 */
function packCheckpoint(record: CheckpointRecord): Buffer {
  const bytes = pack(record);
  if (bytes.length < PAD_FROM) return bytes;
  const room = 16; // the `pad` key and its bin header
  return pack({ ...record, pad: new Uint8Array(sizeClass(bytes.length + room) - bytes.length - room) });
}

function sizeClass(n: number): number {
  const p = 2 ** Math.floor(Math.log2(n));
  return n === p ? p : n <= 1.5 * p ? 1.5 * p : 2 * p;
}

function refsOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

/** How a payload is stored: inline, or by hash (with the bytes to store once). */
export function prepareBody(payload: unknown): { body: Body; blob?: Buffer } {
  const bytes = pack(payload);
  if (bytes.length < BLOB_THRESHOLD) return { body: { inline: payload } };
  return { body: { blob: createHash('sha256').update(bytes).digest('hex') }, blob: bytes };
}

function safeBody(read: () => Body): Body | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function writeFailed(cause: unknown): StorageError {
  return new StorageError(DurableCodes.writeFailed, `persistent actors: an LMDB write failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}
