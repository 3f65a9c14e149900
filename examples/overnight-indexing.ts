// Overnight RAG indexing (the paper's DT flow): a batch job embeds a corpus into a
// vector store, is killed halfway through, and picks up where it left off.
//
//   this process ── fork ──► indexer process (examples/support/indexer.ts)
//     progress bar ◄── IPC ──  node ─ indexer agent (persistent, DT) ─ index.embed_batch ─► vectors.jsonl
//     SIGKILL at ~45% ───────► gone mid-batch
//                  ── fork ──► indexer process again, same data dir: recovery brings the agent back
//                              from its last checkpoint; the call it was in is retried with its key
//
// Nothing here helps the second run: it is the node's recovery that resumes the
// job. Afterwards this process reads what the tool itself recorded — one line per
// stored vector, one per real invocation — and checks every document was embedded
// exactly once and no call ran twice except the retry of the call cut short.
import { fork } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Progress } from '../src/cli/progress.js';
import { CALLS_FILE, embedder, generateCorpus, readLines, STORE_FILE, type IndexerConfig, type IndexerEvent, type Invocation, type StoredVector } from './support/indexer.js';

const INDEXER = fileURLToPath(new URL('./support/indexer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

const DOCS = 3000;
const BATCH = 100;
/** The embedding model's round trip for a group of 10 documents (simulated). */
const LATENCY_MS = 3;
/** Kill the first run once this share of the corpus is indexed. */
const KILL_AT = 0.45;

// ── one run of the indexer process ────────────────────────────────────────
interface Run {
  pid: number;
  /** Fork to ready: process start, node open, recovery (ms). */
  startMs: number;
  /** Ready to finished or killed (ms). */
  indexingMs: number;
  ready: Extract<IndexerEvent, { type: 'ready' }>;
  finished?: Extract<IndexerEvent, { type: 'finished' }>;
  killed: boolean;
  /** What the agent had reported when the run ended. */
  lastIndexed: number;
}

/** Fork the indexer and follow it until it finishes, or until `killWhen` says to SIGKILL it. */
function runIndexer(config: IndexerConfig, progress: Progress, onReady: (e: Run['ready']) => void, killWhen?: (indexed: number) => boolean): Promise<Run> {
  const forkedAt = performance.now();
  const child = fork(INDEXER, [JSON.stringify(config)], { cwd: REPO, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let ready: Run['ready'] | undefined;
    let readyAt = 0;
    let endedAt = 0;
    let finished: Run['finished'];
    let killed = false;
    let lastIndexed = 0;
    child.on('message', (e: IndexerEvent) => {
      if (e.type === 'ready') {
        [ready, readyAt] = [e, performance.now()];
        onReady(e);
      }
      else if (e.type === 'progress') {
        lastIndexed = e.indexed;
        progress.update(e.indexed);
        if (!killed && killWhen?.(e.indexed)) {
          killed = true;
          endedAt = performance.now();
          child.kill('SIGKILL');
        }
      } else if (e.type === 'finished') [finished, endedAt] = [e, performance.now()];
      else if (e.type === 'fatal') stderr += `\n${e.error}`;
    });
    child.on('exit', (code, signal) => {
      if (!ready || (!killed && (code !== 0 || !finished))) return reject(new Error(`indexer process ended (${code ?? signal}) before finishing:\n${stderr}`));
      resolve({ pid: child.pid!, startMs: readyAt - forkedAt, indexingMs: endedAt - readyAt, ready, ...(finished ? { finished } : {}), killed, lastIndexed });
    });
  });
}

// ── the checks, from the tool's own records ───────────────────────────────
export interface IndexingSummary {
  docs: number;
  batches: number;
  runs: { pid: number; startMs: number; indexingMs: number; killed: boolean; resumed: boolean; embedded: number }[];
  /** How far the first run got: what the agent had reported, and what the store held, when it was killed. */
  kill: { reported: number; stored: number; pct: number };
  /** The second run's recovery report. */
  recovery: { restored: string[]; held: number; resumedCalls: number; ms: number };
  /** Stored vectors per document: any missing, any stored more than once. */
  embeds: { stored: number; missing: string[]; duplicated: string[] };
  /** Real invocations of index.embed_batch, from the tool's log. */
  calls: {
    invocations: number;
    keys: number;
    /** Batches that ran under more than one idempotency key (a call re-run as a new call): must be none. */
    batchesUnderTwoKeys: number[];
    /**
     * Keys run as a retry (attempt > 1): the call the kill cut short, taken up with the same key.
     * `attempts` [1, 2] if the tool had started before the kill, [2] if the kill came between
     * the journal's dispatch record and the tool; `written` is per attempt.
     */
    retried: { key: string; batch: number; attempts: number[]; pids: number[]; written: number[] }[];
    /** Invocations of a key that were not retries (attempt 1 again): must be none. */
    repeatedFirstAttempts: number;
  };
  /** The effect journal's hash chains, checked by the node at the end, and the calls left in doubt (waiting for a person). */
  journal: { ok: boolean; entries: number; inDoubt: number };
  throughput: { indexingDocsPerSec: number; overallDocsPerSec: number };
  /** The index in use: the nearest documents to a question. */
  query: { text: string; top: { doc: string; score: number; text: string }[] };
}

/** What the tool's own records say: stored vectors per document, and every real invocation per key and batch. */
export function checkIndex(corpus: readonly { id: string }[], storeDir: string) {
  const stored = readLines<StoredVector>(join(storeDir, STORE_FILE));
  const perDoc = new Map<string, number>();
  for (const v of stored) perDoc.set(v.doc, (perDoc.get(v.doc) ?? 0) + 1);
  const invocations = readLines<Invocation>(join(storeDir, CALLS_FILE));
  const byKey = new Map<string, Invocation[]>();
  const keysOfBatch = new Map<number, Set<string>>();
  for (const i of invocations) {
    byKey.set(i.key, [...(byKey.get(i.key) ?? []), i]);
    keysOfBatch.set(i.batch, (keysOfBatch.get(i.batch) ?? new Set()).add(i.key));
  }
  const retried = [...byKey]
    .filter(([, xs]) => xs.some((x) => x.attempt > 1))
    .map(([key, xs]) => ({ key, batch: xs[0]!.batch, attempts: xs.map((x) => x.attempt), pids: xs.map((x) => x.pid), written: xs.map((x) => stored.filter((v) => v.key === key && v.pid === x.pid).length) }));
  return {
    stored,
    embeds: { stored: stored.length, missing: corpus.filter((d) => !perDoc.has(d.id)).map((d) => d.id), duplicated: [...perDoc].filter(([, n]) => n > 1).map(([doc]) => doc) },
    calls: {
      invocations: invocations.length,
      keys: byKey.size,
      batchesUnderTwoKeys: [...keysOfBatch].filter(([, keys]) => keys.size > 1).map(([batch]) => batch),
      retried,
      repeatedFirstAttempts: [...byKey.values()].reduce((n, xs) => n + Math.max(0, xs.filter((x) => x.attempt === 1).length - 1), 0),
    },
  };
}

/** Cosine top-k over the stored vectors (they are unit length, so a dot product). */
function nearest(stored: StoredVector[], corpus: Map<string, string>, text: string, k = 3): IndexingSummary['query'] {
  const [q] = embedder.embed([text]);
  const scored = stored.map((v) => {
    const b = Buffer.from(v.vector, 'base64');
    const x = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    let dot = 0;
    for (let i = 0; i < x.length; i++) dot += x[i]! * q![i]!;
    return { doc: v.doc, score: Math.round(dot * 1000) / 1000, text: corpus.get(v.doc)! };
  });
  return { text, top: scored.sort((a, b) => b.score - a.score).slice(0, k) };
}

// ── running it ────────────────────────────────────────────────────────────
export async function main(dir = '.agentos/overnight-indexing'): Promise<IndexingSummary> {
  // A fresh job: the node's data (under <dir>/indexer), the corpus, the vector store.
  const storeDir = join(dir, 'store');
  for (const p of [join(dir, 'indexer'), storeDir]) rmSync(p, { recursive: true, force: true });
  mkdirSync(storeDir, { recursive: true });
  const corpus = generateCorpus(DOCS);
  const corpusFile = join(dir, 'corpus.jsonl');
  writeFileSync(corpusFile, corpus.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const config: IndexerConfig = { dataDir: dir, corpus: corpusFile, storeDir, batchSize: BATCH, latencyMs: LATENCY_MS };
  console.log(`indexing ${DOCS} documents in batches of ${BATCH}; the indexer process will be killed at ~${KILL_AT * 100}%`);

  const began = performance.now();
  const progress = new Progress(DOCS, { unit: 'docs', verb: 'indexed' });
  const first = await runIndexer(config, progress, (e) => progress.say(`run 1: pid ${e.pid} started the job`), (indexed) => indexed >= KILL_AT * DOCS);
  if (!first.killed) throw new Error('overnight indexing: the first run finished before the kill point');
  progress.restart();
  const atKill = readLines<StoredVector>(join(storeDir, STORE_FILE)).length;
  progress.say(`SIGKILL: pid ${first.pid} killed with ${first.lastIndexed} documents reported done, ${atKill} in the store`);
  const second = await runIndexer(config, progress, ({ pid, recovery: r }) =>
    progress.say(`run 2: pid ${pid} on the same data dir; recovery ${r.restored.includes('indexer') ? 'resumed the indexer from its last checkpoint' : 'found nothing to resume'} in ${Math.round(r.ms)} ms, ${r.resumedCalls} call in flight taken up again`),
  );
  const elapsed = performance.now() - began;
  const { recovery } = second.ready;
  progress.say(`run 2: finished`);
  const end = second.finished!;
  if (end.state !== 'done') throw new Error(`overnight indexing: the indexer ended ${end.state}: ${end.error ?? ''}`);

  const { stored, embeds, calls } = checkIndex(corpus, storeDir);
  const embeddedBy = (pid: number): number => stored.filter((v) => v.pid === pid).length;
  const summary: IndexingSummary = {
    docs: DOCS,
    batches: Math.ceil(DOCS / BATCH),
    runs: [first, second].map((r) => ({ pid: r.pid, startMs: Math.round(r.startMs), indexingMs: Math.round(r.indexingMs), killed: r.killed, resumed: r.ready.resumed, embedded: embeddedBy(r.pid) })),
    kill: { reported: first.lastIndexed, stored: atKill, pct: Math.round((100 * atKill) / DOCS) },
    recovery: { restored: recovery.restored, held: recovery.held.length, resumedCalls: recovery.resumedCalls, ms: Math.round(recovery.ms) },
    embeds,
    calls,
    journal: { ok: end.journal.ok, entries: end.journal.entries, inDoubt: end.inDoubt },
    throughput: { indexingDocsPerSec: Math.round(DOCS / ((first.indexingMs + second.indexingMs) / 1000)), overallDocsPerSec: Math.round(DOCS / (elapsed / 1000)) },
    query: nearest(stored, new Map(corpus.map((d) => [d.id, d.text])), 'warranty claim for a coffee grinder'),
  };
  print(summary);
  return summary;
}

function print(s: IndexingSummary): void {
  const [a, b] = s.runs;
  console.log(`run 1 (pid ${a!.pid}): started in ${a!.startMs} ms, embedded ${a!.embedded} documents in ${a!.indexingMs} ms, then SIGKILL`);
  console.log(`run 2 (pid ${b!.pid}): started and recovered in ${b!.startMs} ms, embedded ${b!.embedded} documents in ${b!.indexingMs} ms`);
  const ok = s.embeds.missing.length === 0 && s.embeds.duplicated.length === 0;
  console.log(`vector store: ${s.embeds.stored} vectors for ${s.docs} documents — ${ok ? 'every document exactly once' : `${s.embeds.missing.length} missing, ${s.embeds.duplicated.length} stored twice`}`);
  console.log(`tool calls: ${s.calls.invocations} invocations under ${s.calls.keys} keys for ${s.batches} batches; batches run under two keys: ${s.calls.batchesUnderTwoKeys.length}`);
  for (const r of s.calls.retried) {
    const before = r.attempts[0] === 1 ? `the tool had written ${r.written[0]} of its documents` : 'dispatched, the tool not started yet';
    console.log(`  batch ${r.batch} was in flight at the kill (${before}): retried after the restart with the same key ${r.key} (attempt ${r.attempts[r.attempts.length - 1]}), which wrote ${r.written[r.written.length - 1]}`);
  }
  if (s.calls.retried.length === 0) console.log('  the kill fell between two batches: nothing was in flight, nothing was retried');
  console.log(`effect journal: ${s.journal.entries} entries, hash chains ${s.journal.ok ? 'ok' : 'BROKEN'}, ${s.journal.inDoubt} calls in doubt`);
  console.log(`throughput: ${s.throughput.indexingDocsPerSec} docs/s while indexing, ${s.throughput.overallDocsPerSec} docs/s end to end (both process starts, the kill and the recovery included)`);
  console.log(`query "${s.query.text}":`);
  for (const t of s.query.top) console.log(`  ${t.score.toFixed(3)}  ${t.doc}  ${t.text.slice(0, 90)}…`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
