// The in-memory index of one vector collection, loaded from its sealed records in
// slices: `warm()` loads in the background, yielding to the event loop between
// slices, and a search that arrives first loads only what is still missing,
// synchronously. Committed writes reach the index whether or not it is complete
// (a slice that reads a record later sees the same or a newer version), and a
// retention purge prunes expired vectors instead of dropping the index.

import { bytesVector, partEntries, type GroupPart } from './vector-groups.js';
import { prefixEnd } from './keys.js';
import { isExpired } from './record.js';
import type { MemoryScope } from './store.js';
import type { VectorIndex } from './vector-index.js';

/** Where a collection's vectors are: records of one vector each, or groups of them. */
export interface LoadSource {
  prefix: Buffer;
  kind: 'single' | 'group';
}

/** A record holding one vector (the collection's per-vector layout). */
export interface VectorPayload {
  id: string;
  v: Uint8Array;
  m?: unknown;
  at: number;
}

/** Vectors a background slice loads before it yields. */
export const WARM_SLICE = 4096;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class IndexCache {
  readonly expiry = new Map<string, number>();
  private source = 0;
  private after: Buffer | undefined;
  private warming: Promise<void> | undefined;

  constructor(
    private readonly scope: MemoryScope,
    readonly index: VectorIndex,
    private readonly sources: readonly LoadSource[],
  ) {}

  get complete(): boolean {
    return this.source >= this.sources.length;
  }

  /** Load records until about `budget` vectors are in (whole records); true once everything is. */
  step(budget: number): boolean {
    this.scope.store.live();
    const d = this.index.dimension;
    const now = this.scope.store.now();
    let loaded = 0;
    while (this.source < this.sources.length) {
      const { prefix, kind } = this.sources[this.source]!;
      const start = this.after ? Buffer.concat([this.after, ZERO]) : prefix;
      let exhausted = true;
      for (const rec of this.scope.range<VectorPayload | GroupPart>(start, prefixEnd(prefix))) {
        this.after = rec.key;
        if (kind === 'single') {
          const p = rec.payload as VectorPayload;
          const v = bytesVector(p.v);
          if (v.length === d) this.add(p.id, v, rec.expiresAt);
          loaded++;
        } else {
          for (const [id, entry] of partEntries(rec.payload as GroupPart, d, now)) {
            this.add(id, entry.vector, entry.expiresAt);
            loaded++;
          }
        }
        if (loaded >= budget) {
          exhausted = false;
          break;
        }
      }
      if (!exhausted) return false;
      this.source++;
      this.after = undefined;
    }
    return true;
  }

  /** Load whatever is left, now. */
  finish(): void {
    while (!this.step(Infinity));
  }

  /** Load in the background, a slice per turn of the event loop; resolves when complete. */
  warm(slice = WARM_SLICE): Promise<void> {
    if (this.complete) return Promise.resolve();
    this.warming ??= (async () => {
      while (!this.step(slice)) await yieldToLoop();
    })().finally(() => (this.warming = undefined));
    return this.warming;
  }

  /** A committed change (vector undefined: removed). */
  apply(id: string, vector: Float32Array | undefined, expiresAt: number): void {
    if (vector) {
      this.add(id, vector, expiresAt);
    } else {
      this.index.remove(id);
      this.expiry.delete(id);
    }
  }

  /** Forget vectors whose retention has run out (a purge deleted their records). */
  prune(now: number): void {
    for (const [id, e] of this.expiry) {
      if (isExpired(e, now)) this.apply(id, undefined, 0);
    }
  }

  private add(id: string, v: Float32Array, expiresAt: number): void {
    this.index.upsert(id, v);
    this.expiry.set(id, expiresAt);
  }
}

const ZERO = Buffer.alloc(1);
