// Actors across two nodes on loopback, both in this process, through the whole
// path: kernel route → directory → RemoteActors → ClusterTransport → the other
// node's kernel (schema check, tenancy again, mailbox, scheduler) → the actor.
// 1. send throughput: N `inc` messages to a counter on the other node until it
//    has them all, against the same work without agentos: raw `ws` + msgpackr
//    carrying the messages in frames of 100 to a raw XState counter actor
//    (`actor.send`; no authentication, acks, resend log, checks or scheduling).
// 2. ask round trip p50/p99 to the remote counter, against a local ask.

import { Packr, Unpackr } from 'msgpackr';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createNode, type AgentOsNode } from './agentos.js';
import { createActor } from 'xstate';
import { counterAgent, counterMachine, type CounterMessage } from './machines.js';
import { interleaved, median, percentile, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'cluster';
const SECRET = 'bench cluster secret, 32 bytes..';

async function pair(): Promise<[AgentOsNode, AgentOsNode]> {
  const a = await createNode({ name: 'bench-a', dataDir: scratchDir(), memory: false, blackboard: false, agents: [counterAgent()], cluster: { secret: SECRET } });
  const b = await createNode({ name: 'bench-b', dataDir: scratchDir(), memory: false, blackboard: false, agents: [counterAgent()], cluster: { secret: SECRET, seeds: [a.cluster!.url] } });
  const upBoth = (): boolean => [a, b].every((n) => n.cluster!.members().filter((m) => m.status === 'up').length === 2);
  while (!upBoth()) await new Promise((r) => setTimeout(r, 20));
  await b.spawn(counterAgent(), { id: 'target' });
  await a.spawn(counterAgent(), { id: 'local' });
  while (!a.cluster!.remote.locate('target')) await new Promise((r) => setTimeout(r, 10));
  return [a, b];
}

async function oursSend(a: AgentOsNode, b: AgentOsNode, n: number): Promise<number> {
  // The counter's state, read without a message (a message would queue behind the flood).
  const count = (): number => (b.lookup('target')!.getSnapshot()!.context as { count: number }).count;
  const start = count();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    a.kernel.send('target', { type: 'inc', by: 1 });
    // At most 5,000 in flight: the target's mailbox holds 10,000.
    if (i % 1000 === 999) while (start + i - count() > 5_000) await new Promise((r) => setImmediate(r));
  }
  while (count() < start + n) await new Promise((r) => setImmediate(r));
  return performance.now() - t0;
}

async function rawPair(): Promise<{ server: WebSocketServer; client: WebSocket; received: () => number; reset: () => void }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  let count = 0;
  const unpackr = new Unpackr();
  const actor = createActor(counterMachine).start();
  server.on('connection', (ws) =>
    ws.on('message', (data: Buffer) => {
      for (const m of unpackr.unpack(data) as { message: CounterMessage }[]) actor.send(m.message);
      count += 0; // counted from the actor's own state below
    }),
  );
  const received = (): number => (actor.getSnapshot().context as { count: number }).count - count;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await new Promise((r) => client.once('open', r));
  return { server, client, received, reset: () => (count = (actor.getSnapshot().context as { count: number }).count) };
}

async function rawSend(raw: Awaited<ReturnType<typeof rawPair>>, n: number): Promise<number> {
  const packr = new Packr();
  raw.reset();
  const t0 = performance.now();
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) batch.push({ to: 'target', message: { type: 'inc', by: 1 }, options: { from: 'x' }, fromNode: 'bench-a' });
    raw.client.send(packr.pack(batch));
    if (raw.client.bufferedAmount > 1 << 20) await new Promise((r) => setImmediate(r));
  }
  while (raw.received() < n) await new Promise((r) => setImmediate(r));
  return performance.now() - t0;
}

export async function runClusterActors(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const n = opts.quick ? 5_000 : 30_000;
  const asks = opts.quick ? 300 : 2_000;
  const [a, b] = await pair();
  const raw = await rawPair();
  try {
    log(`cluster actors: ${n} cross-node sends, ${asks} asks …`);
    await oursSend(a, b, 2_000);
    await rawSend(raw, 2_000);
    const ms = await interleaved(opts.quick ? 2 : 4, { ours: () => oursSend(a, b, n), raw: () => rawSend(raw, n) });
    const ours = median(ms.ours.map((m) => (n / m) * 1000));
    const base = median(ms.raw.map((m) => (n / m) * 1000));
    const remote: number[] = [];
    const local: number[] = [];
    for (let i = 0; i < asks; i++) {
      let t = performance.now();
      await a.kernel.ask('target', { type: 'get' });
      remote.push(performance.now() - t);
      t = performance.now();
      await a.kernel.ask('local', { type: 'get' });
      local.push(performance.now() - t);
    }
    const us = (x: number): number => x * 1000;
    return [
      { suite: SUITE, name: 'cross-node send to an actor (msgs/s), 2 nodes on loopback', ours, baseline: base, unit: 'msg/s', better: 'higher', target: '≥ 50% of raw', met: ours / base >= 0.5, note: 'ours: kernel route, directory, transport, the other kernel’s checks, mailbox, scheduler, actor; raw: ws frames of 100 into a raw XState actor' },
      { suite: SUITE, name: 'cross-node ask round trip p50', ours: us(percentile(remote, 0.5)), baseline: us(percentile(local, 0.5)), unit: 'µs', better: 'lower', target: 'informational', met: undefined, note: 'baseline: the same ask to a local actor' },
      { suite: SUITE, name: 'cross-node ask round trip p99', ours: us(percentile(remote, 0.99)), baseline: us(percentile(local, 0.99)), unit: 'µs', better: 'lower', target: 'informational', met: undefined },
    ];
  } finally {
    raw.client.close();
    raw.server.close();
    await b.stop();
    await a.stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const rows = await runClusterActors({ quick: process.argv.includes('--quick') }, console.log);
  console.table(rows.map((r) => ({ name: r.name, ours: r.ours.toFixed(1), baseline: r.baseline?.toFixed(1), met: r.met })));
}
