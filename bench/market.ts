// Contract-net rounds per second with 100 bidders, against the protocol core
// alone in the same run. Ours: a manager and 100 bidder agents on one node (real
// clock, real LMDB audit log); a round is announce → 100 cfps → 100 proposals
// (each validated, routed, audited) → award (1 accept, 99 rejects, audited) →
// inform → outcome to the asker: ~300 messages and ~100 audit records. Raw: the
// same rounds through the pure protocol function (`protocolStep`), bidders as
// plain function calls and a FIFO in place of the kernel: no actors, mailboxes,
// scheduler, validation or audit. The ratio is what running the protocol as
// audited agents costs. One round at a time, and 10 rounds in flight.
// Run alone: npx tsx bench/market.ts [--quick]. Measures the sources (src via tsx).

import { createNode, type AgentOsNode } from '../src/index.js';
import { bidder, contractNetManager, initialState, lowestPrice, protocolStep, type ManagerState, type ProtocolConfig, type ProtocolEvent } from '../src/services/market/index.js';
import { cleanupScratch, fmt, interleaved, median, printTable, ratioRange, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'market';
const BIDDERS = 100;
const ids = Array.from({ length: BIDDERS }, (_, i) => `b${i}`);
/** Each bidder's fixed bid: a spread of prices so the award has work to do. */
const bidOf = (id: string) => {
  const i = Number(id.slice(1));
  return { price: 10 + ((i * 37) % 90), etaMs: 50 + ((i * 13) % 400), quality: ((i * 7) % 100) / 100 };
};

async function rig(): Promise<{ node: AgentOsNode; announce: (taskId: string) => Promise<unknown> }> {
  const node = await createNode({ name: 'bench-market', dataDir: scratchDir(), memory: false });
  const def = bidder({ name: 'bench-bidder', evaluate: (cfp) => bidOf(cfp.bidder), execute: (award) => ({ ok: award.taskId }) });
  for (const id of ids) await node.spawn(def, { id });
  const mgr = await node.spawn(contractNetManager({ name: 'bench-manager', bidders: ids, deadlineMs: 60_000, keepOutcomes: 10 }), { id: 'mgr' });
  return { node, announce: (taskId) => mgr.ask({ type: 'announce', taskId, maxPrice: 100 }, { timeoutMs: 60_000 }) };
}

/** Rounds/s on the node: `total` rounds, `inFlight` at a time. */
async function ours(announce: (taskId: string) => Promise<unknown>, segment: number, total: number, inFlight: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < total; i += inFlight) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(total, i + inFlight); j++) batch.push(announce(`s${segment}-t${j}`));
    const outcomes = (await Promise.all(batch)) as { status: string }[];
    if (outcomes.some((o) => o.status !== 'done')) throw new Error('bench: a round did not complete');
  }
  return total / ((performance.now() - t0) / 1000);
}

/** Rounds/s of the protocol core alone: the same messages, delivered from a FIFO to plain functions. */
function raw(total: number, inFlight: number): number {
  const config: ProtocolConfig = { bidders: ids, deadlineMs: 60_000, executionMs: 30_000, maxAttempts: 3, strategy: lowestPrice, strategyName: 'lowest-price', earlyClose: true, keepOutcomes: 10 };
  let state: ManagerState = initialState(undefined, 'credits');
  const queue: { event: ProtocolEvent; from: string | undefined }[] = [];
  let done = 0;
  const t0 = performance.now();
  let next = 0;
  const announce = (): void => void queue.push({ event: { type: 'announce', taskId: `t${next++}`, maxPrice: 100 }, from: undefined });
  for (let i = 0; i < Math.min(inFlight, total); i++) announce();
  for (let head = 0; head < queue.length; head++) {
    const { event, from } = queue[head]!;
    const out = protocolStep(state, config, event, { self: 'mgr', from, now: 0, requester: event.type === 'announce' ? { replyTo: 'client' } : undefined });
    state = out.state;
    for (const e of out.effects) {
      if (e.kind === 'send' && e.message.type === 'cfp') queue.push({ event: { type: 'propose', conversationId: e.message.conversationId, sender: e.to, ...bidOf(e.to) }, from: e.to });
      else if (e.kind === 'send' && e.message.type === 'accept-proposal') queue.push({ event: { type: 'inform', conversationId: e.message.conversationId, sender: e.to, result: { ok: e.message.taskId } }, from: e.to });
      else if (e.kind === 'reply' && ++done && next < total) announce();
    }
  }
  if (done !== total) throw new Error(`bench: raw rounds done ${done} of ${total}`);
  return total / ((performance.now() - t0) / 1000);
}

export async function runMarket(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const segments = opts.quick ? 3 : 7;
  const perSegment = opts.quick ? 30 : 200;
  const rows: Row[] = [];
  const { node, announce } = await rig();
  try {
    await ours(announce, -1, opts.quick ? 10 : 50, 1); // warm-up
    raw(200, 1);
    for (const inFlight of [1, 10]) {
      log(`market: ${segments} segments × ${perSegment} rounds, ${BIDDERS} bidders, ${inFlight} in flight`);
      let segment = 0;
      const r = await interleaved(segments, {
        ours: () => ours(announce, segment++ * 10 + inFlight, perSegment, inFlight),
        raw: async () => raw(perSegment, inFlight),
      });
      rows.push({
        suite: SUITE,
        name: `contract-net rounds/s, ${BIDDERS} bidders, ${inFlight === 1 ? 'one round at a time' : `${inFlight} rounds in flight`}`,
        ours: median(r.ours),
        baseline: median(r.raw),
        unit: 'rounds/s',
        better: 'higher',
        target: '–',
        met: undefined,
        note: `baseline: the protocol core alone (no actors, kernel or audit); a round is ~${3 * BIDDERS + 1} messages and ~${BIDDERS + 2} audit records; ours ≈ ${fmt(median(r.ours) * (3 * BIDDERS + 1), 'msg/s')}; per-segment ratio ${ratioRange(r.ours, r.raw)}`,
      });
    }
  } finally {
    await node.stop();
  }
  return rows;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const quick = process.argv.includes('--quick');
  try {
    const rows = await runMarket({ quick }, (s) => console.log(s));
    console.log('');
    printTable(rows);
  } finally {
    cleanupScratch();
  }
}
