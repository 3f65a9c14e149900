// Actor mobility across nodes on loopback.
// 1. Live migration of an actor holding ~1 MB of state, under load (another node
//    sends it a message every millisecond), back and forth between two nodes:
//    time of `node.migrate` (pause, drain, capture, transfer, start on the
//    target, forward, retire) p50/p99, non-persistent and persistent (through its
//    LMDB checkpoint). Baseline: the raw XState round trip of the same state in
//    one process (getPersistedSnapshot → msgpackr pack/unpack → createActor).
//    Afterwards the actor must hold every message sent (checked, not assumed).
// 2. Failover after SIGKILL: two nodes here, a third in a child process owning a
//    persistent agent; time from the kill until the agent answers an ask here
//    (failure detection + removal + restart from the replica), with the detector
//    settings in FAST_DETECTOR. Baseline: the same agent started from its
//    checkpoint on a single node (recovery alone).

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { createActor } from 'xstate';
import { createNode, type AgentOsNode } from './agentos.js';
import { BENCH_SECRET, FAST_DETECTOR, stateAgent, stateMachine } from './cluster-mobility-agents.js';
import { percentile, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'cluster';
const VICTIM = fileURLToPath(new URL('./cluster-victim.ts', import.meta.url));
const STATE_KB = 1024;

export async function clusterNode(name: string, seeds: string[], extra: { replicas?: number } = {}): Promise<AgentOsNode> {
  return createNode({
    name,
    dataDir: scratchDir(),
    memory: false,
    blackboard: false,
    agents: [stateAgent(false), stateAgent(true)],
    cluster: { secret: BENCH_SECRET, seeds, ...FAST_DETECTOR, ...extra },
  });
}

export const upCount = (n: AgentOsNode): number => n.cluster!.members().filter((m) => m.status === 'up').length;

export async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error('bench cluster: condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Migrate `id` back and forth `rounds` times while `b` sends it one `inc` per ms; returns each move's ms. */
export async function migrations(a: AgentOsNode, b: AgentOsNode, id: string, persistent: boolean, rounds: number): Promise<{ ms: number[]; lost: number }> {
  await a.spawn(stateAgent(persistent), { id });
  a.kernel.send(id, { type: 'pad', kb: STATE_KB });
  await waitFor(() => b.cluster!.remote.locate(id) !== undefined, 5000);
  let sent = 0;
  const load = setInterval(() => {
    try {
      b.kernel.send(id, { type: 'inc', by: 1 });
      sent++;
    } catch {
      // counted as lost below
    }
  }, 1);
  const ms: number[] = [];
  let here = a;
  let there = b;
  try {
    for (let r = 0; r < rounds; r++) {
      await new Promise((res) => setTimeout(res, 100)); // a move right after the last one first waits for its tail (forwarded messages, fences)
      const t0 = performance.now();
      await here.migrate(id, there.name);
      ms.push(performance.now() - t0);
      [here, there] = [there, here];
    }
  } finally {
    clearInterval(load);
  }
  await waitFor(async () => ((await b.kernel.ask(id, { type: 'get' })) as number) >= sent, 5000).catch(() => undefined);
  const count = (await b.kernel.ask(id, { type: 'get' })) as number;
  await here.lookup(id)?.stop();
  return { ms, lost: sent - count };
}

/** The raw XState round trip of the same state: persisted snapshot, packed, unpacked, restored. */
function rawRoundTrips(n: number): number[] {
  const packr = new Packr({ useRecords: false });
  const actor = createActor(stateMachine).start();
  actor.send({ type: 'pad', kb: STATE_KB });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const bytes = packr.pack(actor.getPersistedSnapshot());
    const restored = createActor(stateMachine, { snapshot: packr.unpack(bytes) }).start();
    restored.stop();
    out.push(performance.now() - t0);
  }
  actor.stop();
  return out;
}

/** Kill a node owning a persistent agent, time until the agent answers on a survivor. */
async function failover(a: AgentOsNode, b: AgentOsNode, round: number): Promise<number> {
  const id = `victim-agent-${round}`;
  const child = fork(VICTIM, [`victim-${round}`, `${a.name}@${a.cluster!.url}`, id], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`victim exited (${code})`)));
    });
    await waitFor(() => [a, b].some((n) => (n.cluster!.handoff.replicas?.get(id)?.transfer.durable?.checkpoint.turn ?? 0) >= 10), 10_000);
    const t0 = performance.now();
    child.kill('SIGKILL');
    await waitFor(async () => {
      try {
        return ((await a.kernel.ask(id, { type: 'get' }, { timeoutMs: 200 })) as number) === 10;
      } catch {
        return false;
      }
    }, 15_000);
    const ms = performance.now() - t0;
    await waitFor(() => upCount(a) === 2 && upCount(b) === 2, 10_000);
    return ms;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}

/** Recovery alone: the same persistent agent started again from its checkpoint on one node. */
async function recoveryOnly(rounds: number): Promise<number[]> {
  const agent = stateAgent(true);
  const dataDir = scratchDir();
  const first = await createNode({ name: 'bench-recover', dataDir, memory: false, blackboard: false, agents: [agent] });
  await first.spawn(agent, { id: 'r' });
  for (let i = 0; i < 10; i++) await first.kernel.post('r', { type: 'inc', by: 1 });
  await first.stop();
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const n = await createNode({ name: 'bench-recover', dataDir, memory: false, blackboard: false, agents: [agent] });
    await n.kernel.ask('r', { type: 'get' });
    out.push(performance.now() - t0);
    await n.stop();
  }
  return out;
}

export async function runCluster(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const rounds = opts.quick ? 10 : 40;
  const kills = opts.quick ? 2 : 5;
  const a = await clusterNode('mob-a', []);
  const b = await clusterNode('mob-b', [`mob-a@${a.cluster!.url}`]);
  const rows: Row[] = [];
  try {
    await waitFor(() => upCount(a) === 2 && upCount(b) === 2, 15_000);
    log(`cluster mobility: ${rounds} migrations of a ${STATE_KB} KB actor under load (non-persistent, persistent) …`);
    const raw = rawRoundTrips(rounds);
    for (const persistent of [false, true]) {
      const { ms, lost } = await migrations(a, b, persistent ? 'moving-p' : 'moving', persistent, rounds);
      const p99 = percentile(ms, 0.99);
      const kind = persistent ? 'persistent' : 'non-persistent';
      rows.push(
        { suite: SUITE, name: `migration of a ${kind} actor with ~1 MB state under load, p50`, ours: percentile(ms, 0.5), baseline: percentile(raw, 0.5), unit: 'ms', better: 'lower', target: 'informational', met: undefined, note: `baseline: raw XState snapshot → msgpackr → restore of the same state in one process; ${lost} messages lost` },
        { suite: SUITE, name: `migration of a ${kind} actor with ~1 MB state under load, p99`, ours: p99, baseline: percentile(raw, 0.99), unit: 'ms', better: 'lower', target: 'p99 < 100 ms, nothing lost', met: p99 < 100 && lost === 0, note: `${rounds} moves back and forth between two nodes (one process, 100 ms apart) while the other node sends 1 msg/ms${persistent ? "; checkpoint every 100 messages, each replicated; the move's checkpoint (1.5 MB padded, as latest and base) is written on the target only, before it answers" : ''}` },
      );
    }
    log(`cluster mobility: ${kills} failovers after SIGKILL …`);
    const fo: number[] = [];
    for (let k = 0; k < kills; k++) fo.push(await failover(a, b, k));
    const rec = await recoveryOnly(kills);
    const detector = 'heartbeat 100 ms, phi threshold 8, acceptable pause 300 ms, min σ 50 ms, stable-after 300 ms, removal margin 200 ms, check every 50 ms';
    rows.push(
      { suite: SUITE, name: 'failover after SIGKILL (detection + removal + restart from replica), p50', ours: percentile(fo, 0.5), baseline: percentile(rec, 0.5), unit: 'ms', better: 'lower', target: 'informational', met: undefined, note: `baseline: restart of the same agent from its checkpoint on one node (createNode → ask); detector: ${detector}` },
      { suite: SUITE, name: 'failover after SIGKILL (detection + removal + restart from replica), p99', ours: percentile(fo, 0.99), baseline: percentile(rec, 0.99), unit: 'ms', better: 'lower', target: 'p99 < 3 s', met: percentile(fo, 0.99) < 3000, note: `${kills} kills (p99 of so few is their max)` },
    );
    return rows;
  } finally {
    await b.stop();
    await a.stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const rows = await runCluster({ quick: process.argv.includes('--quick') }, console.log);
  console.table(rows.map((r) => ({ name: r.name, ours: r.ours.toFixed(1), baseline: r.baseline?.toFixed(1), met: r.met, note: r.note })));
  process.exit(0);
}
