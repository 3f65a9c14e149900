// Embedders turn text into Float32 vectors. The default is a deterministic hashing
// embedder that needs no model: normalised word tokens and character trigrams are
// hashed (signed feature hashing) into a fixed number of dimensions, weighted by
// log term frequency, and L2-normalised — the same text gives the same bytes on
// every machine. A provider embedder (a model behind the gateway) plugs in through
// the same interface; its output is checked for dimension and finiteness.

import { MemoryCodes, MemoryError } from './errors.js';

export interface Embedder {
  /** Names the embedding space: vectors from different ids are not comparable. */
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<Float32Array[]> | Float32Array[];
}

export const DEFAULT_DIMENSION = 256;

/** A vector of the expected dimension with finite components; typed errors otherwise. */
export function checkVector(vector: ArrayLike<number>, dimension: number, field = 'vector'): Float32Array {
  if (vector === null || typeof vector !== 'object' || typeof vector.length !== 'number') {
    throw new MemoryError(MemoryCodes.badVector, `memory: ${field} must be an array of numbers`, { field });
  }
  if (vector.length !== dimension) {
    throw new MemoryError(MemoryCodes.badDimension, `memory: ${field} has dimension ${vector.length}; this collection holds ${dimension}-dimensional vectors`, {
      field,
      details: { expected: dimension, got: vector.length },
    });
  }
  const out = vector instanceof Float32Array ? vector : Float32Array.from(vector);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new MemoryError(MemoryCodes.badVector, `memory: ${field}[${i}] is not a finite number`, { field });
  }
  return out;
}

/** L2 norm. */
export function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** A unit-length copy; a zero vector stays zero. */
export function normalize(v: Float32Array): Float32Array {
  const n = norm(v);
  const out = new Float32Array(v.length);
  if (n === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

// ── text normalisation ───────────────────────────────────────────────────

const STOPWORDS = new Set(
  ('a an and are as at be been but by can do does for from had has have how i if in into is it its of on or our so that the their them ' +
    'then there these they this to was we were what when where which who why will with you your').split(' '),
);

/** Lower-cased, accent-free word tokens (letters and digits), stopwords and single letters dropped, a plural `s` trimmed. */
export function tokens(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  const out: string[] = [];
  for (const m of folded.matchAll(/[\p{L}\p{N}]+/gu)) {
    let t = m[0];
    if (STOPWORDS.has(t) || (t.length === 1 && !(t >= '0' && t <= '9'))) continue;
    if (t.length > 4 && t.endsWith('s') && !t.endsWith('ss')) t = t.slice(0, -1);
    out.push(t);
  }
  return out;
}

/** 32-bit FNV-1a over UTF-16 code units, then a murmur3 finaliser for avalanche. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface HashingEmbedderOptions {
  dimension?: number;
  /** Weight of a word's character trigrams relative to the word itself (default 0.35). */
  ngramWeight?: number;
}

/** Deterministic feature-hashing embedder: the default, offline, no weights. */
export class HashingEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  private readonly ngramWeight: number;

  constructor(options: HashingEmbedderOptions = {}) {
    const d = options.dimension ?? DEFAULT_DIMENSION;
    if (!Number.isInteger(d) || d < 8 || d > 65_536) throw new MemoryError(MemoryCodes.invalidArgs, 'memory: embedder dimension must be an integer 8..65536', { field: 'dimension' });
    const w = options.ngramWeight ?? 0.35;
    if (!(w >= 0 && w <= 10)) throw new MemoryError(MemoryCodes.invalidArgs, 'memory: ngramWeight must be 0..10', { field: 'ngramWeight' });
    this.dimension = d;
    this.ngramWeight = w;
    this.id = `hashing-v1/${d}/${w}`;
  }

  embed(texts: readonly string[]): Float32Array[] {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const counts = new Map<string, number>();
    for (const t of tokens(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
    const v = this.accumulate(counts, true);
    // Signed features can cancel exactly (two words in one bucket with opposite signs,
    // e.g. "GX 7"): a text with words must never embed to zero, so such a text is
    // hashed unsigned instead. Every other text keeps its signed vector unchanged.
    return normalize(counts.size > 0 && norm(v) === 0 ? this.accumulate(counts, false) : v);
  }

  private accumulate(counts: ReadonlyMap<string, number>, signed: boolean): Float32Array {
    const v = new Float32Array(this.dimension);
    for (const [word, tf] of counts) {
      const weight = 1 + Math.log(tf);
      this.add(v, `w:${word}`, weight, signed);
      if (this.ngramWeight > 0 && word.length > 3) {
        const padded = `<${word}>`;
        const grams = padded.length - 2;
        // Spread the trigrams' weight so a long word does not outweigh a short one.
        const each = (weight * this.ngramWeight) / Math.sqrt(grams);
        for (let i = 0; i < grams; i++) this.add(v, `g:${padded.slice(i, i + 3)}`, each, signed);
      }
    }
    return v;
  }

  private add(v: Float32Array, feature: string, weight: number, signed: boolean): void {
    const h = hash32(feature);
    const sign = !signed || hash32(feature, 0x9747b28c) & 1 ? 1 : -1;
    v[h % this.dimension]! += sign * weight;
  }
}

/** The shape a provider (the model gateway, a remote service) answers with. */
export interface ProviderEmbedderConfig {
  id: string;
  dimension: number;
  embed: (texts: readonly string[]) => Promise<ArrayLike<number>[]>;
}

/** An embedder backed by a provider; every vector it returns is checked (MEMORY_BAD_DIMENSION, MEMORY_BAD_VECTOR). */
export function providerEmbedder(config: ProviderEmbedderConfig): Embedder {
  if (typeof config?.id !== 'string' || config.id.length === 0) throw new MemoryError(MemoryCodes.invalidArgs, 'memory: provider embedder needs an id', { field: 'id' });
  if (!Number.isInteger(config.dimension) || config.dimension < 1) throw new MemoryError(MemoryCodes.invalidArgs, 'memory: provider embedder dimension must be a positive integer', { field: 'dimension' });
  return {
    id: config.id,
    dimension: config.dimension,
    async embed(texts) {
      const out = await config.embed(texts);
      if (!Array.isArray(out) || out.length !== texts.length) {
        throw new MemoryError(MemoryCodes.badVector, `memory: embedder "${config.id}" returned ${Array.isArray(out) ? out.length : 'no'} vectors for ${texts.length} texts`, { field: 'embedder' });
      }
      return out.map((v, i) => checkVector(v, config.dimension, `embedding[${i}]`));
    },
  };
}

/** Embed with any embedder and check what comes back. */
export async function embedChecked(embedder: Embedder, texts: readonly string[]): Promise<Float32Array[]> {
  const out = await embedder.embed(texts);
  if (out.length !== texts.length) throw new MemoryError(MemoryCodes.badVector, `memory: embedder "${embedder.id}" returned ${out.length} vectors for ${texts.length} texts`, { field: 'embedder' });
  return out.map((v, i) => checkVector(v, embedder.dimension, `embedding[${i}]`));
}
