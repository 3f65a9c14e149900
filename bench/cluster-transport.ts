// Cross-node messaging on loopback, both ends in this process, against raw
// `ws` + msgpackr measured in the same run:
// 1. throughput: N envelopes one way until the receiver has them all. Ours
//    (ClusterTransport: HMAC-authenticated link, sequence numbers, acks, the
//    resend log, batching with per-socket record structures) vs raw ws sending
//    msgpackr-packed arrays of 100 envelopes per frame (the strong baseline;
//    the target), and vs raw ws with one plainly packed envelope per frame.
//    Both raw senders respect bufferedAmount, as ours does.
// 2. round trip: one envelope there and one back, one at a time: p50 and p99,
//    ours vs raw ws + msgpackr.
// Rounds are interleaved and rotated (lib.interleaved); figures are medians.

import { Packr, Unpackr } from 'msgpackr';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { RealClock } from '../src/base/clock.js';
import { seededRng } from '../src/base/rng.js';
import { ClusterTransport } from '../src/cluster/transport/index.js';
import { immediate, interleaved, median, percentile, printTable, ratioRange, type BenchOptions, type Row } from './lib.js';

const SUITE = 'cluster';
const SECRET = 'bench cluster secret, 32 bytes..';
const HIGH_WATER = 1 << 20;
const TARGET = 0.5;

/** A typical envelope (DESIGN.md): unique id and trace, a small payload. */
function envelope(i: number): Record<string, unknown> {
  return {
    id: `m-${i}-${(i * 2654435761) >>> 0}`,
    from: 'planner',
    to: 'worker-7',
    type: 'task.progress',
    payload: { step: i % 17, done: i % 3 === 0, note: 'ok' },
    class: 'SRT',
    priority: 5,
    conversationId: `conv-${i % 64}`,
    traceparent: `00-${(i * 40503).toString(16).padStart(32, '0')}-${(i * 7).toString(16).padStart(16, '0')}-01`,
    sentAt: 1_700_000_000_000 + i,
  };
}

// ── our transport ────────────────────────────────────────────────────────

interface OurPair {
  a: ClusterTransport;
  b: ClusterTransport;
  /** Set by the measurement: called for each envelope b receives. */
  onB: (msg: Record<string, unknown>) => void;
  onA: (msg: Record<string, unknown>) => void;
}

async function ourPair(): Promise<OurPair> {
  const clock = new RealClock();
  const pair = { onB: (): void => undefined, onA: (): void => undefined } as unknown as OurPair;
  const common = { secret: SECRET, clock, queue: { maxMessages: 200_000, highWaterBytes: HIGH_WATER }, heartbeat: { intervalMs: 5_000, timeoutMs: 60_000 } };
  pair.b = new ClusterTransport({ ...common, nodeId: 'b', rng: seededRng(2), listen: { host: '127.0.0.1', port: 0 }, onMessage: (_f, m) => pair.onB(m) });
  pair.a = new ClusterTransport({ ...common, nodeId: 'a', rng: seededRng(1), onMessage: (_f, m) => pair.onA(m) });
  await pair.b.listen();
  pair.a.connect('b', pair.b.url!);
  await pair.a.whenConnected('b');
  return pair;
}

/** ms for `n` envelopes a → b, sending as fast as the queue accepts. */
async function ourThroughput(p: OurPair, n: number): Promise<number> {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  p.onB = () => {
    if (++got === n) done();
  };
  const t0 = performance.now();
  for (let i = 0; i < n; ) {
    try {
      p.a.send('b', envelope(i));
      i++;
    } catch {
      await immediate(); // queue full: let acks come back
    }
    if ((i & 1023) === 0) await immediate();
  }
  await finished;
  return performance.now() - t0;
}

async function ourRoundTrips(p: OurPair, n: number): Promise<number[]> {
  p.onB = (m) => p.b.send('a', m);
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const back = new Promise<void>((r) => (p.onA = () => r()));
    const t0 = performance.now();
    p.a.send('b', envelope(i));
    await back;
    us.push((performance.now() - t0) * 1000);
  }
  return us;
}

// ── raw ws + msgpackr ────────────────────────────────────────────────────

interface RawPair {
  server: WebSocketServer;
  client: WebSocket;
  /** The server's end of the connection. */
  peer: WebSocket;
  onServer: (data: Buffer) => void;
  onClient: (data: Buffer) => void;
}

async function rawPair(): Promise<RawPair> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const pair = { server, onServer: () => undefined, onClient: () => undefined } as unknown as RawPair;
  const accepted = new Promise<WebSocket>((r) => server.once('connection', (ws) => r(ws)));
  pair.client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
  await new Promise<void>((r) => pair.client.once('open', () => r()));
  pair.peer = await accepted;
  pair.peer.on('message', (d: Buffer) => pair.onServer(d));
  pair.client.on('message', (d: Buffer) => pair.onClient(d));
  return pair;
}

/** Wait while the client's socket holds more than the high-water mark, as our transport does. */
async function drain(ws: WebSocket): Promise<void> {
  while (ws.bufferedAmount >= HIGH_WATER) await immediate();
}

/** ms for `n` envelopes, `perFrame` to a frame (1: plain pack each; more: a Packr with records packs an array). */
async function rawThroughput(p: RawPair, n: number, perFrame: number): Promise<number> {
  const packr = perFrame === 1 ? new Packr({ useRecords: false }) : new Packr();
  const unpackr = perFrame === 1 ? new Unpackr({ useRecords: false }) : new Unpackr();
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  p.onServer = (data) => {
    const v = unpackr.unpack(data) as unknown;
    got += Array.isArray(v) ? v.length : 1;
    if (got === n) done();
  };
  const t0 = performance.now();
  for (let i = 0; i < n; ) {
    if (perFrame === 1) p.client.send(packr.pack(envelope(i++)));
    else {
      const batch: unknown[] = [];
      for (let k = 0; k < perFrame && i < n; k++) batch.push(envelope(i++));
      p.client.send(packr.pack(batch));
    }
    if ((i & 1023) < perFrame) await drain(p.client);
  }
  await finished;
  return performance.now() - t0;
}

async function rawRoundTrips(p: RawPair, n: number): Promise<number[]> {
  const packr = new Packr({ useRecords: false });
  const unpackr = new Unpackr({ useRecords: false });
  p.onServer = (data) => p.peer.send(packr.pack(unpackr.unpack(data)));
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const back = new Promise<void>((r) => (p.onClient = (d) => (unpackr.unpack(d), r())));
    const t0 = performance.now();
    p.client.send(packr.pack(envelope(i)));
    await back;
    us.push((performance.now() - t0) * 1000);
  }
  return us;
}

// ── the suite ────────────────────────────────────────────────────────────

export async function runClusterTransport(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const n = opts.quick ? 20_000 : 100_000;
  const trips = opts.quick ? 500 : 3_000;
  const runs = opts.quick ? 3 : 5;
  const ours = await ourPair();
  const raw = await rawPair();
  try {
    log(`cluster: ${n} envelopes one way × ${runs} rounds (ours, raw batched, raw unbatched) …`);
    await ourThroughput(ours, 5_000); // warm-up
    await rawThroughput(raw, 5_000, 100);
    await rawThroughput(raw, 5_000, 1);
    const ms = await interleaved(runs, {
      ours: () => ourThroughput(ours, n),
      batched: () => rawThroughput(raw, n, 100),
      single: () => rawThroughput(raw, n, 1),
    });
    const rate = (xs: number[]): number[] => xs.map((m) => (n / m) * 1000);
    const [o, b, s] = [rate(ms.ours), rate(ms.batched), rate(ms.single)];
    const stats = ours.a.peers()[0]!.stats;
    const perFrame = stats.messagesSent / Math.max(1, stats.framesSent);

    log(`cluster: ${trips} round trips × ${runs} rounds …`);
    await ourRoundTrips(ours, 200);
    await rawRoundTrips(raw, 200);
    const oursRtt: number[] = [];
    const rawRtt: number[] = [];
    await interleaved(runs, {
      ours: async () => (oursRtt.push(...(await ourRoundTrips(ours, trips))), 0),
      raw: async () => (rawRtt.push(...(await rawRoundTrips(raw, trips))), 0),
    });

    const ratio = median(o) / median(b);
    return [
      {
        suite: SUITE,
        name: 'envelopes/s one way, loopback',
        ours: median(o),
        baseline: median(b),
        unit: 'msg/s',
        better: 'higher',
        target: `≥ ${TARGET * 100}% of raw`,
        met: ratio >= TARGET,
        note: `baseline: raw ws + msgpackr, 100 envelopes per frame (records per frame), same bufferedAmount limit; per-round ratio ${ratioRange(o, b)}; ours averaged ${perFrame.toFixed(0)} envelopes per frame and adds auth, sequence numbers, acks and the resend log`,
      },
      {
        suite: SUITE,
        name: 'envelopes/s one way vs unbatched raw',
        ours: median(o),
        baseline: median(s),
        unit: 'msg/s',
        better: 'higher',
        target: '–',
        met: undefined,
        note: `baseline: raw ws + msgpackr, one plainly packed envelope per frame; per-round ratio ${ratioRange(o, s)}`,
      },
      {
        suite: SUITE,
        name: 'round trip p50',
        ours: percentile(oursRtt, 0.5),
        baseline: percentile(rawRtt, 0.5),
        unit: 'µs',
        better: 'lower',
        target: '–',
        met: undefined,
        note: `one envelope there and back, one at a time, ${oursRtt.length} trips; ours flushes at the end of the event-loop turn (batch.maxDelayMs 0)`,
      },
      {
        suite: SUITE,
        name: 'round trip p99',
        ours: percentile(oursRtt, 0.99),
        baseline: percentile(rawRtt, 0.99),
        unit: 'µs',
        better: 'lower',
        target: '–',
        met: undefined,
      },
    ];
  } finally {
    await ours.a.close();
    await ours.b.close();
    raw.client.terminate();
    await new Promise<void>((r) => raw.server.close(() => r()));
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const quick = process.argv.includes('--quick');
  const rows = await runClusterTransport({ quick }, (s) => console.log(s));
  console.log('');
  printTable(rows);
}
