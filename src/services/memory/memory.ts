// One API over the memory stores: `Memory.open` on an LMDB environment, then
// `memory.scope({ tenant, namespace, retentionDays })` gives a tenant's key–value
// store, episodic log, vector collection and RAG pipeline, all in that scope only.
// The embedder (hashing by default) and the vector index kind are set once here.

import { embedChecked, HashingEmbedder, type Embedder } from './embedder.js';
import { EpisodicLog } from './episodic.js';
import { KeyValue } from './kv.js';
import { Table } from './keys.js';
import { Rag, type RagOptions } from './rag.js';
import { MemoryStore, type MemoryScope, type MemoryStoreOptions, type ScopeOptions } from './store.js';
import { VectorCollection, type IndexFactory } from './vectors.js';

export interface MemoryOptions extends MemoryStoreOptions {
  /** Default: a 256-dimensional HashingEmbedder. */
  embedder?: Embedder;
  /** Index kind for vector searches (default exact cosine). */
  indexFactory?: IndexFactory;
  rag?: Omit<RagOptions, 'embedder' | 'indexFactory'>;
}

/** Everything one tenant's namespace holds. */
export interface TenantMemory {
  readonly scope: MemoryScope;
  readonly kv: KeyValue;
  readonly log: EpisodicLog;
  readonly vectors: VectorCollection;
  readonly rag: Rag;
  /** Embed with the configured embedder (checked dimension). */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Load the scope's vector indexes in the background (slices that yield to the event loop); resolves when both are complete. */
  warm(): Promise<void>;
}

export class Memory {
  readonly store: MemoryStore;
  readonly embedder: Embedder;

  private constructor(private readonly options: MemoryOptions) {
    this.store = MemoryStore.open(options);
    this.embedder = options.embedder ?? new HashingEmbedder();
  }

  static open(options: MemoryOptions): Memory {
    return new Memory(options);
  }

  scope(options: ScopeOptions): TenantMemory {
    const scope = this.store.scope(options);
    const embedder = this.embedder;
    const factory = this.options.indexFactory ? { indexFactory: this.options.indexFactory } : {};
    const vectors = new VectorCollection(scope, Table.vectors, embedder.dimension, { embedder: embedder.id, ...factory });
    const rag = new Rag(scope, { ...this.options.rag, embedder, ...factory });
    return {
      scope,
      kv: new KeyValue(scope),
      log: new EpisodicLog(scope),
      vectors,
      rag,
      embed: (texts) => embedChecked(embedder, texts),
      // RAG first: it is what a first query after a restart waits for.
      warm: async () => {
        await rag.vectors.warm();
        await vectors.warm();
      },
    };
  }

  purgeExpired(batch?: number): Promise<{ removed: number }> {
    return this.store.purgeExpired(batch);
  }

  close(): void {
    this.store.close();
  }
}
