// In-memory vector indexes behind one interface. ExactCosineIndex keeps unit
// vectors in one growable Float32Array and scans all of them: exact top-k by cosine,
// ties broken by id so results are deterministic. An approximate index (ann.ts)
// implements the same interface.

import { MemoryCodes, MemoryError } from './errors.js';
import { norm } from './embedder.js';

export interface VectorHit {
  id: string;
  /** Cosine similarity, -1..1. */
  score: number;
}

export interface SearchOptions {
  /** Only ids for which this holds are candidates (e.g. not expired). */
  filter?: (id: string) => boolean;
  /** Hits scoring below this are left out. */
  minScore?: number;
}

export interface VectorIndex {
  readonly dimension: number;
  readonly size: number;
  /** Insert or replace; the index keeps a unit-length copy. A zero vector is MEMORY_BAD_VECTOR. */
  upsert(id: string, vector: Float32Array): void;
  remove(id: string): boolean;
  has(id: string): boolean;
  /** The k best hits, best first. A zero query has no hits. */
  search(query: Float32Array, k: number, options?: SearchOptions): VectorHit[];
}

/** Score descending, then id ascending. */
export function compareHits(a: VectorHit, b: VectorHit): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Keeps the best k hits seen, sorted best first. */
export class TopK {
  readonly hits: VectorHit[] = [];
  constructor(private readonly k: number) {}

  /** Would `offer` keep this hit? (Cheap: lets a caller skip work for hits that cannot make the cut.) */
  accepts(id: string, score: number): boolean {
    const hits = this.hits;
    return hits.length < this.k || compareHits({ id, score }, hits[hits.length - 1]!) < 0;
  }

  offer(id: string, score: number): void {
    const hits = this.hits;
    if (!this.accepts(id, score)) return;
    let i = hits.length;
    while (i > 0 && compareHits({ id, score }, hits[i - 1]!) < 0) i--;
    hits.splice(i, 0, { id, score });
    if (hits.length > this.k) hits.pop();
  }
}

export function unit(vector: Float32Array, dimension: number, field = 'vector'): Float32Array {
  if (vector.length !== dimension) {
    throw new MemoryError(MemoryCodes.badDimension, `memory: ${field} has dimension ${vector.length}; the index holds ${dimension}`, { field, details: { expected: dimension, got: vector.length } });
  }
  const n = norm(vector);
  if (!(n > 0) || !Number.isFinite(n)) throw new MemoryError(MemoryCodes.badVector, `memory: ${field} has zero or non-finite length`, { field });
  const out = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) out[i] = vector[i]! / n;
  return out;
}

export class ExactCosineIndex implements VectorIndex {
  private data: Float32Array;
  private ids: string[] = [];
  private readonly rows = new Map<string, number>();

  constructor(readonly dimension: number, capacity = 64) {
    this.data = new Float32Array(dimension * Math.max(1, capacity));
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  upsert(id: string, vector: Float32Array): void {
    const u = unit(vector, this.dimension);
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.ids.length;
      if ((row + 1) * this.dimension > this.data.length) {
        const grown = new Float32Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.ids.push(id);
      this.rows.set(id, row);
    }
    this.data.set(u, row * this.dimension);
  }

  remove(id: string): boolean {
    const row = this.rows.get(id);
    if (row === undefined) return false;
    const last = this.ids.length - 1;
    if (row !== last) {
      // Move the last row into the hole.
      this.data.copyWithin(row * this.dimension, last * this.dimension, (last + 1) * this.dimension);
      const moved = this.ids[last]!;
      this.ids[row] = moved;
      this.rows.set(moved, row);
    }
    this.ids.pop();
    this.rows.delete(id);
    return true;
  }

  /** The stored unit vector of an id (a copy). */
  vector(id: string): Float32Array | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.data.slice(row * this.dimension, (row + 1) * this.dimension);
  }

  search(query: Float32Array, k: number, options: SearchOptions = {}): VectorHit[] {
    if (query.length !== this.dimension) unit(query, this.dimension, 'query'); // throws the dimension error
    const n = norm(query);
    if (!(n > 0) || k <= 0) return [];
    const q = query.map((x) => x / n);
    const top = new TopK(k);
    const d = this.dimension;
    const d4 = d - (d % 4);
    const data = this.data;
    const ids = this.ids;
    const min = options.minScore ?? -Infinity;
    for (let row = 0, base = 0; row < ids.length; row++, base += d) {
      // Four accumulators: the scan is the whole cost of an exact search.
      let a = 0;
      let b = 0;
      let c = 0;
      let e = 0;
      for (let i = 0; i < d4; i += 4) {
        a += q[i]! * data[base + i]!;
        b += q[i + 1]! * data[base + i + 1]!;
        c += q[i + 2]! * data[base + i + 2]!;
        e += q[i + 3]! * data[base + i + 3]!;
      }
      for (let i = d4; i < d; i++) a += q[i]! * data[base + i]!;
      const dot = a + b + c + e;
      if (dot < min) continue;
      const id = ids[row]!;
      // The filter runs only for hits that would make the cut.
      if (!top.accepts(id, dot) || (options.filter && !options.filter(id))) continue;
      top.offer(id, dot);
    }
    return top.hits;
  }
}
