// LMDB storage of the audit log: exact leaf bytes, the hashes each leaf completes,
// and signed tree heads, in three sub-databases. Writes are queued into lmdb's
// batched async transactions; until a batch commits, reads are served from memory.

import type { Database, RootDatabase } from 'lmdb';
import { StorageError } from '../../base/errors.js';
import { AuditCodes } from './codes.js';
import type { SignedTreeHead } from './keys.js';

/** Names of the sub-databases, for tools that read the log directly. */
export const AUDIT_DBS = { leaves: 'audit-leaves', hashes: 'audit-hashes', heads: 'audit-heads' } as const;

/** One log position as found in storage; a missing part is undefined. */
export interface StoredEntry {
  index: number;
  leaf: Uint8Array | undefined;
  hashes: Uint8Array | undefined;
}

/** Trim committed writes from memory every this many appends. */
/** Largest batch of appends held before writing without waiting for the next turn. */
const BATCH_MAX = 1024;

export class AuditStore {
  /** Leaves at [pendingBase, pendingBase + pendingLeaves.length) may not be committed yet. */
  private pendingBase: number;
  private pendingLeaves: Uint8Array[] = [];
  private pendingHashes: Uint8Array[] = [];
  /** Head writes (null: a removal) not yet committed, with the write generation that queued them. */
  private readonly pendingHeads = new Map<number, { head: SignedTreeHead | null; gen: number }>();
  private gen = 0;
  private lastWrite: PromiseLike<unknown> | undefined;
  /** Leaves below this index have been handed to LMDB; the rest wait for the next batch. */
  private queuedUpTo: number;
  private batchScheduled = false;
  private failure: unknown;

  private constructor(
    private readonly root: RootDatabase,
    private readonly leavesDb: Database<Uint8Array, number>,
    private readonly hashesDb: Database<Uint8Array, number>,
    private readonly headsDb: Database<SignedTreeHead, number>,
  ) {
    this.pendingBase = this.storedCount();
    this.queuedUpTo = this.pendingBase;
  }

  static open(db: RootDatabase): AuditStore {
    return new AuditStore(
      db,
      db.openDB<Uint8Array, number>({ name: AUDIT_DBS.leaves, encoding: 'binary' }),
      db.openDB<Uint8Array, number>({ name: AUDIT_DBS.hashes, encoding: 'binary' }),
      db.openDB<SignedTreeHead, number>({ name: AUDIT_DBS.heads, encoding: 'json' }),
    );
  }

  /** One past the highest leaf index stored (committed or queued). */
  get end(): number {
    return this.pendingBase + this.pendingLeaves.length;
  }

  /** One past the highest committed leaf key, 0 when empty. */
  storedCount(): number {
    for (const key of this.leavesDb.getKeys({ reverse: true })) {
      if (Number.isSafeInteger(key) && key >= 0) return key + 1; // skip foreign keys an intruder may have added
    }
    return 0;
  }

  /** Queue one append. The leaf goes last, so a committed leaf implies its hashes are committed. */
  append(index: number, leaf: Uint8Array, hashes: Uint8Array): void {
    this.throwIfFailed();
    if (index !== this.end) throw new RangeError(`append at ${index}, but the store ends at ${this.end}`);
    this.pendingLeaves.push(leaf);
    this.pendingHashes.push(hashes);
    // Appends are handed to LMDB in batches on the next event-loop turn: an append costs an
    // array push, off the caller's path, and a burst of decisions costs one pass of puts.
    if (this.end - this.queuedUpTo >= BATCH_MAX) this.writeBatch();
    else if (!this.batchScheduled) {
      this.batchScheduled = true;
      setImmediate(() => this.writeBatch());
    }
  }

  /** Hand every queued append to LMDB in one transaction (hashes before leaf, as always). */
  private writeBatch(): void {
    this.batchScheduled = false;
    const from = this.queuedUpTo;
    const to = this.end;
    if (to <= from || this.failure !== undefined) return;
    const status = (this.root as unknown as { status?: string }).status;
    if (status === 'closing' || status === 'closed') {
      // The environment is closing without `flushed()` first: these records cannot be stored.
      // Fail closed (appends are refused from now on) rather than write into a closing env.
      this.failure ??= new Error('the LMDB environment was closed before queued audit records were written');
      return;
    }
    const leaves = this.pendingLeaves.slice(from - this.pendingBase, to - this.pendingBase);
    const hashes = this.pendingHashes.slice(from - this.pendingBase, to - this.pendingBase);
    this.queuedUpTo = to;
    // Plain async puts: LMDB groups them into its own write transaction; we only moved their
    // cost off the append path. Hashes before leaf, so a committed leaf implies its hashes.
    let write: PromiseLike<unknown> | undefined;
    try {
      for (let i = 0; i < leaves.length; i++) {
        this.observe(this.hashesDb.put(from + i, hashes[i]!));
        write = this.leavesDb.put(from + i, leaves[i]!);
      }
    } catch (cause) {
      // The environment was closed under us (e.g. without `flushed()` first): fail closed, never throw from a timer.
      this.failure ??= cause;
      return;
    }
    if (write === undefined) return;
    this.track(write);
    const gen = this.gen;
    write.then(
      () => this.trim(to, gen),
      () => undefined,
    );
  }

  putHead(head: SignedTreeHead, replaces?: number): void {
    this.throwIfFailed();
    const gen = ++this.gen;
    if (replaces !== undefined && replaces !== head.size) {
      this.pendingHeads.set(replaces, { head: null, gen });
      this.track(this.headsDb.remove(replaces));
    }
    this.pendingHeads.set(head.size, { head, gen });
    this.track(this.headsDb.put(head.size, head));
  }

  leaf(index: number): Uint8Array | undefined {
    if (index >= this.pendingBase && index < this.end) return this.pendingLeaves[index - this.pendingBase];
    return this.leavesDb.get(index);
  }

  hashes(index: number): Uint8Array | undefined {
    if (index >= this.pendingBase && index < this.end) return this.pendingHashes[index - this.pendingBase];
    return this.hashesDb.get(index);
  }

  /** Leaves [from, to) in order, as fresh buffers; a StorageError names the first one missing. */
  leaves(from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const dbEnd = Math.min(to, this.pendingBase);
    if (from < dbEnd) {
      for (const { key, value } of this.leavesDb.getRange({ start: from, end: dbEnd })) {
        if (key !== from + out.length) break;
        out.push(value);
      }
      if (out.length !== dbEnd - from) throw missing(from + out.length);
    }
    for (let i = Math.max(from, this.pendingBase); i < to; i++) {
      const leaf = this.pendingLeaves[i - this.pendingBase];
      if (leaf === undefined) throw missing(i);
      out.push(Buffer.from(leaf)); // a copy: callers must not reach the bytes still queued for writing
    }
    return out;
  }

  /** Every stored head by the size it is filed under, smallest first (queued writes included). */
  heads(): Array<{ size: number; head: SignedTreeHead }> {
    const bySize = new Map<number, SignedTreeHead>();
    for (const { key, value } of this.headsDb.getRange({ start: 0 })) bySize.set(key, value);
    for (const [size, { head }] of this.pendingHeads) {
      if (head === null) bySize.delete(size);
      else bySize.set(size, head);
    }
    return [...bySize].sort((a, b) => a[0] - b[0]).map(([size, head]) => ({ size, head }));
  }

  lastHead(): SignedTreeHead | undefined {
    const all = this.heads();
    return all[all.length - 1]?.head;
  }

  /**
   * Positions 0, 1, 2… with whatever storage holds for each, in one ordered pass.
   * Stops where both sub-databases run out (before `end` if records were removed).
   */
  *entries(): Generator<StoredEntry> {
    const leaves = this.leavesDb.getRange({ start: 0, end: this.pendingBase })[Symbol.iterator]();
    const hashes = this.hashesDb.getRange({ start: 0, end: this.pendingBase })[Symbol.iterator]();
    let a = leaves.next();
    let b = hashes.next();
    for (let index = 0; index < this.pendingBase; index++) {
      while (!a.done && a.value.key < index) a = leaves.next();
      while (!b.done && b.value.key < index) b = hashes.next();
      if (a.done && b.done) return;
      const entry: StoredEntry = { index, leaf: undefined, hashes: undefined };
      if (!a.done && a.value.key === index) entry.leaf = a.value.value;
      if (!b.done && b.value.key === index) entry.hashes = b.value.value;
      yield entry;
    }
    for (let i = 0; i < this.pendingLeaves.length; i++) {
      yield { index: this.pendingBase + i, leaf: this.pendingLeaves[i], hashes: this.pendingHashes[i] };
    }
  }

  /** Resolves when every write queued so far is committed and synced to disk. */
  async flushed(): Promise<void> {
    this.writeBatch();
    const upTo = this.end;
    const gen = this.gen;
    try {
      await this.lastWrite;
      await this.leavesDb.flushed;
    } catch (cause) {
      this.failure ??= cause;
    }
    this.throwIfFailed();
    this.trim(upTo, gen);
  }

  /** A put inside a batch may still report failure through its own promise: record it, fail closed. */
  private observe(result: unknown): void {
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, (cause: unknown) => {
        this.failure ??= cause;
      });
    }
  }

  private track(write: PromiseLike<unknown>): void {
    if (write === this.lastWrite) return; // lmdb hands every write of one batch the same promise
    this.lastWrite = write;
    write.then(undefined, (cause: unknown) => {
      this.failure ??= cause;
    });
  }

  private trim(upTo: number, gen: number): void {
    const drop = Math.min(upTo, this.end) - this.pendingBase;
    if (drop > 0) {
      this.pendingLeaves = this.pendingLeaves.slice(drop);
      this.pendingHashes = this.pendingHashes.slice(drop);
      this.pendingBase += drop;
    }
    for (const [size, entry] of this.pendingHeads) if (entry.gen <= gen) this.pendingHeads.delete(size);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw new StorageError(AuditCodes.writeFailed, 'the audit log could not be written to LMDB; refusing further appends', {
        cause: this.failure,
      });
    }
  }
}

function missing(index: number): StorageError {
  return new StorageError(AuditCodes.corrupt, `audit record ${index} is missing from storage`, { details: { index } });
}
