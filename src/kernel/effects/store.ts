// LMDB storage of the side-effect journal, in four sub-databases: the entries of every
// actor's chain, the latest entry of every key, the keys dispatched with no outcome
// yet, and each actor's chain head and anchor. Every write is one transaction that
// updates all four, so they agree after any crash. Reads decode here, and a record that
// does not decode is a StorageError naming the sub-database and key, never garbage.

import type { Database, RootDatabase } from 'lmdb';
import { StorageError } from '../../base/errors.js';
import { EffectCodes } from './codes.js';
import { decodeEntry, decodeMeta, decodeSeq, encodeMeta, encodeSeq, type ActorMeta, type Entry } from './record.js';

/** Names of the sub-databases, for tools (and tests) that read the journal directly. */
export const EFFECT_DBS = {
  entries: 'effects-entries',
  keys: 'effects-keys',
  open: 'effects-open',
  actors: 'effects-actors',
} as const;

export type EntryKey = [actor: string, seq: number];

/** One entry to append, with the index updates that go with it. */
export interface Append {
  actor: string;
  key: string;
  seq: number;
  bytes: Uint8Array;
  /** Whether the key is left dispatched with no outcome. */
  open: boolean;
  meta: ActorMeta;
}

/** A compaction: entries and key-index records to remove, and the actor's new head record. */
export interface Drop {
  actor: string;
  seqs: number[];
  keys: string[];
  meta: ActorMeta;
}

export class EffectStore {
  private constructor(
    readonly root: RootDatabase,
    readonly entries: Database<Uint8Array, EntryKey>,
    readonly keys: Database<Uint8Array, string>,
    readonly open: Database<Uint8Array, string>,
    readonly actors: Database<Uint8Array, string>,
  ) {}

  static open(db: RootDatabase): EffectStore {
    const sub = <K extends EntryKey | string>(name: string): Database<Uint8Array, K> => db.openDB<Uint8Array, K>({ name, encoding: 'binary' });
    return new EffectStore(db, sub<EntryKey>(EFFECT_DBS.entries), sub(EFFECT_DBS.keys), sub(EFFECT_DBS.open), sub(EFFECT_DBS.actors));
  }

  /** Queue one transaction; resolves when LMDB has committed it. */
  write(appends: readonly Append[], drops: readonly Drop[] = []): Promise<unknown> {
    return this.entries.transaction(() => {
      for (const a of appends) {
        this.entries.put([a.actor, a.seq], a.bytes);
        this.keys.put(a.key, encodeSeq(a.seq));
        if (a.open) this.open.put(a.key, encodeSeq(a.seq));
        else this.open.remove(a.key);
        this.actors.put(a.actor, encodeMeta(a.meta));
      }
      for (const d of drops) {
        for (const seq of d.seqs) this.entries.remove([d.actor, seq]);
        for (const key of d.keys) this.keys.remove(key);
        this.actors.put(d.actor, encodeMeta(d.meta));
      }
    });
  }

  /** Remove every entry, index record and the head record of an actor (keys start with `prefix`); resolves with the entries removed. */
  erase(actor: string, prefix: string): Promise<number> {
    let dropped = 0;
    return this.entries
      .transaction(() => {
        for (const key of this.entries.getKeys({ start: [actor, 0], end: [actor, Infinity] })) {
          this.entries.remove(key);
          dropped++;
        }
        for (const db of [this.keys, this.open]) {
          for (const key of db.getKeys({ start: prefix })) {
            if (typeof key !== 'string' || !key.startsWith(prefix)) break;
            db.remove(key);
          }
        }
        this.actors.remove(actor);
      })
      .then(() => dropped);
  }

  /** Resolves when every write queued so far is committed and flushed to disk. */
  async flushed(): Promise<void> {
    await this.entries.committed;
    await this.root.flushed;
  }

  /** The committed head record of an actor; undefined if it has none. */
  meta(actor: string): ActorMeta | undefined {
    const bytes = this.actors.get(actor);
    if (bytes === undefined) return undefined;
    const meta = decodeMeta(bytes);
    if (typeof meta === 'string') throw corrupt(EFFECT_DBS.actors, actor, `the head record of actor ${JSON.stringify(actor)} is unreadable: ${meta}`);
    return meta;
  }

  /** Whether any entry of the actor is stored (a chain without a head record is damage, not a fresh actor). */
  hasEntries(actor: string): boolean {
    for (const _ of this.entries.getKeys({ start: [actor, 0], end: [actor, Infinity], limit: 1 })) return true;
    return false;
  }

  /** The position of a key's latest entry, from the key index. */
  latestSeq(key: string): number | undefined {
    return this.seqIn(this.keys, EFFECT_DBS.keys, key);
  }

  /** The position of a key's dispatched entry, if the key is open (no outcome committed). */
  openSeq(key: string): number | undefined {
    return this.seqIn(this.open, EFFECT_DBS.open, key);
  }

  /** Keys in the key index (`keys`) or the open-call index (`open`) that start with `prefix`, in order. */
  *indexed(which: 'keys' | 'open', prefix: string): Generator<string> {
    const db = which === 'keys' ? this.keys : this.open;
    for (const key of db.getKeys({ start: prefix })) {
      if (typeof key !== 'string' || !key.startsWith(prefix)) return;
      yield key;
    }
  }

  /** The entry at a position of an actor's chain, decoded; undefined if none is stored. */
  entry(actor: string, seq: number, key?: string): Entry | undefined {
    const bytes = this.entries.get([actor, seq]);
    if (bytes === undefined) return undefined;
    const entry = decodeEntry(bytes);
    const who = key === undefined ? `entry ${seq} of actor ${JSON.stringify(actor)}` : `the journal entry of ${key} (entry ${seq} of actor ${JSON.stringify(actor)})`;
    if (typeof entry === 'string') throw corrupt(EFFECT_DBS.entries, key ?? `${actor}#${seq}`, `${who} is unreadable: ${entry}`, { actor, seq });
    if (entry.header.actor !== actor || entry.header.seq !== seq || (key !== undefined && entry.header.key !== key)) {
      throw corrupt(EFFECT_DBS.entries, key ?? `${actor}#${seq}`, `${who} holds the entry of ${entry.header.key} (entry ${entry.header.seq} of ${JSON.stringify(entry.header.actor)})`, { actor, seq });
    }
    return entry;
  }

  /** Raw entries of an actor's chain from a position on, in order, undecoded. */
  *rawEntries(actor: string, from: number): Generator<{ seq: number; bytes: Uint8Array }> {
    for (const { key, value } of this.entries.getRange({ start: [actor, from], end: [actor, Infinity] })) {
      yield { seq: key[1], bytes: value };
    }
  }

  /** Every actor with a head record or a stored entry, sorted. */
  allActors(): string[] {
    const actors = new Set<string>();
    for (const key of this.actors.getKeys()) if (typeof key === 'string') actors.add(key);
    for (const key of this.entries.getKeys()) {
      if (Array.isArray(key) && typeof key[0] === 'string') actors.add(key[0]);
    }
    return [...actors].sort();
  }

  private seqIn(db: Database<Uint8Array, string>, name: string, key: string): number | undefined {
    const bytes = db.get(key);
    if (bytes === undefined) return undefined;
    const seq = decodeSeq(bytes);
    if (typeof seq === 'string') throw corrupt(name, key, `the ${name} record of ${key} is unreadable: ${seq}`);
    return seq;
  }
}

export function corrupt(db: string, key: string, message: string, extra: Record<string, unknown> = {}): StorageError {
  return new StorageError(EffectCodes.corrupt, message, { field: 'key', details: { db, key, ...extra } });
}
