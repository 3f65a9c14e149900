// Retrieval-augmented generation over one scope: ingest (redact → chunk with
// offsets → SHA-256 each chunk → embed → index, one transaction per source) and
// query (embed → exact top-k by cosine → optional lexical re-rank → ground). Every
// passage carries its citation: source id, chunk index, offsets, chunk and source
// hashes, and an opaque `ref` that resolves only in the same tenant and namespace.
// A passage supports the query when its cosine is at least `minScore` and at least
// `minCoverage` of the query's content words occur in it (the lexical check keeps
// hash collisions of the default embedder from passing as support; set it to 0 for
// a semantic embedder). With `requireGrounding`, a query no passage supports is
// refused (MEMORY_UNGROUNDED) or returned flagged, as configured.

import { createHash } from 'node:crypto';
import { chunkText, checkChunkOptions, type ChunkOptions } from './chunker.js';
import { embedChecked, norm, type Embedder } from './embedder.js';
import { invalidArg, MemoryCodes, MemoryError } from './errors.js';
import { decodeRef, encodeRef, MAX_ID_BYTES, seqKey, seqOf, Table, tailKey } from './keys.js';
import { redactPii, type PiiKind } from './redact.js';
import { lexicalRerank, tokenCoverage } from './rerank.js';
import type { MemoryScope, ScopeTxn } from './store.js';
import { VectorCollection, type IndexFactory, type VectorWriter } from './vectors.js';

export const DEFAULT_MIN_SCORE = 0.15;
export const DEFAULT_MIN_COVERAGE = 0.4;
export const MAX_TEXT_CHARS = 4_000_000;
export const MAX_QUERY_CHARS = 8_192;
export const MAX_CHUNKS_PER_SOURCE = 20_000;

export type OnUngrounded = 'refuse' | 'flag';
export type Rerank = 'none' | 'lexical';

export interface RagOptions {
  embedder: Embedder;
  chunk?: ChunkOptions;
  indexFactory?: IndexFactory;
  /** Cosine a passage needs to support a query (default 0.15, measured for the 256-dim hashing embedder). */
  minScore?: number;
  /** Share of the query's content words a supporting passage contains (default 0.4; 0 turns the check off). */
  minCoverage?: number;
  /** Default 'lexical' (BM25 over 4×k cosine candidates, blended 0.3). */
  rerank?: Rerank;
  /** What a query with `requireGrounding` and no support gets (default 'refuse'). */
  onUngrounded?: OnUngrounded;
}

/** What is stored about an ingested source. */
export interface SourceInfo extends SourcePayload {
  expiresAt: number;
}

interface SourcePayload {
  sourceId: string;
  hash: string;
  chunks: number;
  chars: number;
  at: number;
  chunking: { size: number; overlap: number };
  embedder: string;
  metadata?: unknown;
  redactions?: Record<PiiKind, number>;
}

interface ChunkPayload {
  sourceId: string;
  start: number;
  end: number;
  text: string;
  hash: string;
  sourceHash: string;
}

export interface Citation {
  /** Opaque; `rag.passage(ref)` resolves it, in this tenant and namespace only. */
  ref: string;
  sourceId: string;
  chunk: number;
  start: number;
  end: number;
  /** SHA-256 (hex) of the chunk text. */
  hash: string;
  /** SHA-256 (hex) of the whole stored source text. */
  sourceHash: string;
  score: number;
}

export interface Passage extends Citation {
  text: string;
  cosine: number;
  lexical?: number;
  /** Share of the query's content words found in the passage. */
  coverage: number;
}

export interface IngestReport {
  sourceId: string;
  sourceHash: string;
  chunks: { index: number; start: number; end: number; hash: string }[];
  /** The source was already stored with the same text, metadata, chunking and embedder: nothing was written. */
  unchanged: boolean;
  /** It replaced an earlier version of the same source id. */
  replaced: boolean;
  redactions: Record<PiiKind, number> & { total: number };
}

export interface RetrievalDiagnostics {
  /** Embed + search + rank, on the store's (injected) clock. */
  latencyMs: number;
  /** Chunks considered after the vector search (before the cut to top-k). */
  candidates: number;
  /** Vectors in the index searched. */
  indexed: number;
  /** Best cosine among the passages. */
  topScore: number;
  minScore: number;
  minCoverage: number;
  rerank: Rerank;
  /** Distinct source hashes of the passages returned. */
  sourceHashes: string[];
}

export interface RagAnswer {
  query: string;
  passages: Passage[];
  citations: Citation[];
  /** The passages numbered for a prompt: `[1] (source#chunk) text`. */
  context: string;
  /** Some passage supports the query (cosine >= minScore and coverage >= minCoverage). */
  grounded: boolean;
  /** requireGrounding with onUngrounded 'flag' and no support. */
  flagged?: true;
  diagnostics: RetrievalDiagnostics;
}

export interface QueryOptions {
  topK: number;
  minScore?: number;
  minCoverage?: number;
  rerank?: Rerank;
  requireGrounding?: boolean;
  onUngrounded?: OnUngrounded;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const vecId = (sourceId: string, index: number): string => `${sourceId}#${index}`;
const sourceOfVector = (id: string): string => id.slice(0, id.lastIndexOf('#'));

export class Rag {
  readonly vectors: VectorCollection;

  constructor(
    readonly scope: MemoryScope,
    readonly options: RagOptions,
  ) {
    this.vectors = new VectorCollection(scope, Table.chunkVectors, options.embedder.dimension, {
      embedder: options.embedder.id,
      strictEmbedder: true,
      // A source's chunk vectors are sealed together: a rebuild opens one record per source, not per chunk.
      groupOf: sourceOfVector,
      ...(options.indexFactory ? { indexFactory: options.indexFactory } : {}),
    });
  }

  private sourceKey(sourceId: string): Buffer {
    return tailKey(this.scope.id, Table.sources, this.scope.blind(sourceId, 'sourceId', MAX_ID_BYTES));
  }

  private chunkKey(sourceId: string, index: number): Buffer {
    return seqKey(this.scope.id, Table.chunks, this.scope.blind(sourceId, 'sourceId', MAX_ID_BYTES), index);
  }

  async ingest(input: { sourceId: string; text: string; metadata?: unknown; chunk?: ChunkOptions; redact?: boolean }): Promise<IngestReport> {
    const sourceKey = this.sourceKey(input.sourceId);
    if (typeof input.text !== 'string') throw invalidArg('text', 'must be a string');
    if (input.text.length > MAX_TEXT_CHARS) throw new MemoryError(MemoryCodes.tooLarge, `memory: text is ${input.text.length} characters; at most ${MAX_TEXT_CHARS}`, { field: 'text' });
    const chunking = checkChunkOptions(input.chunk ?? this.options.chunk);
    const redaction = input.redact ? redactPii(input.text) : { text: input.text, counts: { email: 0, phone: 0, ssn: 0 }, total: 0 };
    const text = redaction.text;
    const sourceHash = sha256(text);
    const redactions = { ...redaction.counts, total: redaction.total };
    const embedderId = this.options.embedder.id;
    const old = this.scope.get<SourcePayload>(sourceKey)?.payload;
    const chunks = chunkText(text, chunking).map((c) => ({ ...c, hash: sha256(c.text) }));
    const summary = chunks.map(({ index, start, end, hash }) => ({ index, start, end, hash }));
    const same =
      old !== undefined &&
      old.hash === sourceHash &&
      old.embedder === embedderId &&
      old.chunking.size === chunking.size &&
      old.chunking.overlap === chunking.overlap &&
      JSON.stringify(old.metadata) === JSON.stringify(input.metadata);
    if (same) {
      return { sourceId: input.sourceId, sourceHash, chunks: summary, unchanged: true, replaced: false, redactions };
    }
    if (chunks.length > MAX_CHUNKS_PER_SOURCE) throw new MemoryError(MemoryCodes.tooLarge, `memory: source makes ${chunks.length} chunks; at most ${MAX_CHUNKS_PER_SOURCE}`, { field: 'text' });
    // Embedding happens before the transaction: a wrong dimension is refused with nothing written.
    const vectors = await embedChecked(this.options.embedder, chunks.map((c) => c.text));
    const replaced = await this.vectors.write((w, tx) => {
      const prev = tx.get<SourcePayload>(sourceKey)?.payload;
      if (prev) this.dropChunks(tx, w, input.sourceId, prev.chunks);
      chunks.forEach((c, i) => {
        tx.put(this.chunkKey(input.sourceId, c.index), { sourceId: input.sourceId, start: c.start, end: c.end, text: c.text, hash: c.hash, sourceHash } satisfies ChunkPayload);
        // A chunk with no words has no direction to search by; it is stored, not indexed.
        if (norm(vectors[i]!) > 0) w.upsert(vecId(input.sourceId, c.index), vectors[i]!);
      });
      tx.put(sourceKey, {
        sourceId: input.sourceId,
        hash: sourceHash,
        chunks: chunks.length,
        chars: text.length,
        at: this.scope.store.now(),
        chunking,
        embedder: embedderId,
        ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
        ...(redaction.total > 0 ? { redactions: redaction.counts } : {}),
      } satisfies SourcePayload);
      return prev !== undefined;
    });
    return { sourceId: input.sourceId, sourceHash, chunks: summary, unchanged: false, replaced, redactions };
  }

  private dropChunks(tx: ScopeTxn, w: VectorWriter, sourceId: string, count: number): void {
    for (let i = 0; i < count; i++) {
      tx.remove(this.chunkKey(sourceId, i));
      w.remove(vecId(sourceId, i));
    }
  }

  /** Forget a source: its record, chunks and vectors, in one transaction. */
  remove(sourceId: string): Promise<boolean> {
    const key = this.sourceKey(sourceId);
    return this.vectors.write((w, tx) => {
      const prev = tx.get<SourcePayload>(key)?.payload;
      if (!prev) return false;
      this.dropChunks(tx, w, sourceId, prev.chunks);
      tx.remove(key);
      return true;
    });
  }

  source(sourceId: string): SourceInfo | undefined {
    const rec = this.scope.get<SourcePayload>(this.sourceKey(sourceId));
    return rec && { ...rec.payload, expiresAt: rec.expiresAt };
  }

  /** The passage a citation ref names (MEMORY_CROSS_TENANT for another scope's ref, before any lookup). */
  passage(ref: string): Omit<Passage, 'score' | 'cosine' | 'coverage'> | undefined {
    const key = decodeRef(ref, this.scope.id, [Table.chunks]);
    const rec = this.scope.get<ChunkPayload>(key);
    if (!rec) return undefined;
    const p = rec.payload;
    return { ref, sourceId: p.sourceId, chunk: seqOf(key), start: p.start, end: p.end, hash: p.hash, sourceHash: p.sourceHash, text: p.text };
  }

  /** Top-k passages for a query, best first, with diagnostics; no grounding decision. */
  async retrieve(query: string, options: { topK: number; minScore?: number; minCoverage?: number; rerank?: Rerank }): Promise<{ passages: Passage[]; diagnostics: RetrievalDiagnostics }> {
    if (typeof query !== 'string' || query.length === 0) throw invalidArg('query', 'must be a non-empty string');
    if (query.length > MAX_QUERY_CHARS) throw new MemoryError(MemoryCodes.tooLarge, `memory: query is ${query.length} characters; at most ${MAX_QUERY_CHARS}`, { field: 'query' });
    if (!Number.isInteger(options.topK) || options.topK < 1 || options.topK > 1000) throw invalidArg('topK', 'must be an integer 1..1000');
    const clock = this.scope.store.clock;
    const t0 = clock.now();
    const rerank = options.rerank ?? this.options.rerank ?? 'lexical';
    const minScore = options.minScore ?? this.options.minScore ?? DEFAULT_MIN_SCORE;
    const minCoverage = options.minCoverage ?? this.options.minCoverage ?? DEFAULT_MIN_COVERAGE;
    const [q] = await embedChecked(this.options.embedder, [query]);
    const pool = rerank === 'lexical' ? Math.max(options.topK * 4, 20) : options.topK;
    const hits = this.vectors.search(q!, { k: pool });
    const candidates: Passage[] = [];
    for (const h of hits) {
      const cut = h.id.lastIndexOf('#');
      const sourceId = h.id.slice(0, cut);
      const index = Number(h.id.slice(cut + 1));
      const key = this.chunkKey(sourceId, index);
      const rec = this.scope.get<ChunkPayload>(key);
      if (!rec) continue;
      const p = rec.payload;
      candidates.push({ ref: encodeRef(key), sourceId, chunk: index, start: p.start, end: p.end, hash: p.hash, sourceHash: p.sourceHash, text: p.text, score: h.score, cosine: h.score, coverage: tokenCoverage(query, p.text) });
    }
    let passages = candidates;
    if (rerank === 'lexical') {
      passages = lexicalRerank(query, candidates).map((r) => ({ ...r.item, score: r.score, lexical: r.lexical }));
    }
    passages = passages.slice(0, options.topK);
    const diagnostics: RetrievalDiagnostics = {
      latencyMs: clock.now() - t0,
      candidates: candidates.length,
      indexed: this.vectors.size(),
      topScore: Math.max(0, ...passages.map((p) => p.cosine)),
      minScore,
      minCoverage,
      rerank,
      sourceHashes: [...new Set(passages.map((p) => p.sourceHash))],
    };
    return { passages, diagnostics };
  }

  /**
   * Retrieve and ground. Passages that do not support the query (below `minScore`
   * or `minCoverage`) are left out under `requireGrounding`, and if none is left the
   * query is refused (MEMORY_UNGROUNDED) or returned with `flagged: true`.
   */
  async query(query: string, options: QueryOptions): Promise<RagAnswer> {
    const { passages: all, diagnostics } = await this.retrieve(query, options);
    const supporting = all.filter((p) => p.cosine >= diagnostics.minScore && p.coverage >= diagnostics.minCoverage);
    const grounded = supporting.length > 0;
    const passages = options.requireGrounding ? supporting : all;
    if (options.requireGrounding && !grounded && (options.onUngrounded ?? this.options.onUngrounded ?? 'refuse') === 'refuse') {
      throw new MemoryError(MemoryCodes.ungrounded, `memory: no stored source supports this query (best cosine ${diagnostics.topScore.toFixed(3)}, needs ${diagnostics.minScore} with ${diagnostics.minCoverage} of its words); grounding is required`, {
        field: 'query',
        details: { topScore: diagnostics.topScore, minScore: diagnostics.minScore, minCoverage: diagnostics.minCoverage },
      });
    }
    return {
      query,
      passages,
      citations: passages.map(({ text: _t, cosine: _c, lexical: _l, coverage: _v, ...c }) => c),
      context: passages.map((p, i) => `[${i + 1}] (${p.sourceId}#${p.chunk}) ${p.text.trim()}`).join('\n\n'),
      grounded,
      ...(options.requireGrounding && !grounded ? { flagged: true as const } : {}),
      diagnostics,
    };
  }
}
