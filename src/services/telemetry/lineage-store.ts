// Lineage records in the node's LMDB (sub-database `lineage`), bounded: the
// `keep` most recent turns stay, older ones are deleted with their index
// entries as new ones arrive. Keys (ordered-binary arrays):
//   ['t', seq]                → the turn record
//   ['x', traceId, seq]       → index by trace id
//   ['a', actor, turn, seq]   → index by `<actor>#<turn>` (the newest seq wins:
//                               a non-persistent actor counts turns from 1 on each node run)
// Writes are LMDB's batched async puts, and changes to a record made in one
// run of the event loop are written once (at the end of that run, in a
// microtask); a record not yet committed (or still growing: its turn's calls
// are still running) is served from memory, so a query never sees an older
// version than the recorder holds.

import type { Database, RootDatabase } from 'lmdb';
import type { LineageTurn } from './lineage-record.js';

type Key = (string | number)[];
const MAX = Number.MAX_SAFE_INTEGER;

interface Pending {
  turn: LineageTurn;
  /** Puts of this record not yet committed. */
  writes: number;
  /** The turn may still get calls (its actor has not begun another turn). */
  open: boolean;
}

export class LineageStore {
  private readonly db: Database<unknown, Key>;
  private next: number;
  private oldest: number;
  private readonly pending = new Map<number, Pending>();
  /** Records changed since the last write. */
  private readonly dirty = new Set<Pending>();
  private flushQueued = false;

  constructor(
    root: RootDatabase,
    private readonly keep: number,
  ) {
    this.db = root.openDB<unknown, Key>({ name: 'lineage', encoding: 'msgpack' });
    const seqAt = (reverse: boolean): number | undefined => {
      for (const key of this.db.getKeys({ start: reverse ? ['t', MAX] : ['t', 0], end: reverse ? ['t', 0] : ['t', MAX], reverse, limit: 1 })) return key[1] as number;
      return undefined;
    };
    const last = seqAt(true);
    this.next = last === undefined ? 1 : last + 1;
    this.oldest = seqAt(false) ?? this.next;
    this.evict();
  }

  /** Store a new turn record (its `seq` is assigned here); it stays open to updates until `close`. */
  add(turn: Omit<LineageTurn, 'seq'>): LineageTurn {
    const record = { seq: this.next++, ...turn } as LineageTurn;
    this.pending.set(record.seq, { turn: record, writes: 0, open: true });
    if (record.traceId !== undefined) void this.db.put(['x', record.traceId, record.seq], 1);
    void this.db.put(['a', record.actor, record.turn, record.seq], 1);
    this.save(record);
    this.evict();
    return record;
  }

  /** The record changed (a call started or ended): it is written once this run of the event loop is over. */
  save(record: LineageTurn): void {
    let p = this.pending.get(record.seq);
    if (!p) {
      // Closed and written already (a call that outlived its turn ended), or evicted: then it stays gone.
      if (record.seq < this.oldest) return;
      p = { turn: record, writes: 0, open: false };
      this.pending.set(record.seq, p);
    }
    this.dirty.add(p);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Write every changed record. */
  private flush(): void {
    this.flushQueued = false;
    for (const p of this.dirty) {
      if (this.pending.get(p.turn.seq) !== p) continue; // evicted meanwhile
      p.writes++;
      const done = (): void => {
        p.writes--;
        this.settle(p);
      };
      this.db.put(['t', p.turn.seq], p.turn).then(done, done);
    }
    this.dirty.clear();
  }

  /** No more calls will be added to the record; it leaves memory once written. */
  close(record: LineageTurn): void {
    const p = this.pending.get(record.seq);
    if (!p) return;
    p.open = false;
    this.settle(p);
  }

  get(seq: number): LineageTurn | undefined {
    // Below `oldest`: evicted, even if the delete is not committed yet.
    if (seq < this.oldest) return undefined;
    return this.pending.get(seq)?.turn ?? (this.db.get(['t', seq]) as LineageTurn | undefined);
  }

  /** Every stored turn of a trace, in store order. */
  byTrace(traceId: string): LineageTurn[] {
    const seqs = new Set<number>();
    for (const key of this.db.getKeys({ start: ['x', traceId, 0], end: ['x', traceId, MAX] })) seqs.add(key[2] as number);
    for (const p of this.pending.values()) if (p.turn.traceId === traceId) seqs.add(p.turn.seq);
    return this.load(seqs);
  }

  /** The newest stored record of an actor's turn. */
  byTurn(actor: string, turn: number): LineageTurn | undefined {
    let seq: number | undefined;
    for (const key of this.db.getKeys({ start: ['a', actor, turn, MAX], end: ['a', actor, turn, 0], reverse: true, limit: 1 })) seq = key[3] as number;
    for (const p of this.pending.values()) if (p.turn.actor === actor && p.turn.turn === turn && (seq === undefined || p.turn.seq > seq)) seq = p.turn.seq;
    return seq === undefined ? undefined : this.get(seq);
  }

  /** The newest records, newest first (of one actor, when given). */
  recent(limit: number, actor?: string): LineageTurn[] {
    const out: LineageTurn[] = [];
    // Records still in memory are the newest; the committed ones follow (a seq in both is taken once).
    const fresh = [...this.pending.values()].map((p) => p.turn).sort((a, b) => b.seq - a.seq);
    const seen = new Set<number>();
    const take = (t: LineageTurn): boolean => {
      if (seen.has(t.seq)) return out.length < limit;
      seen.add(t.seq);
      if (actor === undefined || t.actor === actor) out.push(t);
      return out.length < limit;
    };
    for (const t of fresh) if (!take(t)) return out;
    for (const { key, value } of this.db.getRange({ start: ['t', MAX], end: ['t', 0], reverse: true })) {
      const seq = key[1] as number;
      if (seq < this.oldest) break;
      if (!take(this.pending.get(seq)?.turn ?? (value as LineageTurn))) break;
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  /** Records kept (committed or not). */
  get size(): number {
    return this.next - this.oldest;
  }

  /** Resolves once every change so far is committed. */
  flushed(): Promise<unknown> {
    this.flush();
    return this.db.committed;
  }

  private load(seqs: Iterable<number>): LineageTurn[] {
    const out: LineageTurn[] = [];
    for (const seq of [...seqs].sort((a, b) => a - b)) {
      const t = this.get(seq);
      if (t) out.push(t);
    }
    return out;
  }

  private settle(p: Pending): void {
    if (!p.open && p.writes === 0 && !this.dirty.has(p) && this.pending.get(p.turn.seq) === p) this.pending.delete(p.turn.seq);
  }

  /** Delete the oldest records beyond `keep`, with their index entries. */
  private evict(): void {
    while (this.next - this.oldest > this.keep) {
      const seq = this.oldest;
      const t = this.get(seq);
      this.oldest++;
      this.pending.delete(seq);
      if (!t) continue;
      void this.db.remove(['t', seq]);
      if (t.traceId !== undefined) void this.db.remove(['x', t.traceId, seq]);
      void this.db.remove(['a', t.actor, t.turn, seq]);
    }
  }
}
