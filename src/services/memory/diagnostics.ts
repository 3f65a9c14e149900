// Retrieval diagnostics on a labelled query set: hit-rate@k (a query hits when
// any of its top-k passages comes from a relevant source or is a relevant chunk),
// mean reciprocal rank, the latency of each retrieval on the store's injected
// clock (percentiles), and the source hashes the answers drew on.

import type { Rag, Rerank } from './rag.js';

export interface LabelledQuery {
  query: string;
  /** Source ids, or chunk hashes (64 hex), any of which counts as a hit. */
  relevant: readonly string[];
}

export interface RetrievalReport {
  k: number;
  queries: number;
  hitRate: number;
  /** Mean reciprocal rank of the first relevant passage (0 for a miss). */
  mrr: number;
  latencyMs: { p50: number; p95: number; max: number; mean: number };
  /** Distinct source hashes among all returned passages. */
  sourceHashes: string[];
  misses: { query: string; got: string[] }[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function evaluateRetrieval(rag: Rag, set: readonly LabelledQuery[], options: { k: number; rerank?: Rerank }): Promise<RetrievalReport> {
  let hits = 0;
  let rr = 0;
  const latencies: number[] = [];
  const hashes = new Set<string>();
  const misses: RetrievalReport['misses'] = [];
  for (const q of set) {
    const { passages, diagnostics } = await rag.retrieve(q.query, { topK: options.k, ...(options.rerank ? { rerank: options.rerank } : {}) });
    latencies.push(diagnostics.latencyMs);
    for (const h of diagnostics.sourceHashes) hashes.add(h);
    const rank = passages.findIndex((p) => q.relevant.includes(p.sourceId) || q.relevant.includes(p.hash));
    if (rank >= 0) {
      hits++;
      rr += 1 / (rank + 1);
    } else {
      misses.push({ query: q.query, got: passages.map((p) => `${p.sourceId}#${p.chunk}`) });
    }
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const n = Math.max(1, set.length);
  return {
    k: options.k,
    queries: set.length,
    hitRate: hits / n,
    mrr: rr / n,
    latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? 0, mean: latencies.reduce((a, b) => a + b, 0) / n },
    sourceHashes: [...hashes].sort(),
    misses,
  };
}
