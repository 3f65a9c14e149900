// In-memory vector indexes behind one interface. ExactCosineIndex keeps unit
// vectors in Float32Array blocks of 1,024 rows and scans all of them: exact top-k by cosine,
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

/** Rows per block of an ExactCosineIndex: the index grows a block at a time and never copies what it holds. */
const BLOCK_ROWS = 1024;

export class ExactCosineIndex implements VectorIndex {
  private readonly blocks: Float32Array[] = [];
  private ids: string[] = [];
  private readonly rows = new Map<string, number>();
  private readonly blockRows: number;

  /** `capacity`: rows per block (default 1024). */
  constructor(readonly dimension: number, capacity = BLOCK_ROWS) {
    this.blockRows = Math.max(1, Math.min(capacity, BLOCK_ROWS));
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  upsert(id: string, vector: Float32Array): void {
    const d = this.dimension;
    if (vector.length !== d) unit(vector, d); // throws the dimension error
    const n = norm(vector);
    if (!(n > 0) || !Number.isFinite(n)) unit(vector, d); // throws MEMORY_BAD_VECTOR
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.ids.length;
      if (row === this.blocks.length * this.blockRows) this.blocks.push(new Float32Array(this.blockRows * d));
      this.ids.push(id);
      this.rows.set(id, row);
    }
    // Normalised straight into the row: loading an index allocates nothing per vector.
    const block = this.blocks[Math.floor(row / this.blockRows)]!;
    const inv = 1 / n;
    for (let i = 0, base = (row % this.blockRows) * d; i < d; i++) block[base + i] = vector[i]! * inv;
  }

  remove(id: string): boolean {
    const row = this.rows.get(id);
    if (row === undefined) return false;
    const last = this.ids.length - 1;
    const d = this.dimension;
    if (row !== last) {
      // Move the last row into the hole.
      const from = this.blocks[Math.floor(last / this.blockRows)]!;
      const at = (last % this.blockRows) * d;
      this.blocks[Math.floor(row / this.blockRows)]!.set(from.subarray(at, at + d), (row % this.blockRows) * d);
      const moved = this.ids[last]!;
      this.ids[row] = moved;
      this.rows.set(moved, row);
    }
    this.ids.pop();
    this.rows.delete(id);
    if (last % this.blockRows === 0) this.blocks.pop(); // the last block is empty now
    return true;
  }

  /** The stored unit vector of an id (a copy). */
  vector(id: string): Float32Array | undefined {
    const row = this.rows.get(id);
    if (row === undefined) return undefined;
    const at = (row % this.blockRows) * this.dimension;
    return this.blocks[Math.floor(row / this.blockRows)]!.slice(at, at + this.dimension);
  }

  search(query: Float32Array, k: number, options: SearchOptions = {}): VectorHit[] {
    if (query.length !== this.dimension) unit(query, this.dimension, 'query'); // throws the dimension error
    const n = norm(query);
    if (!(n > 0) || k <= 0) return [];
    const q = query.map((x) => x / n);
    const top = new TopK(k);
    const d = this.dimension;
    const d4 = d - (d % 4);
    const ids = this.ids;
    const min = options.minScore ?? -Infinity;
    for (let b = 0; b < this.blocks.length; b++) {
      const data = this.blocks[b]!;
      const first = b * this.blockRows;
      const end = Math.min(ids.length, first + this.blockRows);
      for (let row = first, base = 0; row < end; row++, base += d) {
        // Four accumulators: the scan is the whole cost of an exact search.
        let a = 0;
        let c1 = 0;
        let c2 = 0;
        let c3 = 0;
        for (let i = 0; i < d4; i += 4) {
          a += q[i]! * data[base + i]!;
          c1 += q[i + 1]! * data[base + i + 1]!;
          c2 += q[i + 2]! * data[base + i + 2]!;
          c3 += q[i + 3]! * data[base + i + 3]!;
        }
        for (let i = d4; i < d; i++) a += q[i]! * data[base + i]!;
        const dot = a + c1 + c2 + c3;
        if (dot < min) continue;
        const id = ids[row]!;
        // The filter runs only for hits that would make the cut.
        if (!top.accepts(id, dot) || (options.filter && !options.filter(id))) continue;
        top.offer(id, dot);
      }
    }
    return top.hits;
  }
}
