// Blackboard write throughput with 10 concurrent writers, against raw LMDB in
// the same run. Ours: `board.as(writer).post(...)` — the path an agent's
// `blackboard` invoke takes (capability check, the board actor's mailbox, the
// compare-and-set, the JSON value check and hash, an LMDB put, an audit record,
// the acknowledgement once the write is durable). Raw: 10 loops of
// `await db.put(key, record)` on the same record shape, followed by
// `await root.flushed` under sync durability (the board's default: acknowledge
// once on disk), or by nothing under async (acknowledge once committed).
//   - own topics: each writer writes its own topic, compare-and-set on the version it wrote last;
//   - one topic: the 10 writers increment one counter (read, then compare-and-set; a stale write retries),
//     the figure is acknowledged increments/s.
// Run alone: npx tsx bench/blackboard.ts [--quick]. Measures the sources (src via tsx).

import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, type AgentOsNode } from '../src/index.js';
import { BlackboardService } from '../src/services/blackboard/index.js';
import { cleanupScratch, fmt, interleaved, median, printTable, ratioRange, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'blackboard';
const WRITERS = 10;

interface Rig {
  node: AgentOsNode;
  board: BlackboardService;
  close(): Promise<void>;
}

/** A node with its blackboard (`createNode({ blackboard })` once the node wires it; else one started here on its own LMDB) and 10 idle writers. */
async function rig(durability: 'sync' | 'async'): Promise<Rig> {
  const dir = scratchDir();
  const name = `bench-bb-${durability}`;
  let node: AgentOsNode;
  try {
    node = await createNode({ name, dataDir: dir, blackboard: { durability } } as Parameters<typeof createNode>[0]);
  } catch (err) {
    if ((err as { field?: string }).field !== 'blackboard') throw err;
    node = await createNode({ name, dataDir: dir });
  }
  let board = (node as { blackboard?: BlackboardService }).blackboard;
  let close = async (): Promise<void> => node.stop();
  if (!board) {
    const db = open({ path: join(dir, 'board'), maxDbs: 4 });
    const own = new BlackboardService({ db, kernel: node.kernel, durability });
    await own.start();
    board = own;
    close = async () => {
      await node.stop();
      await own.close();
      await db.close();
    };
  }
  const idle = defineAgent({
    name: 'bench-writer',
    machine: setup({}).createMachine({}),
    messages: z.object({ type: z.literal('noop') }),
    contract: { capabilities: ['blackboard.read', 'blackboard.write'] },
  });
  for (let w = 0; w < WRITERS; w++) await node.spawn(idle, { id: `w${w}` });
  return { node, board, close };
}

const value = (w: number, i: number) => ({ writer: w, seq: i, reading: { t: 20.5 + (i % 7), ok: true }, tags: ['bench', 'blackboard'] });

/** ms for `total` writes by 10 writers, each on its own topic (blind compare-and-set on its last version). */
async function ownTopics(r: Rig, round: number, total: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const me = r.board.as(`w${w}`);
      let version = 0;
      for (let i = 0; i < total / WRITERS; i++) version = (await me.post(`own.${round}.w${w}`, value(w, i), { expectedVersion: version })).version;
    }),
  );
  return performance.now() - t0;
}

/** ms for `total` acknowledged increments of one counter by 10 writers (read, compare-and-set, retry when stale); counts stale writes. */
async function oneTopic(r: Rig, round: number, total: number, stale: { n: number }): Promise<number> {
  const topic = `shared.${round}`;
  let acked = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const me = r.board.as(`w${w}`);
      while (acked < total) {
        const seen = await me.read<number>(topic);
        try {
          await me.post(topic, (seen?.value ?? 0) + 1, { expectedVersion: seen?.version ?? 0 });
          acked++;
        } catch (err) {
          if ((err as { code?: string }).code !== 'BLACKBOARD_STALE_WRITE') throw err;
          stale.n++;
        }
      }
    }),
  );
  return performance.now() - t0;
}

/** ms for `total` raw LMDB puts by 10 concurrent loops (then a flush each, under sync). */
async function raw(root: RootDatabase, round: number, total: number, durability: 'sync' | 'async'): Promise<number> {
  const db = root.openDB<Record<string, unknown>, string>({ name: 'raw', encoding: 'json' });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < total / WRITERS; i++) {
        await db.put(`default\x1fown.${round}.w${w}`, { v: 1, topic: `own.${round}.w${w}`, version: i + 1, value: value(w, i), by: `w${w}`, at: 0, hash: 'x'.repeat(64) });
        if (durability === 'sync') await root.flushed;
      }
    }),
  );
  return performance.now() - t0;
}

export async function runBlackboard(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const total = opts.quick ? 500 : 3_000;
  // The contended series acknowledges about one increment per commit round trip: fewer of them.
  const contended = opts.quick ? 60 : 200;
  const runs = opts.quick ? 3 : 5;
  const rows: Row[] = [];
  for (const durability of ['sync', 'async'] as const) {
    log(`blackboard: ${durability} durability, ${WRITERS} writers, ${total} writes (${contended} contended) × ${runs} rounds …`);
    const r = await rig(durability);
    const rawRoot = open({ path: join(scratchDir(), 'raw'), maxDbs: 4 });
    const stale = { n: 0 };
    let round = 0;
    try {
      await ownTopics(r, -1, 200); // warm-up
      await raw(rawRoot, -1, 200, durability);
      const ms = await interleaved(runs, {
        own: () => ownTopics(r, round++, total),
        shared: () => oneTopic(r, round++, contended, stale),
        raw: () => raw(rawRoot, round++, total, durability),
      });
      const rate = (xs: number[], n = total) => xs.map((m) => (n / m) * 1000);
      const [own, shared, base] = [rate(ms.own), rate(ms.shared, contended), rate(ms.raw)];
      const baseline = `raw LMDB put${durability === 'sync' ? ' + flushed' : ''}, ${WRITERS} concurrent`;
      rows.push({
        suite: SUITE,
        name: `writes/s, ${WRITERS} writers, own topics (${durability})`,
        ours: median(own),
        baseline: median(base),
        unit: 'writes/s',
        better: 'higher',
        target: '–',
        met: undefined,
        note: `baseline: ${baseline}; per-round ratio ${ratioRange(own, base)}; ack once ${durability === 'sync' ? 'flushed to disk' : 'committed'}`,
      });
      rows.push({
        suite: SUITE,
        name: `acked increments/s, ${WRITERS} writers, one topic CAS (${durability})`,
        ours: median(shared),
        baseline: median(base),
        unit: 'writes/s',
        better: 'higher',
        target: '–',
        met: undefined,
        note: `baseline: ${baseline}; each increment is a read and a compare-and-set; ${fmt(stale.n / (runs * contended), '')} stale writes per acknowledged one (retried); ${contended} increments per round`,
      });
    } finally {
      await r.close();
      await rawRoot.close();
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const quick = process.argv.includes('--quick');
  try {
    const rows = await runBlackboard({ quick }, (s) => console.log(s));
    console.log('');
    printTable(rows);
  } finally {
    cleanupScratch();
  }
}
