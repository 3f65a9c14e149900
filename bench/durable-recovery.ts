// Recovery time against the number of persistent actors on one node: a data
// directory is filled with N persistent note takers that have each handled a few
// notes, the node is stopped, then each run times `createNode` (which recovers
// every registered actor from its checkpoint) until every actor has answered an
// `ask`. The raw baseline, run interleaved with ours: open an LMDB environment
// holding the same N XState persisted snapshots, read and unpack each, and
// `createActor(machine, { snapshot }).start()` it — the floor of any restore.

import { open } from 'lmdb';
import { pack, unpack } from 'msgpackr';
import { createActor, type Snapshot } from 'xstate';
import { createNode, type ActorRef } from './agentos.js';
import { handled, NOTE, noteAgent, noteMachine } from './durable-machines.js';
import { fmt, immediate, interleaved, median, now, percentile, scratchDir, until, type BenchOptions, type Row } from './lib.js';

const SUITE = 'durable';
/** Target of the issue: p99 recovery of 1,000 persistent actors on one node. */
const TARGET_MS = 2000;
const TARGET_N = 1000;
/** Notes each actor handles before the node stops. */
const NOTES = 3;
/** Spawns in flight while filling the directory. */
const BATCH = 500;

const def = noteAgent('recovering-notes', { checkpoint: 'turn', durability: 'async' });
const nodeName = 'bench-recovery';
const idOf = (i: number): string => `note-${i}`;

/** Fill a data directory with `n` persistent actors that have each handled NOTES notes; the node is stopped. */
async function populate(n: number, dataDir: string): Promise<number> {
  const t0 = now();
  const node = await createNode({ name: nodeName, dataDir, agents: [def] });
  try {
    const refs: ActorRef[] = [];
    for (let i = 0; i < n; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - i) }, (_, j) => node.spawn(def, { id: idOf(i + j) }) as Promise<ActorRef>);
      refs.push(...(await Promise.all(batch)));
    }
    const target = handled.n + n * NOTES;
    for (let k = 0; k < NOTES; k++) for (const ref of refs) ref.send({ type: 'note', text: NOTE + k });
    await until(() => handled.n === target, 300_000, `${n} actors to handle their notes`);
    await immediate();
    await node.durability.flushed();
  } finally {
    await node.stop();
  }
  return now() - t0;
}

/** The same state as raw XState persisted snapshots, one LMDB record each. */
async function populateRaw(n: number, path: string): Promise<void> {
  const env = open({ path, maxDbs: 4 });
  const db = env.openDB<Uint8Array, string>({ name: 'snapshots', encoding: 'binary' });
  for (let i = 0; i < n; i++) {
    const actor = createActor(noteMachine).start();
    for (let k = 0; k < NOTES; k++) actor.send({ type: 'note', text: NOTE + k });
    void db.put(idOf(i), pack(actor.getPersistedSnapshot()));
    actor.stop();
  }
  await db.committed;
  await env.flushed;
  await env.close();
}

/** One measured recovery: ms from createNode to every actor having answered, and what the node reported. */
async function recoverOnce(n: number, dataDir: string): Promise<{ total: number; create: number; reported: number }> {
  const t0 = now();
  const node = await createNode({ name: nodeName, dataDir, agents: [def] });
  const create = now() - t0;
  try {
    const r = node.durability.recovery;
    if (r.restored.length !== n || r.held.length > 0) throw new Error(`bench: recovery restored ${r.restored.length} of ${n}, held ${JSON.stringify(r.held.slice(0, 3))}`);
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => node.lookup(idOf(i))!.ask<number>({ type: 'get' }, { timeoutMs: 120_000 })));
    const total = now() - t0;
    if (answers.some((a) => a !== NOTES)) throw new Error(`bench: a recovered actor answered ${answers.find((a) => a !== NOTES)}, expected ${NOTES}`);
    return { total, create, reported: r.ms };
  } finally {
    await node.stop();
  }
}

async function rawOnce(n: number, path: string): Promise<number> {
  const t0 = now();
  const env = open({ path, maxDbs: 4 });
  const db = env.openDB<Uint8Array, string>({ name: 'snapshots', encoding: 'binary' });
  const actors = [];
  for (const { value } of db.getRange()) {
    const actor = createActor(noteMachine, { snapshot: unpack(value) as Snapshot<unknown> }).start();
    if (actor.getSnapshot().context.turns !== NOTES) throw new Error('bench: a raw actor came back with the wrong state');
    actors.push(actor);
  }
  const ms = now() - t0;
  if (actors.length !== n) throw new Error(`bench: raw restore found ${actors.length} of ${n} snapshots`);
  for (const a of actors) a.stop();
  await env.close();
  return ms;
}

export async function runRecovery(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const plan: Array<{ n: number; runs: number }> = opts.quick
    ? [
        { n: 100, runs: 3 },
        { n: 1_000, runs: 3 },
      ]
    : [
        { n: 100, runs: 10 },
        { n: 1_000, runs: 10 },
        { n: 10_000, runs: 1 },
      ];
  const rows: Row[] = [];
  for (const { n, runs } of plan) {
    const dataDir = scratchDir();
    const rawDir = scratchDir();
    const fillMs = await populate(n, dataDir);
    await populateRaw(n, rawDir);
    await recoverOnce(n, dataDir); // warm-up (and the first stop after a restart)
    log(`durable: recovery of ${n.toLocaleString('en')} persistent actors (filled in ${(fillMs / 1000).toFixed(1)} s), ${runs} run${runs > 1 ? 's' : ''}, interleaved with the raw restore`);
    const details: Array<{ total: number; create: number; reported: number }> = [];
    const samples = await interleaved(runs, {
      ours: async () => {
        const d = await recoverOnce(n, dataDir);
        details.push(d);
        return d.total;
      },
      raw: () => rawOnce(n, rawDir),
    });
    const N = n.toLocaleString('en');
    const create = median(details.map((d) => d.create));
    const reported = median(details.map((d) => d.reported));
    const detail = `createNode (recovery included) ${fmt(create, 'ms')}, of which recovery ${fmt(reported, 'ms')} by node.durability.recovery.ms, the rest until all ${N} answered an ask`;
    const over = `over ${runs} runs: ${samples.ours.map((x) => x.toFixed(0)).join(', ')} ms (raw ${samples.raw.map((x) => x.toFixed(0)).join(', ')} ms)`;
    if (runs === 1) {
      rows.push({ suite: SUITE, name: `recovery → all answering, ${N} actors (1 run)`, ours: samples.ours[0]!, baseline: samples.raw[0]!, unit: 'ms', better: 'lower', target: '–', met: undefined, note: `${detail}; ${(samples.ours[0]! / n).toFixed(2)} ms per actor` });
      continue;
    }
    rows.push({ suite: SUITE, name: `recovery → all answering, ${N} actors p50`, ours: median(samples.ours), baseline: median(samples.raw), unit: 'ms', better: 'lower', target: '–', met: undefined, note: `${detail} (medians); ${over}` });
    if (n === TARGET_N) {
      const p99 = percentile(samples.ours, 0.99);
      rows.push({
        suite: SUITE,
        name: `recovery → all answering, ${N} actors p99`,
        ours: p99,
        baseline: percentile(samples.raw, 0.99),
        unit: 'ms',
        better: 'lower',
        target: `≤ ${fmt(TARGET_MS / 1000, 's')}`,
        met: p99 <= TARGET_MS,
        note: `p99 of ${runs} runs is their maximum`,
      });
    }
  }
  return rows;
}
