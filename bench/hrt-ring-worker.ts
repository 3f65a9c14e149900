// The lane side of the hrt ring bench: a worker thread that receives ticks from the main thread
// through an SPSC ring (src/mailboxes) or through a MessagePort (the postMessage baseline), and
// measures one-way latency against main's clock (`offset` maps this thread's performance.now()
// onto main's) or the time the last tick of a burst arrived.

import { parentPort } from 'node:worker_threads';
import { FixedLayoutCodec, MsgpackRingCodec, RingConsumer, RingReceiver, type RingCodec } from '../src/mailboxes/index.js';
import { TICK_SCHEMA, TICK_STRUCTURES, type HrtCommand, type HrtReply, type Tick } from './hrt-ring-common.js';

const port = parentPort!;
const reply = (r: HrtReply, transfer: ArrayBuffer[] = []): void => port.postMessage(r, transfer);

function receiver(sab: SharedArrayBuffer, codec: 'layout' | 'msgpack'): RingReceiver<Tick> {
  const c = codec === 'layout' ? new FixedLayoutCodec(TICK_SCHEMA, { reuse: true }) : new MsgpackRingCodec<Tick>({ structures: TICK_STRUCTURES });
  return new RingReceiver(new RingConsumer(sab), c as RingCodec<Tick>);
}

function latencyRing(cmd: Extract<HrtCommand, { op: 'latency-ring' }>): void {
  const rx = receiver(cmd.sab, 'layout');
  const lat = new Float64Array(cmd.n);
  let got = 0;
  const onTick = (t: Tick): void => {
    lat[t.seq] = performance.now() + cmd.offset - t.at;
    got++;
  };
  reply({ ready: true });
  while (got < cmd.n) {
    if (rx.poll(onTick)) continue;
    if (!cmd.spin && rx.ring.wait(5_000) === 'timed-out') throw new Error(`latency-ring: no tick for 5 s after ${got}`);
  }
  rx.ring.close();
  reply({ latencies: lat }, [lat.buffer]);
}

function latencyPort(cmd: Extract<HrtCommand, { op: 'latency-port' }>): void {
  const lat = new Float64Array(cmd.n);
  let got = 0;
  cmd.port.on('message', (t: Tick) => {
    lat[t.seq] = performance.now() + cmd.offset - t.at;
    if (++got === cmd.n) {
      cmd.port.close();
      reply({ latencies: lat }, [lat.buffer]);
    }
  });
  reply({ ready: true });
}

function throughputRing(cmd: Extract<HrtCommand, { op: 'throughput-ring' }>): void {
  const rx = receiver(cmd.sab, cmd.codec);
  let next = 0;
  let bad = 0;
  const onTick = (t: Tick): void => {
    if (t.seq !== next) bad++;
    next++;
  };
  reply({ ready: true });
  while (next < cmd.n) {
    if (rx.drain(onTick) === 0 && rx.ring.wait(5_000) === 'timed-out') {
      throw new Error(`throughput-ring: no tick for 5 s after ${next} (${JSON.stringify(rx.ring.stats())})`);
    }
  }
  const end = performance.now() + cmd.offset;
  rx.ring.close();
  reply({ end, bad });
}

function throughputPort(cmd: Extract<HrtCommand, { op: 'throughput-port' }>): void {
  let next = 0;
  let bad = 0;
  cmd.port.on('message', (t: Tick) => {
    if (t.seq !== next) bad++;
    if (++next === cmd.n) {
      const end = performance.now() + cmd.offset;
      cmd.port.close();
      reply({ end, bad });
    }
  });
  reply({ ready: true });
}

port.on('message', (cmd: HrtCommand) => {
  try {
    if (cmd.op === 'latency-ring') latencyRing(cmd);
    else if (cmd.op === 'latency-port') latencyPort(cmd);
    else if (cmd.op === 'throughput-ring') throughputRing(cmd);
    else throughputPort(cmd);
  } catch (err) {
    reply({ error: err instanceof Error ? err.message : String(err) });
  }
});
reply({ origin: performance.timeOrigin });
