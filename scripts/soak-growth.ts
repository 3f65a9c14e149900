// Bounded growth of a persistent agent over many checkpoint/restore cycles:
// `npm run soak:growth -- --cycles 10000 [--restart-every 20] [--retain 8]
// [--sample-every 500] [--durability sync|async] [--dir D] [--keep]`.
// Each cycle posts a large message (> 1 KiB: stored once in the blob table; every
// fifth repeats the previous one, so blobs are shared) and a small one that makes
// the agent call a tool, waits for the call, then checkpoints by hand (the write
// shares a commit with the next cycle's messages); the whole node is stopped and
// started again on the same directory every few cycles. The agent's conversation
// keeps growing. At intervals it reports the heap after a
// forced GC, the LMDB data file, and the records (and bytes) of every durable and
// effect-journal sub-database; test/durable/soak.test.ts runs a short version and
// asserts the same bounds this script prints a verdict on. Exits 1 if one fails.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Key } from 'lmdb';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { AUDIT_DBS } from '../src/kernel/audit/store.js';
import { DURABLE_DBS } from '../src/kernel/durable/store.js';
import { EFFECT_DBS } from '../src/kernel/effects/store.js';
import { callTool, createNode, defineAgent, defineTool, type ActorRef, type AgentOsNode } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export interface SoakOptions {
  dataDir: string;
  cycles: number;
  /** Stop the node and start it again on the same directory every this many cycles. */
  restartEvery: number;
  /** The agent's `retainTurns`: a replay base (and a compaction) at least every this many turns. */
  retainTurns: number;
  sampleEvery: number;
  durability: 'sync' | 'async';
  log?: (line: string) => void;
}

export interface SoakSample {
  cycle: number;
  restarts: number;
  heapMb: number;
  dataFileKb: number;
  /** Records per sub-database (durable-*, effects-*), and `blobs` from the store. */
  records: Record<string, number>;
  /** Bytes of values per sub-database (`audit`: the audit log's leaves and hashes, which grow by design). */
  bytes: Record<string, number>;
  auditRecords: number;
}

export interface SoakResult {
  samples: SoakSample[];
  restarts: number;
  checkpoints: number;
  /** Times the tool really ran (exactly once per cycle, across restarts). */
  toolRuns: number;
  conversation: number;
  elapsedMs: number;
  /** Where the time went (ms): node restarts (stop + createNode with recovery) and samples (forced GC, table scans). */
  restartMs: number;
  sampleMs: number;
}

const NAME = 'soak-growth';
const ID = 'talker';
/** Turns one cycle adds (the large message and the small one). */
export const TURNS_PER_CYCLE = 2;

const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('attach'), name: z.string(), content: z.string() }),
  z.object({ type: z.literal('ask'), text: z.string() }),
]);
type Msg = z.infer<typeof messages>;
interface Entry {
  n: number;
  text: string;
  bytes?: number;
  answer?: number;
  error?: string;
}

const tool = (runs: { n: number }) =>
  defineTool({
    name: 'soak.lookup',
    description: 'looks a question up (a side effect, counted)',
    input: z.object({ n: z.number().int(), text: z.string() }),
    execute: (args) => {
      runs.n++;
      return { answer: args.n * 2 };
    },
  });

interface TalkerContext {
  conversation: Entry[];
  pending: Entry[];
}

const machine = setup({
  types: { context: {} as TalkerContext, events: {} as Msg },
  actors: { lookup: callTool('soak.lookup') },
  guards: { hasWork: ({ context }) => context.pending.length > 0 },
}).createMachine({
  id: 'talker',
  context: { conversation: [], pending: [] },
  initial: 'idle',
  on: {
    attach: { actions: assign({ conversation: ({ context, event }) => [...context.conversation, { n: context.conversation.length, text: event.name, bytes: event.content.length }] }) },
    ask: { actions: assign({ pending: ({ context, event }) => [...context.pending, { n: 0, text: event.text }] }) },
  },
  states: {
    idle: { always: { guard: 'hasWork', target: 'asking' } },
    asking: {
      invoke: {
        src: 'lookup',
        input: ({ context }: { context: TalkerContext }) => ({ n: context.conversation.length, text: context.pending[0]!.text }),
        onDone: {
          target: 'idle',
          actions: assign({
            conversation: ({ context, event }) => [
              ...context.conversation,
              { n: context.conversation.length, text: context.pending[0]!.text, answer: (event.output as { answer: number }).answer },
            ],
            pending: ({ context }) => context.pending.slice(1),
          }),
        },
        onError: {
          target: 'idle',
          actions: assign({
            conversation: ({ context, event }) => [...context.conversation, { n: context.conversation.length, text: context.pending[0]!.text, error: String((event.error as Error)?.message ?? event.error) }],
            pending: ({ context }) => context.pending.slice(1),
          }),
        },
      },
    },
  },
});

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Records and value bytes of every durable and effect-journal sub-database (committed state). */
function storage(node: AgentOsNode, dataDir: string): Pick<SoakSample, 'records' | 'bytes' | 'dataFileKb'> {
  const store = node.kernel.durability!.store;
  const records: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  for (const name of [...Object.values(DURABLE_DBS), ...Object.values(EFFECT_DBS)]) {
    const db = store.root.openDB<Uint8Array, Key>({ name, encoding: 'binary' });
    let n = 0;
    let b = 0;
    for (const { value } of db.getRange()) {
      n++;
      b += value.length;
    }
    records[name] = n;
    bytes[name] = b;
  }
  records.blobs = store.blobCount();
  bytes.audit = 0;
  for (const name of [AUDIT_DBS.leaves, AUDIT_DBS.hashes]) {
    for (const { value } of store.root.openDB<Uint8Array, number>({ name, encoding: 'binary' }).getRange()) bytes.audit += value.length;
  }
  return { records, bytes, dataFileKb: statSync(join(dataDir, NAME, 'lmdb', 'data.mdb')).size / 1024 };
}

/** Wakes whoever waits in `until` (on every inspection event of the node). */
const changed: { wake: (() => void) | undefined } = { wake: undefined };

/** Wait (without spinning: LMDB's writer thread shares the cores) until `check` holds, re-checking on every inspection event. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`soak: ${what} within ${ms} ms`);
    await new Promise<void>((resolve) => {
      changed.wake = resolve;
      setTimeout(resolve, 5);
    });
  }
}

const contextOf = (ref: ActorRef): TalkerContext | undefined => ref.getSnapshot()?.context as TalkerContext | undefined;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const runs = { n: 0 };
  const def = defineAgent({ name: 'talker', machine, messages, persistent: { checkpoint: 'manual', durability: o.durability, retainTurns: o.retainTurns },
    contract: { capabilities: ['soak.lookup'] },
  });
  const failures: string[] = [];
  const start = (): Promise<AgentOsNode> =>
    createNode({
      name: NAME,
      dataDir: o.dataDir,
      agents: [def],
      tools: [tool(runs)],
      inspect: (e) => {
        if (e.type === '@agentos.durability.failed' || e.type === '@agentos.actor.held') failures.push(JSON.stringify(e));
        const wake = changed.wake;
        changed.wake = undefined;
        wake?.();
      },
    });
  const t0 = performance.now();
  let node = await start();
  let ref = (await node.spawn(def, { id: ID })) as ActorRef;
  const samples: SoakSample[] = [];
  let restarts = 0;
  let checkpoints = 0;
  let previous: Msg | undefined;
  let checkpointing: Promise<void> = Promise.resolve();
  let restartMs = 0;
  let sampleMs = 0;
  const sample = async (cycle: number): Promise<void> => {
    const t = performance.now();
    await node.durability.flushed();
    const s: SoakSample = { cycle, restarts, heapMb: heapMb(), ...storage(node, o.dataDir), auditRecords: node.audit.size };
    samples.push(s);
    sampleMs += performance.now() - t;
    o.log?.(formatSample(s));
  };
  try {
    await sample(0);
    for (let i = 1; i <= o.cycles; i++) {
      // Every fifth large message repeats the previous one: the same blob, referenced twice.
      const large: Msg = i % 5 === 0 && previous ? previous : { type: 'attach', name: `doc-${i}`, content: `${i}:`.padEnd(1500, String.fromCharCode(97 + (i % 26))) };
      previous = large;
      // The last cycle's checkpoint (captured when asked for) is written in the same commit as these messages.
      await Promise.all([ref.post(large), ref.post({ type: 'ask', text: `question ${i}` }), checkpointing]);
      const expected = TURNS_PER_CYCLE * i;
      await until(() => {
        const c = contextOf(ref);
        const failed = c?.conversation.find((e) => e.error !== undefined);
        if (failed) throw new Error(`soak: cycle ${i}: the tool call failed: ${failed.error}`);
        return c !== undefined && c.conversation.length === expected && c.pending.length === 0 && ref.getSnapshot()?.value === 'idle';
      }, `cycle ${i}: the agent did not answer`);
      checkpointing = ref.checkpoint();
      checkpoints++;
      if (failures.length > 0) throw new Error(`soak: cycle ${i}: ${failures[0]}`);
      if (i % o.sampleEvery === 0) {
        await checkpointing;
        await sample(i);
      }
      if (i % o.restartEvery === 0 && i < o.cycles) {
        await checkpointing;
        const t = performance.now();
        await node.stop();
        node = await start();
        restartMs += performance.now() - t;
        restarts++;
        const r = node.durability.recovery;
        if (r.restored.join() !== ID || r.held.length > 0) throw new Error(`soak: restart ${restarts}: recovery ${JSON.stringify(r)}`);
        ref = node.lookup(ID)!;
        if (contextOf(ref)?.conversation.length !== expected) throw new Error(`soak: restart ${restarts}: the conversation came back with ${contextOf(ref)?.conversation.length} entries, not ${expected}`);
      }
    }
    await checkpointing;
    await node.durability.flushed();
    const verified = node.durability.verify();
    if (!verified.ok) throw new Error(`soak: the effect journal does not verify: ${JSON.stringify(verified)}`);
    return { samples, restarts, checkpoints, toolRuns: runs.n, conversation: contextOf(ref)?.conversation.length ?? 0, elapsedMs: performance.now() - t0, restartMs, sampleMs };
  } finally {
    await node.stop();
  }
}

export function formatSample(s: SoakSample): string {
  const r = s.records;
  const kb = (name: string): string => `${(s.bytes[name]! / 1024).toFixed(1)}`;
  return (
    `cycle ${String(s.cycle).padStart(6)}  restarts ${String(s.restarts).padStart(4)}  heap ${s.heapMb.toFixed(1)} MB  data.mdb ${(s.dataFileKb / 1024).toFixed(2)} MB  ` +
    `audit ${s.auditRecords} (${kb('audit')} KB)  ` +
    `durable: ckpt ${r[DURABLE_DBS.checkpoints]} (${kb(DURABLE_DBS.checkpoints)} KB) inbox ${r[DURABLE_DBS.inbox]} turns ${r[DURABLE_DBS.turns]} (${kb(DURABLE_DBS.turns)} KB) blobs ${r.blobs} (${kb(DURABLE_DBS.blobs)} KB) dedupe ${r[DURABLE_DBS.dedupe]}  ` +
    `effects: entries ${r[EFFECT_DBS.entries]} (${kb(EFFECT_DBS.entries)} KB) keys ${r[EFFECT_DBS.keys]} open ${r[EFFECT_DBS.open]}`
  );
}

/**
 * The bounds the soak holds to; an empty list means all held. Record counts follow
 * from retainTurns: a replay base is taken at a checkpoint at least `retainTurns`
 * turns after the last one and drops the turns (and the journal entries) it covers,
 * so at a checkpoint fewer than retainTurns + TURNS_PER_CYCLE turns remain, each
 * with at most one blob and one call (two journal entries). Heap and the bytes of
 * the bounded tables: the last third's maximum within a factor of the first third's.
 */
export function unbounded(samples: readonly SoakSample[], retainTurns: number): string[] {
  const out: string[] = [];
  const maxTurns = retainTurns + TURNS_PER_CYCLE;
  const limits: Record<string, number> = {
    [DURABLE_DBS.actors]: 1,
    [DURABLE_DBS.checkpoints]: 2,
    [DURABLE_DBS.inbox]: 0,
    [DURABLE_DBS.dedupe]: 0,
    [DURABLE_DBS.turns]: maxTurns,
    blobs: maxTurns,
    [DURABLE_DBS.blobs]: maxTurns,
    [EFFECT_DBS.entries]: 2 * maxTurns,
    [EFFECT_DBS.keys]: maxTurns,
    [EFFECT_DBS.open]: 0,
    [EFFECT_DBS.actors]: 1,
  };
  for (const s of samples) {
    for (const [name, limit] of Object.entries(limits)) {
      if (s.records[name]! > limit) out.push(`cycle ${s.cycle}: ${name} holds ${s.records[name]} records (bound ${limit})`);
    }
  }
  const third = Math.max(1, Math.floor(samples.length / 3));
  const early = samples.slice(1, 1 + third); // sample 0 is before the first message
  const late = samples.slice(-third);
  const grows = (what: string, of: (s: SoakSample) => number, factor: number): void => {
    const a = Math.max(...early.map(of));
    const b = Math.max(...late.map(of));
    if (b > a * factor) out.push(`${what}: last third's max ${b.toFixed(1)} > ${factor} × first third's max ${a.toFixed(1)}`);
  };
  if (early.length > 0 && late.length > 0) {
    grows('heap MB after GC', (s) => s.heapMb, 1.5);
    // The checkpoint grows with the conversation (by design), not faster: bytes per cycle stay put.
    grows('checkpoint bytes per cycle', (s) => s.bytes[DURABLE_DBS.checkpoints]! / Math.max(1, s.cycle), 1.5);
    for (const name of [DURABLE_DBS.turns, DURABLE_DBS.blobs, EFFECT_DBS.entries, EFFECT_DBS.keys]) grows(`${name} bytes`, (s) => s.bytes[name]!, 2);
  }
  // LMDB reuses the pages of rewritten records; if it could not (a read transaction left open), the file would grow by a checkpoint or more per cycle.
  for (const s of samples) {
    const live = Object.values(s.bytes).reduce((a, b) => a + b, 0) / 1024;
    if (s.dataFileKb > 4 * live + 1024) out.push(`cycle ${s.cycle}: data.mdb is ${s.dataFileKb.toFixed(0)} KB for ${live.toFixed(0)} KB of stored values (bound 4 × + 1 MiB)`);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '10000' },
      'restart-every': { type: 'string', default: '20' },
      retain: { type: 'string', default: '8' },
      'sample-every': { type: 'string' },
      durability: { type: 'string', default: 'async' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
    allowPositionals: true, // `npm run soak:growth -- --cycles N` may pass a lone `--`
  });
  const int = (name: string, s: string | undefined, min: number): number => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < min) {
      process.stderr.write(`soak:growth: --${name} must be an integer >= ${min} (got ${JSON.stringify(s)})\n`);
      process.exit(2);
    }
    return n;
  };
  const cycles = int('cycles', values.cycles, 1);
  const durability = values.durability;
  if (durability !== 'sync' && durability !== 'async') {
    process.stderr.write(`soak:growth: --durability must be sync or async (got ${JSON.stringify(durability)})\n`);
    process.exit(2);
  }
  const options = {
    cycles,
    restartEvery: int('restart-every', values['restart-every'], 1),
    retainTurns: int('retain', values.retain, 1),
    sampleEvery: int('sample-every', values['sample-every'] ?? String(Math.max(1, Math.floor(cycles / 20))), 1),
    durability,
  } as const;
  const dataDir = values.dir ?? mkdtempSync(join(tmpdir(), 'agentos-soak-growth-'));
  console.log(`soak:growth: ${cycles} cycles, restart every ${options.restartEvery}, retainTurns ${options.retainTurns}, ${durability} durability, in ${dataDir}`);
  let ok = false;
  try {
    const r = await runSoak({ ...options, dataDir, log: (line) => console.log(line) });
    const problems = unbounded(r.samples, options.retainTurns);
    if (r.toolRuns !== cycles) problems.push(`the tool ran ${r.toolRuns} times for ${cycles} calls`);
    console.log(
      `\n${r.checkpoints} checkpoints, ${r.restarts} node restarts, ${r.toolRuns} tool runs, conversation of ${r.conversation} entries, ` +
        `${(r.elapsedMs / 1000).toFixed(1)} s, of which restarts ${(r.restartMs / 1000).toFixed(1)} s and samples ${(r.sampleMs / 1000).toFixed(1)} s (not a benchmark)`,
    );
    console.log(problems.length === 0 ? 'bounded: every bound held' : `NOT bounded:\n  ${problems.join('\n  ')}`);
    ok = problems.length === 0;
  } finally {
    if (ok && !values.keep && values.dir === undefined) rmSync(dataDir, { recursive: true, force: true });
    else console.log(`data kept in ${dataDir}`);
  }
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
