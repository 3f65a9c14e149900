// A persistent vector collection in one scope, and the in-memory index of its live
// vectors (vector-load.ts), loaded in the background by `warm()` or on first search
// and kept in step with every committed write. Vectors are sealed one per record,
// or, with `groupOf`, in groups (vector-groups.ts: a RAG source's chunks in one
// record), so an index rebuild opens a few large records. A collection has one
// dimension (and, for embedded text, one embedder), recorded in the scope on first
// write; a vector of another dimension is MEMORY_BAD_DIMENSION and nothing is written.

import { MemoryCodes, MemoryError } from './errors.js';
import { checkVector } from './embedder.js';
import { MAX_KEY_BYTES, Table, tablePrefix, tailKey, type TableByte } from './keys.js';
import { isExpired } from './record.js';
import { cacheKey, type MemoryScope, type ScopeTxn } from './store.js';
import { bytesVector, GroupWriter, groupPrefix, readEntry, vectorBytes } from './vector-groups.js';
import { ExactCosineIndex, unit, type VectorIndex } from './vector-index.js';
import { IndexCache, type LoadSource, type VectorPayload } from './vector-load.js';

export { bytesVector, vectorBytes };

export type IndexFactory = (dimension: number) => VectorIndex;
export const exactIndex: IndexFactory = (d) => new ExactCosineIndex(d);

interface MetaPayload {
  dimension: number;
  embedder?: string;
}

export interface StoredVector {
  id: string;
  vector: Float32Array;
  metadata?: unknown;
  at: number;
  expiresAt: number;
}

export interface VectorSearchHit {
  id: string;
  score: number;
  metadata?: unknown;
}

export interface VectorCollectionOptions {
  indexFactory?: IndexFactory;
  embedder?: string;
  strictEmbedder?: boolean;
  /** Seal vectors in groups: the group of an id (all of a group is read and rewritten together). */
  groupOf?: (id: string) => string;
}

/** Changes staged in a transaction, applied to the index once it commits. */
export interface VectorWriter {
  upsert(id: string, vector: ArrayLike<number>, metadata?: unknown): void;
  remove(id: string): boolean;
}

export class VectorCollection {
  private readonly metaKey: Buffer;

  constructor(
    readonly scope: MemoryScope,
    readonly table: TableByte,
    readonly dimension: number,
    private readonly options: VectorCollectionOptions = {},
  ) {
    this.metaKey = tailKey(scope.id, Table.meta, Buffer.from(`dim:${String.fromCharCode(table)}`));
  }

  keyOf(id: string): Buffer {
    return tailKey(this.scope.id, this.table, this.scope.blind(id, 'id', MAX_KEY_BYTES));
  }

  /** Insert or replace vectors in one transaction. All are checked before anything is written. */
  upsert(items: readonly { id: string; vector: ArrayLike<number>; metadata?: unknown }[]): Promise<number> {
    return this.write((w) => {
      for (const item of items) w.upsert(item.id, item.vector, item.metadata);
      return items.length;
    });
  }

  remove(ids: readonly string[]): Promise<number> {
    return this.write((w) => ids.filter((id) => w.remove(id)).length);
  }

  get(id: string): StoredVector | undefined {
    const groupOf = this.options.groupOf;
    const entry = groupOf && readEntry(this.scope, this.table, groupOf(id), id, this.dimension);
    if (entry) return { id, vector: entry.vector, ...(entry.metadata === undefined ? {} : { metadata: entry.metadata }), at: entry.at, expiresAt: entry.expiresAt };
    const rec = this.scope.get<VectorPayload>(this.keyOf(id));
    if (!rec) return undefined;
    return { id, vector: bytesVector(rec.payload.v), ...(rec.payload.m === undefined ? {} : { metadata: rec.payload.m }), at: rec.payload.at, expiresAt: rec.expiresAt };
  }

  /** Top-k by cosine among live vectors. A query of the wrong dimension is MEMORY_BAD_DIMENSION. */
  search(query: ArrayLike<number>, options: { k: number; minScore?: number; withMetadata?: boolean }): VectorSearchHit[] {
    const q = checkVector(query, this.dimension, 'query');
    this.checkStoredDimension();
    const { index, expiry } = this.loaded();
    const now = this.scope.store.now();
    const hits = index.search(q, options.k, {
      filter: (id) => !isExpired(expiry.get(id) ?? 0, now),
      ...(options.minScore === undefined ? {} : { minScore: options.minScore }),
    });
    if (!options.withMetadata) return hits;
    return hits.map((h) => {
      const m = this.get(h.id)?.metadata;
      return m === undefined ? h : { ...h, metadata: m };
    });
  }

  /** Number of vectors in the index (including any expired but not yet purged). */
  size(): number {
    return this.loaded().index.size;
  }

  /** Load the index in the background, `slice` vectors per turn of the event loop; resolves once it is complete. */
  warm(slice?: number): Promise<void> {
    return this.indexCache().warm(slice);
  }

  /** Whether the index is loaded in full. */
  get warmed(): boolean {
    return (this.scope.store.caches.get(this.cacheKey()) as IndexCache | undefined)?.complete ?? false;
  }

  /**
   * Run `fn` in one scope transaction with a writer for this collection; the
   * index follows once the transaction commits. Other records may be written
   * through `tx` in the same transaction.
   */
  async write<T>(fn: (w: VectorWriter, tx: ScopeTxn) => T): Promise<T> {
    const staged: [string, Float32Array | undefined, number][] = [];
    const result = await this.scope.write((tx) => {
      staged.length = 0; // a retried callback starts again
      let checked = false;
      const groupOf = this.options.groupOf;
      const groups = groupOf && new GroupWriter(tx, this.scope, this.table, this.dimension);
      const w: VectorWriter = {
        upsert: (id, vector, metadata) => {
          const v = checkVector(vector, this.dimension, 'vector');
          unit(v, this.dimension); // a zero vector has no direction: MEMORY_BAD_VECTOR
          if (!checked) {
            this.claimDimension(tx);
            checked = true;
          }
          const key = this.keyOf(id);
          const expiresAt = this.scope.expiresAt();
          const at = this.scope.store.now();
          if (groups) {
            groups.upsert(groupOf(id), id, { vector: v, expiresAt, at, ...(metadata === undefined ? {} : { metadata }) });
            tx.remove(key); // a record of the per-vector layout, if this id had one
          } else {
            tx.put(key, { id, v: vectorBytes(v), ...(metadata === undefined ? {} : { m: metadata }), at } satisfies VectorPayload, expiresAt);
          }
          staged.push([id, v, expiresAt]);
        },
        remove: (id) => {
          const inGroup = groups ? groups.remove(groupOf(id), id) : false;
          const removed = tx.remove(this.keyOf(id)) || inGroup;
          if (removed) staged.push([id, undefined, 0]);
          return removed;
        },
      };
      const out = fn(w, tx);
      groups?.flush();
      return out;
    });
    const cache = this.scope.store.caches.get(this.cacheKey()) as IndexCache | undefined;
    for (const [id, v, expiresAt] of staged) cache?.apply(id, v, expiresAt);
    return result;
  }

  private cacheKey(): string {
    return cacheKey(tablePrefix(this.scope.id, this.table));
  }

  /** The index, loaded in full. */
  private loaded(): IndexCache {
    const cache = this.indexCache();
    if (!cache.complete) cache.finish();
    return cache;
  }

  /** The index as far as it is loaded (created empty, under the store's caches, on first use). */
  indexCache(): IndexCache {
    const caches = this.scope.store.caches;
    const key = this.cacheKey();
    let cache = caches.get(key) as IndexCache | undefined;
    if (!cache) {
      const sources: LoadSource[] = [{ prefix: tablePrefix(this.scope.id, this.table), kind: 'single' }];
      if (this.options.groupOf) {
        sources.unshift({ prefix: groupPrefix(this.scope, this.table), kind: 'group' });
      }
      cache = new IndexCache(this.scope, (this.options.indexFactory ?? exactIndex)(this.dimension), sources);
      caches.set(key, cache);
      // A purge that deletes group records prunes the same index.
      if (this.options.groupOf) caches.set(cacheKey(groupPrefix(this.scope, this.table)), cache);
    }
    return cache;
  }

  private storedDimension(get: (key: Buffer) => { payload: MetaPayload } | undefined): MetaPayload | undefined {
    return get(this.metaKey)?.payload;
  }

  private checkStoredDimension(): void {
    this.checkMeta(this.storedDimension((k) => this.scope.get<MetaPayload>(k)));
  }

  private checkMeta(meta: MetaPayload | undefined): void {
    if (!meta) return;
    if (meta.dimension !== this.dimension) throw this.mismatch(meta);
    if (this.options.strictEmbedder && meta.embedder !== undefined && meta.embedder !== this.options.embedder) {
      throw new MemoryError(
        MemoryCodes.embedderMismatch,
        `memory: this namespace was indexed with embedder ${meta.embedder}; the configured embedder is ${this.options.embedder ?? 'unnamed'} (vectors of two embedders are not comparable)`,
        { field: 'embedder', details: { expected: meta.embedder, got: this.options.embedder } },
      );
    }
  }

  /** The first write records the collection's dimension (and embedder); later writes must match it. */
  private claimDimension(tx: ScopeTxn): void {
    const meta = this.storedDimension((k) => tx.get<MetaPayload>(k));
    this.checkMeta(meta);
    if (!meta) tx.put(this.metaKey, { dimension: this.dimension, ...(this.options.embedder ? { embedder: this.options.embedder } : {}) } satisfies MetaPayload, 0);
  }

  private mismatch(meta: MetaPayload): MemoryError {
    return new MemoryError(
      MemoryCodes.badDimension,
      `memory: this namespace holds ${meta.dimension}-dimensional vectors${meta.embedder ? ` (embedder ${meta.embedder})` : ''}; the configured embedder gives ${this.dimension}`,
      { field: 'vector', details: { expected: meta.dimension, got: this.dimension } },
    );
  }
}
