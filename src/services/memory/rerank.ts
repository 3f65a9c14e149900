// Lexical re-ranking of retrieved chunks: BM25 over the candidate set (term
// statistics from the candidates themselves), scaled to 0..1 by the best
// candidate and blended with the cosine score. Deterministic; ties keep the
// cosine order.

import { tokens } from './embedder.js';

export interface Rankable {
  text: string;
  /** Cosine score from the vector search. */
  score: number;
}

export interface Ranked<T> {
  item: T;
  /** The blended score the list is sorted by. */
  score: number;
  cosine: number;
  /** BM25 scaled to 0..1 by the best candidate. */
  lexical: number;
}

export interface LexicalOptions {
  /** Weight of the lexical score in the blend, 0..1 (default 0.3). */
  weight?: number;
  k1?: number;
  b?: number;
}

export function bm25(query: string, docs: readonly string[], options: { k1?: number; b?: number } = {}): number[] {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const q = [...new Set(tokens(query))];
  const docTokens = docs.map((d) => tokens(d));
  const n = docs.length;
  const avg = docTokens.reduce((s, t) => s + t.length, 0) / Math.max(1, n);
  const df = new Map<string, number>();
  for (const t of docTokens) for (const w of new Set(t)) df.set(w, (df.get(w) ?? 0) + 1);
  return docTokens.map((t) => {
    const tf = new Map<string, number>();
    for (const w of t) tf.set(w, (tf.get(w) ?? 0) + 1);
    let score = 0;
    for (const w of q) {
      const f = tf.get(w);
      if (!f) continue;
      const d = df.get(w) ?? 0;
      const idf = Math.log(1 + (n - d + 0.5) / (d + 0.5));
      score += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * t.length) / Math.max(1, avg)));
    }
    return score;
  });
}

export function lexicalRerank<T extends Rankable>(query: string, items: readonly T[], options: LexicalOptions = {}): Ranked<T>[] {
  const w = Math.min(1, Math.max(0, options.weight ?? 0.3));
  const raw = bm25(query, items.map((i) => i.text), options);
  const best = Math.max(0, ...raw);
  return items
    .map((item, i) => {
      const lexical = best > 0 ? raw[i]! / best : 0;
      return { item, cosine: item.score, lexical, score: (1 - w) * item.score + w * lexical, order: i };
    })
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ item, score, cosine, lexical }) => ({ item, score, cosine, lexical }));
}

/** Fraction of a sentence's distinct content tokens that occur in a passage (0..1; 0 for a sentence with none). */
export function tokenCoverage(sentence: string, passage: string): number {
  const s = new Set(tokens(sentence));
  if (s.size === 0) return 0;
  const p = new Set(tokens(passage));
  let hit = 0;
  for (const t of s) if (p.has(t)) hit++;
  return hit / s.size;
}
