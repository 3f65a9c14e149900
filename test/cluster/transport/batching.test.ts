// Batching and back-pressure over real sockets: a burst shares frames (we
// count them), a lone send is not held back, and a peer that stops reading
// (a proxy that stalls) fills the socket to its high-water mark and then the
// bounded queue, after which `send` refuses with CLUSTER_QUEUE_FULL; once the
// peer reads again, everything arrives once, in order.

import { afterEach, describe, expect, it } from 'vitest';
import { ClusterCodes, ClusterError } from '../../../src/cluster/errors.js';
import { TcpProxy } from './support/proxy.js';
import { closeAll, realNode, sleep, waitFor } from './support/real.js';

afterEach(closeAll);

const envelope = (n: number): Record<string, unknown> => ({ id: `m${n}`, from: 'a1', to: 'b1', type: 'tick', payload: { n }, class: 'DT', sentAt: n });

describe('batching', () => {
  it('a burst of sends travels many envelopes per frame; frames respect batch.maxBytes', async () => {
    const b = await realNode('b');
    const a = await realNode('a', { listen: undefined });
    a.t.connect('b', b.url);
    await a.t.whenConnected('b');
    const before = a.t.peers()[0]!.stats.framesSent;
    for (let n = 0; n < 10_000; n++) a.t.send('b', envelope(n));
    await waitFor(() => b.got.length === 10_000, 'the burst');
    const frames = a.t.peers()[0]!.stats.framesSent - before;
    expect(frames).toBeLessThanOrEqual(100); // ≥ 100 envelopes a frame
    expect(b.got.every((g, i) => (g.msg.payload as { n: number }).n === i)).toBe(true);

    const small = await realNode('s', { listen: undefined, batch: { maxBytes: 1024 } });
    small.t.connect('b', b.url);
    await small.t.whenConnected('b');
    const start = small.t.peers()[0]!.stats.framesSent;
    for (let n = 0; n < 2_000; n++) small.t.send('b', envelope(n));
    await waitFor(() => b.got.length === 12_000, 'the second burst');
    const smallFrames = small.t.peers()[0]!.stats.framesSent - start;
    // ~40 bytes an envelope with records: ~25 a frame, so ~80 frames; never one frame per envelope.
    expect(smallFrames).toBeGreaterThan(40);
    expect(smallFrames).toBeLessThan(200);
  });

  it('a lone send goes out at the end of its event-loop turn, in a frame of its own', async () => {
    const b = await realNode('b');
    const a = await realNode('a', { listen: undefined });
    a.t.connect('b', b.url);
    await a.t.whenConnected('b');
    const before = a.t.peers()[0]!.stats.framesSent;
    for (let n = 0; n < 20; n++) {
      a.t.send('b', envelope(n));
      await waitFor(() => b.got.length === n + 1, `message ${n}`);
    }
    expect(a.t.peers()[0]!.stats.framesSent - before).toBe(20);
  });
});

describe('back-pressure', () => {
  it('a peer that stops reading makes send refuse with CLUSTER_QUEUE_FULL; nothing grows without bound, nothing is lost', async () => {
    const heartbeat = { intervalMs: 1000, timeoutMs: 30_000 };
    const b = await realNode('b', { heartbeat });
    const proxy = new TcpProxy(Number(new URL(b.url).port));
    await proxy.start();
    const highWaterBytes = 256 * 1024;
    const a = await realNode('a', { listen: undefined, heartbeat, queue: { maxMessages: 4_000, highWaterBytes } });
    a.t.connect('b', `ws://127.0.0.1:${proxy.port}`);
    await a.t.whenConnected('b');
    proxy.stall(true);

    const body = 'p'.repeat(8 * 1024);
    let sent = 0;
    let refusal: unknown;
    let peakBuffered = 0;
    while (refusal === undefined) {
      try {
        a.t.send('b', { n: sent, body });
        sent++;
      } catch (err) {
        refusal = err;
      }
      if (sent % 50 === 0) await sleep(1); // let the socket write what the kernel takes
      peakBuffered = Math.max(peakBuffered, a.t.peers()[0]!.bufferedAmount);
    }
    expect(refusal).toBeInstanceOf(ClusterError);
    expect((refusal as ClusterError).code).toBe(ClusterCodes.queueFull);
    expect(sent).toBe(4_000);
    const info = a.t.peers()[0]!;
    expect(info.queued).toBe(4_000);
    // The socket stopped taking frames at the high-water mark (plus at most the frame that crossed it);
    // what the kernel would not take waits unencoded in the bounded queue.
    expect(peakBuffered).toBeGreaterThanOrEqual(highWaterBytes);
    expect(peakBuffered).toBeLessThan(highWaterBytes + 64 * 1024 + body.length + 1024);
    expect(info.unsent).toBeGreaterThan(0);

    proxy.stall(false);
    await waitFor(() => b.got.length === 4_000, 'the held messages', 10_000);
    expect(b.got.every((g, i) => g.msg.n === i)).toBe(true);
    await waitFor(() => a.t.peers()[0]!.queued === 0, 'the queue to drain');
    expect(() => a.t.send('b', { n: 4_000 })).not.toThrow();
    await proxy.stop();
  });
});
