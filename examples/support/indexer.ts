// The overnight indexer's process (examples/overnight-indexing.ts forks it, and
// kills it): one node hosting a persistent `indexer` agent that embeds a corpus
// batch by batch through a side-effecting tool.
//
// Each batch is one `index.embed_batch` call. The agent is persistent, so the call
// goes through the effect journal under an idempotency key (ik1/indexer/t<turn>/c0):
// once its outcome is journaled it is never run again, and a call the process died
// in the middle of is retried with the same key. The tool honours that key
// (`idempotent: 'key'`): it writes each document's vector to the store once per
// key, so a retried batch only finishes what the killed attempt had not written.
// The tool also logs every real invocation, so the parent can prove what ran.
//
//   fork('examples/support/indexer.ts', [JSON config], { execArgv: ['--import', 'tsx'] })
//   parent ◄── { type: 'ready' | 'progress' | 'finished' | 'fatal' } over IPC

import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineTool, HashingEmbedder, seededRng, syscall, tell, type RecoveryReport } from '../../src/index.js';

// ── the corpus: small deterministic documents ────────────────────────────
export interface Doc {
  id: string;
  text: string;
}

const TOPICS = ['refund', 'shipping delay', 'damaged parcel', 'password reset', 'invoice', 'warranty claim', 'address change', 'subscription'];
const PRODUCTS = ['kettle', 'pair of headphones', 'desk lamp', 'backpack', 'router', 'coffee grinder', 'monitor', 'keyboard'];
const PHRASES = [
  'the customer asked about',
  'an agent confirmed',
  'the order was placed online and',
  'a replacement was offered for',
  'the ticket was escalated because of',
  'the courier reported',
  'the refund policy covers',
  'the customer was happy with',
];

/** `n` support tickets, the same on every machine (seeded). */
export function generateCorpus(n: number, seed = 7): Doc[] {
  const rng = seededRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const sentences = Array.from({ length: 3 + rng.int(3) }, () => {
      const s = `${pick(PHRASES)} the ${pick(TOPICS)} for a ${pick(PRODUCTS)}.`;
      return s[0]!.toUpperCase() + s.slice(1);
    });
    return { id: `doc-${String(i).padStart(5, '0')}`, text: `Ticket ${i}: ${sentences.join(' ')}` };
  });
}

/** End a file torn by a kill mid-write with a newline, so the next line starts clean. */
function closeTornLine(file: string): void {
  if (existsSync(file) && statSync(file).size > 0 && !readFileSync(file, 'utf8').endsWith('\n')) appendFileSync(file, '\n');
}

/** Read a JSON-lines file; a torn line (a kill mid-write) is skipped. */
export function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line === '' ? [] : [JSON.parse(line) as T];
      } catch {
        return [];
      }
    });
}

// ── the tool: embed a batch and write it to the vector store ─────────────
/** One document in the vector store (a line of vectors.jsonl): a stand-in for an external vector database. */
export interface StoredVector {
  doc: string;
  /** The call that wrote it. */
  key: string;
  batch: number;
  pid: number;
  /** The 256-dimension embedding, Float32 little-endian, base64. */
  vector: string;
}

/** One real invocation of the tool (a line of calls.jsonl). */
export interface Invocation {
  key: string;
  batch: number;
  attempt: number;
  pid: number;
}

export const STORE_FILE = 'vectors.jsonl';
export const CALLS_FILE = 'calls.jsonl';
export const embedder = new HashingEmbedder();

/**
 * `index.embed_batch` over `corpus`, writing into `dir`. Each write is one append
 * (one write(2)), so a SIGKILL leaves whole lines; `latencyMs` stands in for the
 * embedding model's round trip for a group of 10 documents.
 */
export function embedBatchTool(corpus: readonly Doc[], dir: string, latencyMs: number) {
  const store = join(dir, STORE_FILE);
  const calls = join(dir, CALLS_FILE);
  for (const f of [store, calls]) closeTornLine(f);
  // What each key already wrote: a retry of the same call skips those documents.
  const written = new Set(readLines<StoredVector>(store).map((v) => `${v.key} ${v.doc}`));
  return defineTool({
    name: 'index.embed_batch',
    description: 'Embed documents [first, first + count) of the corpus and upsert them into the vector store.',
    input: z.object({ batch: z.number().int().min(0), first: z.number().int().min(0), count: z.number().int().min(1).max(1000) }),
    output: z.object({ batch: z.number().int(), embedded: z.number().int(), skipped: z.number().int() }),
    idempotent: 'key',
    execute: async ({ batch, first, count }, ctx) => {
      const key = ctx.key;
      if (key === undefined) throw new Error('index.embed_batch: called without an idempotency key (the caller must be persistent)');
      appendFileSync(calls, JSON.stringify({ key, batch, attempt: ctx.attempt ?? 1, pid: process.pid } satisfies Invocation) + '\n');
      const docs = corpus.slice(first, first + count).filter((d) => !written.has(`${key} ${d.id}`));
      // To the embedding model in groups of 10, each group upserted as it comes back.
      for (let g = 0; g < docs.length; g += 10) {
        const group = docs.slice(g, g + 10);
        await sleep(latencyMs); // the model's round trip
        const vectors = embedder.embed(group.map((d) => d.text));
        group.forEach((d, i) => {
          const vector = Buffer.from(vectors[i]!.buffer, vectors[i]!.byteOffset, vectors[i]!.byteLength).toString('base64');
          appendFileSync(store, JSON.stringify({ doc: d.id, key, batch, pid: process.pid, vector } satisfies StoredVector) + '\n');
          written.add(`${key} ${d.id}`);
        });
      }
      return { batch, embedded: docs.length, skipped: count - docs.length };
    },
  });
}

// ── the agent: one batch per turn ────────────────────────────────────────
const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('index'), total: z.number().int().min(1), batchSize: z.number().int().min(1) }),
  // The agent sends this to itself after each batch, so each batch is a turn of its own and the
  // checkpoint after it records the progress: a restart resumes from the last batch, not the first.
  z.object({ type: z.literal('next') }),
]);

export interface IndexerContext {
  total: number;
  batchSize: number;
  /** The next batch to embed. */
  batch: number;
  indexed: number;
  /** Documents a retried call found already written (by the attempt a crash cut short). */
  skipped: number;
  error?: string;
}

const batchArgs = (c: IndexerContext) => ({ batch: c.batch, first: c.batch * c.batchSize, count: Math.min(c.batchSize, c.total - c.batch * c.batchSize) });
type BatchResult = { batch: number; embedded: number; skipped: number };
const advance = (c: IndexerContext, r: BatchResult): Partial<IndexerContext> => ({ batch: c.batch + 1, indexed: c.indexed + r.embedded + r.skipped, skipped: c.skipped + r.skipped });

export const indexer = defineAgent({
  name: 'indexer',
  messages,
  persistent: true,
  contract: { class: { latency: 'DT', slo: { throughput_per_min: 60_000, max_batch: 1000 } }, capabilities: ['index.embed_batch'] },
  machine: setup({
    types: { context: {} as IndexerContext, events: {} as z.infer<typeof messages> },
    actors: { syscall },
    guards: { more: ({ context }) => (context.batch + 1) * context.batchSize < context.total },
  }).createMachine({
    id: 'indexer',
    context: { total: 0, batchSize: 1, batch: 0, indexed: 0, skipped: 0 },
    initial: 'idle',
    states: {
      idle: { on: { index: { target: 'embedding', actions: assign(({ event }) => ({ total: event.total, batchSize: event.batchSize, batch: 0, indexed: 0, skipped: 0 })) } } },
      embedding: {
        invoke: {
          src: 'syscall',
          input: ({ context }) => ({ kind: 'tool' as const, name: 'index.embed_batch', args: batchArgs(context) }),
          onDone: [
            { guard: 'more', target: 'waiting', actions: [assign(({ context, event }) => advance(context, event.output as BatchResult)), tell(({ self }) => (self as { id: string }).id, { type: 'next' })] },
            { target: 'done', actions: assign(({ context, event }) => advance(context, event.output as BatchResult)) },
          ],
          onError: { target: 'failed', actions: assign({ error: ({ event }) => String((event.error as Error)?.message ?? event.error) }) },
        },
      },
      waiting: { on: { next: 'embedding' } },
      done: {},
      failed: {},
    },
  }),
});

// ── the process ───────────────────────────────────────────────────────────
export interface IndexerConfig {
  dataDir: string;
  corpus: string;
  storeDir: string;
  batchSize: number;
  latencyMs: number;
}

/** Worker → parent. */
export type IndexerEvent =
  | { type: 'ready'; pid: number; recovery: RecoveryReport; resumed: boolean }
  | { type: 'progress'; indexed: number; total: number; batch: number }
  | { type: 'finished'; state: string; error?: string; indexed: number; skipped: number; journal: { ok: boolean; entries: number; problem?: string }; inDoubt: number }
  | { type: 'fatal'; error: string };

const say = (e: IndexerEvent): void => void process.send?.(e);

async function run(config: IndexerConfig): Promise<void> {
  const corpus = readLines<Doc>(config.corpus);
  // Recovery happens in createNode: a stored `indexer` comes back from its last checkpoint.
  const node = await createNode({ name: 'indexer', dataDir: config.dataDir, agents: [indexer], tools: [embedBatchTool(corpus, config.storeDir, config.latencyMs)] });
  const { recovery } = node.durability;
  const resumed = recovery.restored.includes('indexer');
  const ref = node.lookup('indexer') ?? (await node.spawn(indexer, { id: 'indexer' }));
  // Start the job unless the agent has it already. `post` resolves once the message is journaled:
  // from then on a kill cannot lose the job. (A second `index`, if one was still queued, is ignored
  // by every state but `idle`.)
  if (ref.getSnapshot()!.value === 'idle') await ref.post({ type: 'index', total: corpus.length, batchSize: config.batchSize });
  say({ type: 'ready', pid: process.pid, recovery, resumed });

  const context = (): IndexerContext => ref.getSnapshot()!.context as IndexerContext;
  let reported = -1;
  for (;;) {
    const { indexed, total, batch } = context();
    if (indexed !== reported) say({ type: 'progress', indexed, total, batch });
    reported = indexed;
    const state = ref.getSnapshot()!.value;
    if (state === 'done' || state === 'failed') break;
    await sleep(10);
  }
  const c = context();
  const verify = node.durability.verify();
  const journal = verify.ok ? { ok: true, entries: verify.entries } : { ok: false, entries: 0, problem: `${verify.actor}: ${verify.problem}` };
  say({ type: 'finished', state: String(ref.getSnapshot()!.value), ...(c.error === undefined ? {} : { error: c.error }), indexed: c.indexed, skipped: c.skipped, journal, inDoubt: node.durability.inDoubt().length });
  await node.stop();
  process.disconnect();
}

if (process.argv[1]?.endsWith('indexer.ts') && process.send) {
  run(JSON.parse(process.argv[2]!) as IndexerConfig).catch((err: unknown) => {
    say({ type: 'fatal', error: (err as Error)?.stack ?? String(err) });
    process.exitCode = 1;
    process.disconnect();
  });
}
