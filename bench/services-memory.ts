// Memory and RAG through the kernel against the raw work, in one process and one run:
// 1. ingest throughput (chunks/s): `rag.ingest` syscalls, one source (~40 chunks)
//    per call, vs (a) chunk + embed only, no store, and (b) chunk + embed + raw
//    LMDB puts (chunk record and vector bytes, one transaction per source), run
//    on the same sources in interleaved, rotated segments while the store fills;
// 2. retrieval latency at 10k and 100k chunks (quick: 10k): `rag.query` syscalls
//    (default lexical re-rank, and without it) vs the raw exact cosine (embed the
//    query, scan the same Float32 vectors kept in a plain array, keep the top k);
//    plus the first query after a node restart, which loads the index from LMDB (one
//    sealed record per source), and the first query after a restart once the
//    background warm-up (`node.memory.warmActors`) has loaded it.

import type { Database } from 'lmdb';
import { createNode, type AgentOsNode } from './agentos.js';
import { counterAgent } from './machines.js';
import { fmt, median, now, ratioRange, scratchDir, type BenchOptions, type Row } from './lib.js';
import { chunkText, HashingEmbedder, type RagAnswer } from './services-api.js';
import { fmtU, p, percentileRows, SUITE, timeSeries } from './services-common.js';
import { documentText, queries } from './services-corpus.js';

/** Characters per source document (about 38 chunks of the default 800/100 chunking). */
const DOC_CHARS = 20_000;
const TOP_K = 5;
/** The paper's retrieval budget. */
const BUDGET_MS = 150;
const CALLER = 'librarian';
const CONTRACT = { capabilities: ['rag.*'], memory: { namespace: 'bench/kb', retention_days: 3650, rag: { top_k: TOP_K } } };

/** The raw side of retrieval: every chunk's vector (unit length, as the embedder gives them) and its norm. */
class PlainVectors {
  readonly vectors: Float32Array[] = [];
  readonly norms: number[] = [];
  readonly ids: string[] = [];
  add(id: string, v: Float32Array): void {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
    if (s === 0) return; // no words: the store does not index it either
    this.vectors.push(v);
    this.norms.push(Math.sqrt(s));
    this.ids.push(id);
  }
  /** Exact top-k by cosine. */
  search(q: Float32Array, k: number): { id: string; score: number }[] {
    let qn = 0;
    for (let i = 0; i < q.length; i++) qn += q[i]! * q[i]!;
    qn = Math.sqrt(qn);
    const top: { id: string; score: number }[] = [];
    for (let r = 0; r < this.vectors.length; r++) {
      const v = this.vectors[r]!;
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += q[i]! * v[i]!;
      const score = dot / (qn * this.norms[r]!);
      if (top.length === k && score <= top[k - 1]!.score) continue;
      let j = top.length < k ? top.length : k - 1;
      while (j > 0 && top[j - 1]!.score < score) j--;
      top.splice(j, 0, { id: this.ids[r]!, score });
      if (top.length > k) top.pop();
    }
    return top;
  }
}

/**
 * The same vectors packed in one Float32Array and scanned with four accumulators, as
 * the store's ExactCosineIndex does: the floor of an exact scan in JavaScript.
 */
function packed(plain: PlainVectors): (q: Float32Array, k: number) => { id: string; score: number }[] {
  const d = plain.vectors[0]?.length ?? 0;
  const n = plain.vectors.length;
  const data = new Float32Array(n * d);
  plain.vectors.forEach((v, r) => data.set(v.map((x) => x / plain.norms[r]!), r * d));
  return (query, k) => {
    let qn = 0;
    for (let i = 0; i < d; i++) qn += query[i]! * query[i]!;
    qn = Math.sqrt(qn);
    const q = query.map((x) => x / qn);
    const top: { id: string; score: number }[] = [];
    for (let r = 0, base = 0; r < n; r++, base += d) {
      let a = 0;
      let b = 0;
      let c = 0;
      let e = 0;
      for (let i = 0; i < d; i += 4) {
        a += q[i]! * data[base + i]!;
        b += q[i + 1]! * data[base + i + 1]!;
        c += q[i + 2]! * data[base + i + 2]!;
        e += q[i + 3]! * data[base + i + 3]!;
      }
      const score = a + b + c + e;
      if (top.length === k && score <= top[k - 1]!.score) continue;
      let j = top.length < k ? top.length : k - 1;
      while (j > 0 && top[j - 1]!.score < score) j--;
      top.splice(j, 0, { id: plain.ids[r]!, score });
      if (top.length > k) top.pop();
    }
    return top;
  };
}

interface Ingest {
  /** chunks/s per segment, by series. */
  rates: { ours: number[]; embed: number[]; put: number[] };
  chunks: number;
  sources: number;
}

export async function runServiceMemory(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const sizes = opts.quick ? [10_000] : [10_000, 100_000];
  const sourcesPerSegment = opts.quick ? 10 : 20;
  const queryCount = { 10_000: opts.quick ? 60 : 200, 100_000: 60 } as Record<number, number>;
  const querySegments = opts.quick ? 3 : 5;

  const dataDir = scratchDir();
  const embedder = new HashingEmbedder();
  const plain = new PlainVectors();
  const open = async (): Promise<{ node: AgentOsNode; raw: Database }> => {
    const node = await createNode({ name: 'bench-services-memory', dataDir });
    await node.spawn(counterAgent(CONTRACT), { id: CALLER });
    if (node.memory?.memory.embedder.id !== embedder.id) throw new Error(`bench: the node embeds with ${node.memory?.memory.embedder.id}, the raw side with ${embedder.id}`);
    const raw = node.kernel.durability!.store.root.openDB({ name: 'bench-raw-chunks', encoding: 'msgpack' });
    return { node, raw };
  };
  let { node, raw } = await open();
  const rows: Row[] = [];
  const ingest: Ingest = { rates: { ours: [], embed: [], put: [] }, chunks: 0, sources: 0 };
  let nextSource = 0;
  try {
    for (const size of sizes) {
      // ── fill the store to `size` chunks, measuring ingest on the way ──
      const t0 = now();
      while (ingest.chunks < size) {
        const ids = Array.from({ length: sourcesPerSegment }, (_, i) => nextSource + i);
        nextSource += sourcesPerSegment;
        const texts = ids.map((i) => documentText(i, DOC_CHARS));
        const round = ingest.rates.ours.length;
        const series: [keyof Ingest['rates'], () => Promise<number>][] = [
          [
            'ours',
            async () => {
              let n = 0;
              for (let i = 0; i < ids.length; i++) {
                const report = (await node.syscall(CALLER, { kind: 'memory', name: 'rag.ingest', args: { sourceId: `doc-${ids[i]}`, text: texts[i] } })) as { chunks: unknown[] };
                n += report.chunks.length;
              }
              ingest.chunks += n;
              ingest.sources += ids.length;
              return n;
            },
          ],
          [
            'embed',
            async () => {
              let n = 0;
              for (let i = 0; i < ids.length; i++) {
                const chunks = chunkText(texts[i]!);
                const vectors = await embedder.embed(chunks.map((c) => c.text));
                for (let c = 0; c < chunks.length; c++) plain.add(`doc-${ids[i]}#${c}`, vectors[c]!);
                n += chunks.length;
              }
              return n;
            },
          ],
          [
            'put',
            async () => {
              let n = 0;
              for (let i = 0; i < ids.length; i++) {
                const chunks = chunkText(texts[i]!);
                const vectors = await embedder.embed(chunks.map((c) => c.text));
                const sourceId = `doc-${ids[i]}`;
                await raw.transaction(() => {
                  chunks.forEach((c, k) => {
                    void raw.put(['c', sourceId, k], { sourceId, start: c.start, end: c.end, text: c.text });
                    void raw.put(['v', sourceId, k], Buffer.from(vectors[k]!.buffer, vectors[k]!.byteOffset, vectors[k]!.byteLength));
                  });
                  void raw.put(['s', sourceId], { sourceId, chunks: chunks.length, chars: texts[i]!.length });
                });
                n += chunks.length;
              }
              return n;
            },
          ],
        ];
        // Rotate the order each round, so no series always runs first (or right after another's garbage).
        for (let k = 0; k < series.length; k++) {
          const [name, fn] = series[(round + k) % series.length]!;
          const t = now();
          const n = await fn();
          ingest.rates[name].push(n / ((now() - t) / 1000));
        }
      }
      log(`services/memory: ${ingest.chunks.toLocaleString('en')} chunks in ${ingest.sources.toLocaleString('en')} sources (${((now() - t0) / 1000).toFixed(1)} s for this fill, three sides)`);

      // ── the first query after a restart: the index is loaded from LMDB ──
      await node.stop();
      ({ node, raw } = await open());
      const qs = queries(queryCount[size]!, nextSource, DOC_CHARS);
      const ask = (q: string, rerank?: 'none') =>
        node.syscall(CALLER, { kind: 'memory', name: 'rag.query', args: { query: q, ...(rerank ? { rerank } : {}) } }) as Promise<RagAnswer>;
      const tCold = now();
      const first = await ask(qs[0]!);
      const coldMs = now() - tCold;
      if (first.diagnostics.indexed !== plain.vectors.length) throw new Error(`bench: the index holds ${first.diagnostics.indexed} vectors, the raw array ${plain.vectors.length}`);
      // Raw cold start: read the same vectors' bytes back from the raw LMDB records into a plain array, then the query.
      const tRaw = now();
      const reloaded = new PlainVectors();
      for (const { key, value } of raw.getRange({ start: ['v'], end: ['w'] })) {
        const bytes = value as Uint8Array;
        reloaded.add((key as string[]).join('#'), new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
      }
      reloaded.search((await embedder.embed([qs[0]!]))[0]!, TOP_K);
      const rawColdMs = now() - tRaw;
      if (reloaded.vectors.length !== plain.vectors.length) throw new Error(`bench: read back ${reloaded.vectors.length} raw vectors, expected ${plain.vectors.length}`);

      // Restart again: the service warms the librarian's scope in the background (as the node does after a spawn), then the first query.
      await node.stop();
      ({ node, raw } = await open());
      const tWarm = now();
      await node.memory!.warmActors(node.kernel);
      const warmUpMs = now() - tWarm;
      const tWarmed = now();
      await ask(qs[1 % qs.length]!);
      const warmedFirstMs = now() - tWarmed;

      // Sanity: without re-ranking, both sides find the same best cosine for every query.
      for (const q of qs) {
        const ours = await ask(q, 'none');
        const mine = plain.search((await embedder.embed([q]))[0]!, TOP_K);
        if (Math.abs((ours.passages[0]?.cosine ?? 0) - (mine[0]?.score ?? 0)) > 1e-4) {
          throw new Error(`bench: for "${q}" the store's best cosine is ${ours.passages[0]?.cosine}, the raw scan's ${mine[0]?.score}`);
        }
      }

      // ── warm queries, interleaved ──
      const tuned = packed(plain);
      const qi = { ours: 0, none: 0, raw: 0, tuned: 0 };
      const next = (k: keyof typeof qi): string => qs[qi[k]++ % qs.length]!;
      const latency: number[] = [];
      const fns = {
        ours: async () => {
          const a = await ask(next('ours'));
          latency.push(a.diagnostics.latencyMs);
        },
        none: () => ask(next('none'), 'none'),
        raw: async () => {
          const q = (await embedder.embed([next('raw')]))[0]!;
          plain.search(q, TOP_K);
        },
        tuned: async () => {
          const q = (await embedder.embed([next('tuned')]))[0]!;
          tuned(q, TOP_K);
        },
      };
      const perSegment = Math.ceil(qs.length / querySegments);
      log(`services/memory: ${querySegments} interleaved segments × ${perSegment} queries at ${ingest.chunks.toLocaleString('en')} chunks (rag.query lexical, rag.query no rerank, raw scan, packed scan)`);
      const { samples: s } = await timeSeries(fns, { segments: querySegments, perSegment, warmup: Math.min(20, qs.length), unit: 'ms' });
      const at = `${size / 1000}k chunks`;
      rows.push(
        ...percentileRows(`rag.query @ ${at}`, s.ours, s.raw, 'ms', [0.5, 0.95, 0.99], {
          0.5:
            `${ingest.chunks.toLocaleString('en')} chunks (${plain.vectors.length.toLocaleString('en')} indexed) of 256-dim hashing embeddings; \`node.syscall(actor, { kind: "memory", name: "rag.query", args: { query } })\`, top ${TOP_K}, default lexical re-rank over 20 cosine candidates; ` +
            `raw: embed the query + exact cosine over the same vectors in a plain array + top ${TOP_K}; ${s.ours.length} queries per side in ${querySegments} interleaved segments; the store's own diagnostics.latencyMs p50 ${fmtU(p(latency, 0.5), 'ms')}`,
          0.95: `without re-ranking (\`rerank: "none"\`) p50 ${fmtU(p(s.none, 0.5), 'ms')}, p95 ${fmtU(p(s.none, 0.95), 'ms')}, p99 ${fmtU(p(s.none, 0.99), 'ms')}`,
          ...(s.ours.length < 100 ? { 0.99: `with ${s.ours.length} queries per side, p99 is the slowest query of each side` } : {}),
        }, { q: 0.99, text: `≤ ${BUDGET_MS} ms`, met: (o) => o <= BUDGET_MS }),
        {
          suite: SUITE,
          name: `rag.query @ ${at}, first after a restart`,
          ours: coldMs,
          baseline: rawColdMs,
          unit: 'ms',
          better: 'lower',
          target: '–',
          met: undefined,
          note: `ours: the first \`rag.query\` after \`createNode\` on the same directory (createNode itself not counted), which reads and opens (AES-256-GCM) the sealed vector records — one per source, ~39 vectors each — to rebuild the in-memory index, then searches; raw: read the same vectors' bytes from the raw LMDB records into a plain array, then embed the query and scan; one run each`,
        },
        {
          suite: SUITE,
          name: `rag.query @ ${at}, first after a restart and warm-up`,
          ours: warmedFirstMs,
          baseline: rawColdMs,
          unit: 'ms',
          better: 'lower',
          target: `≤ ${BUDGET_MS} ms`,
          met: warmedFirstMs <= BUDGET_MS,
          note: `ours: restart, then \`node.memory.warmActors(node.kernel)\` loads the admitted librarian's index in slices that yield to the event loop (${fmtU(warmUpMs, 'ms')}, not counted: in a node it runs while nothing asks), then the first \`rag.query\`; raw: as in the row above; one run each`,
        },
        {
          suite: SUITE,
          name: `rag.query @ ${at} p50, vs packed scan`,
          ours: p(s.ours, 0.5),
          baseline: p(s.tuned, 0.5),
          unit: 'ms',
          better: 'lower',
          target: '–',
          met: undefined,
          note:
            `packed: the same vectors in one Float32Array, scanned with four accumulators (what the store's ExactCosineIndex does), query embedded the same way: the floor of an exact search here; p99 ${fmtU(p(s.ours, 0.99), 'ms')} vs ${fmtU(p(s.tuned, 0.99), 'ms')}; ` +
            `rag.query adds ${fmtU(p(s.ours, 0.5) - p(s.tuned, 0.5), 'ms')} at p50 over it (${fmtU(p(s.none, 0.5) - p(s.tuned, 0.5), 'ms')} without re-ranking)`,
        },
      );
    }

    // ── ingest throughput over the whole fill (first in the table) ──
    const r = ingest.rates;
    const segs = r.ours.length;
    const tenth = Math.max(1, Math.floor(segs / 10));
    const early = median(r.ours.slice(0, tenth));
    const late = median(r.ours.slice(-tenth));
    rows.unshift(
      {
        suite: SUITE,
        name: 'rag.ingest throughput, vs chunk + embed',
        ours: median(r.ours),
        baseline: median(r.embed),
        unit: 'chunks/s',
        better: 'higher',
        target: '–',
        met: undefined,
        note:
          `${ingest.chunks.toLocaleString('en')} chunks in ${ingest.sources.toLocaleString('en')} sources of ~${DOC_CHARS / 1000}k characters, one \`rag.ingest\` syscall per source (chunk, SHA-256 per chunk and source, embed, AES-256-GCM sealing, one LMDB transaction, audit), ` +
          `${sourcesPerSegment} sources per segment, ${segs} rotated segments, median segment rate; raw: \`chunkText\` + \`HashingEmbedder.embed\`, no store; per-segment ratio ${ratioRange(r.ours, r.embed)}; ` +
          `ours in the first tenth of the fill ${fmt(early, 'chunks/s')}, in the last ${fmt(late, 'chunks/s')}`,
      },
      {
        suite: SUITE,
        name: 'rag.ingest throughput, vs chunk + embed + LMDB put',
        ours: median(r.ours),
        baseline: median(r.put),
        unit: 'chunks/s',
        better: 'higher',
        target: '–',
        met: undefined,
        note:
          `raw: the same plus, per source, one awaited LMDB transaction putting each chunk's record (msgpack) and vector bytes and a source record, in the node's environment; per-segment ratio ${ratioRange(r.ours, r.put)}; ` +
          `raw in the first tenth of the fill ${fmt(median(r.put.slice(0, tenth)), 'chunks/s')}, in the last ${fmt(median(r.put.slice(-tenth)), 'chunks/s')}`,
      },
    );
    log(`services/memory: ingest ${fmt(median(r.ours), 'chunks/s')} (raw embed ${fmt(median(r.embed), 'chunks/s')}, + put ${fmt(median(r.put), 'chunks/s')})`);
    return rows;
  } finally {
    await node.stop();
  }
}
