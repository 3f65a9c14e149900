// A persistent vector collection in one scope: each vector is a sealed record
// (Float32 little-endian bytes plus optional metadata), and an in-memory index of
// the scope's live vectors is built on first search and kept in step with every
// committed write. A collection has one dimension (and, for embedded text, one
// embedder), recorded in the scope on first write; a vector of another dimension is
// MEMORY_BAD_DIMENSION and nothing is written.

import { MemoryCodes, MemoryError } from './errors.js';
import { checkVector } from './embedder.js';
import { MAX_KEY_BYTES, Table, tablePrefix, tailKey, type TableByte } from './keys.js';
import { isExpired } from './record.js';
import { cacheKey, type MemoryScope, type ScopeTxn } from './store.js';
import { ExactCosineIndex, unit, type VectorIndex } from './vector-index.js';

export type IndexFactory = (dimension: number) => VectorIndex;
export const exactIndex: IndexFactory = (d) => new ExactCosineIndex(d);

interface VectorPayload {
  id: string;
  v: Uint8Array;
  m?: unknown;
  at: number;
}

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

interface Loaded {
  index: VectorIndex;
  expiry: Map<string, number>;
}

/** Float32 little-endian bytes, whatever the host's byte order. */
export function vectorBytes(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true);
  return out;
}

export function bytesVector(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
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
    private readonly options: { indexFactory?: IndexFactory; embedder?: string; strictEmbedder?: boolean } = {},
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
          tx.put(key, { id, v: vectorBytes(v), ...(metadata === undefined ? {} : { m: metadata }), at: this.scope.store.now() } satisfies VectorPayload, expiresAt);
          staged.push([id, v, expiresAt]);
        },
        remove: (id) => {
          const removed = tx.remove(this.keyOf(id));
          if (removed) staged.push([id, undefined, 0]);
          return removed;
        },
      };
      return fn(w, tx);
    });
    const cache = this.scope.store.caches.get(this.cacheKey()) as Loaded | undefined;
    if (cache) {
      for (const [id, v, expiresAt] of staged) {
        if (v) {
          cache.index.upsert(id, v);
          cache.expiry.set(id, expiresAt);
        } else {
          cache.index.remove(id);
          cache.expiry.delete(id);
        }
      }
    }
    return result;
  }

  private cacheKey(): string {
    return cacheKey(tablePrefix(this.scope.id, this.table));
  }

  private loaded(): Loaded {
    const caches = this.scope.store.caches;
    let cache = caches.get(this.cacheKey()) as Loaded | undefined;
    if (!cache) {
      const index = (this.options.indexFactory ?? exactIndex)(this.dimension);
      const expiry = new Map<string, number>();
      const prefix = tablePrefix(this.scope.id, this.table);
      for (const rec of this.scope.prefixed<VectorPayload>(prefix)) {
        const id = rec.payload.id;
        const v = bytesVector(rec.payload.v);
        if (v.length !== this.dimension) continue; // written under another dimension: claimDimension refuses such a collection
        index.upsert(id, v);
        expiry.set(id, rec.expiresAt);
      }
      cache = { index, expiry };
      caches.set(this.cacheKey(), cache);
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
