// Timing logic on a VirtualClock, with full transports over in-memory
// sockets: the batching delay, size-triggered flushes, the handshake
// timeout, the reconnect backoff with seeded jitter, heartbeats, and
// back-pressure from a peer that stops reading.

import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/base/rng.js';
import { ClusterCodes, ClusterError } from '../../../src/cluster/errors.js';
import { CloseCodes } from '../../../src/cluster/transport/index.js';
import { FrameKind } from '../../../src/cluster/transport/frames.js';
import { backoffDelay } from '../../../src/cluster/transport/session.js';
import { memoryPair, settle } from './support/memory.js';
import { MemoryNet } from './support/net.js';

const batchFrames = (frames: Uint8Array[]): number => frames.filter((f) => f[0] === FrameKind.batch).length;

describe('cluster transport on a virtual clock', () => {
  it('a partly filled frame waits batch.maxDelayMs on the clock, then goes as one frame', async () => {
    const net = new MemoryNet();
    const a = net.node('a', { batch: { maxDelayMs: 10 } });
    const b = net.node('b', { batch: { maxDelayMs: 10 } });
    a.t.connect('b', 'mem://b');
    await settle();
    expect(a.t.peers()[0]!.state).toBe('connected');
    const client = net.dials[0]!.client;
    const before = batchFrames(client.sentFrames);
    for (let i = 0; i < 3; i++) a.t.send('b', { i });
    await settle();
    net.clock.advance(9);
    await settle();
    expect(b.got).toEqual([]);
    net.clock.advance(1);
    await settle();
    expect(b.got.map((g) => g.msg.i)).toEqual([0, 1, 2]);
    expect(batchFrames(client.sentFrames) - before).toBe(1);
    // The receiver's ack also waits out the delay, then releases the sender's queue.
    expect(a.t.peers()[0]!.queued).toBe(3);
    net.clock.advance(10);
    await settle();
    expect(a.t.peers()[0]!.queued).toBe(0);
  });

  it('a frame that reaches batch.maxBytes goes at once, without the clock', async () => {
    const net = new MemoryNet();
    const a = net.node('a', { batch: { maxDelayMs: 1000, maxBytes: 256 } });
    const b = net.node('b');
    a.t.connect('b', 'mem://b');
    await settle();
    for (let i = 0; i < 40; i++) a.t.send('b', { i, pad: 'x'.repeat(20) });
    await settle();
    // ~30 bytes an envelope: a frame every ~9 of them, the last partial one still waiting.
    const delivered = b.got.length;
    expect(delivered).toBeGreaterThanOrEqual(27);
    expect(delivered).toBeLessThan(40);
    expect(b.got.map((g) => g.msg.i)).toEqual([...Array(delivered).keys()]);
    net.clock.advance(1000);
    await settle();
    expect(b.got.length).toBe(40);
  });

  it('a connection that never says hello is closed with 4004 at the handshake timeout, not before', async () => {
    const net = new MemoryNet();
    const b = net.node('b', { handshakeTimeoutMs: 500 });
    const { client, server } = memoryPair('silent');
    client.setHandlers({ frame: () => undefined, close: () => undefined });
    b.t.accept(server);
    net.clock.advance(499);
    await settle();
    expect(server.closeCode).toBeUndefined();
    net.clock.advance(1);
    await settle();
    expect(server.closeCode).toBe(CloseCodes.handshakeTimeout);
    expect(client.closeCode).toBe(CloseCodes.handshakeTimeout);
    const rejected = b.events.find((e) => e.type === 'rejected');
    expect(rejected).toMatchObject({ type: 'rejected', code: 4004, reason: 'handshake timeout' });
    expect((rejected as { error: ClusterError }).error.code).toBe(ClusterCodes.handshakeTimeout);
  });

  it('redials with exponential backoff and seeded jitter until the peer appears', async () => {
    const net = new MemoryNet();
    const backoff = { initialMs: 100, maxMs: 1600, factor: 2 };
    const a = net.node('a', { backoff }, 42);
    a.t.connect('b', 'mem://b');
    a.t.send('b', { early: true });
    const expected = seededRng(42);
    for (let attempt = 0; attempt < 6; attempt++) {
      await settle();
      const last = a.events.filter((e) => e.type === 'reconnecting').at(-1);
      const delay = backoffDelay(attempt, backoff, () => expected.next());
      expect(last).toMatchObject({ type: 'reconnecting', attempt: attempt + 1, delayMs: delay });
      expect(a.t.peers()[0]!.state).toBe('backoff');
      net.clock.advance(delay);
    }
    await settle();
    expect(net.dials.length).toBe(7);
    const b = net.node('b');
    net.clock.advance(1600);
    await settle();
    expect(a.t.peers()[0]!.state).toBe('connected');
    await settle();
    expect(b.got).toEqual([{ from: 'a', msg: { early: true } }]);
  });

  it('pings a quiet link and drops it with 4008 when nothing comes back within the heartbeat timeout', async () => {
    const net = new MemoryNet();
    const heartbeat = { intervalMs: 100, timeoutMs: 350 };
    const a = net.node('a', { heartbeat });
    net.node('b', { heartbeat });
    a.t.connect('b', 'mem://b');
    await settle();
    const { client, server } = net.dials[0]!;
    net.clock.advance(100);
    await settle();
    expect(server.sentFrames.some((f) => f[0] === FrameKind.pong) || client.sentFrames.some((f) => f[0] === FrameKind.ping)).toBe(true);
    expect(a.t.peers()[0]!.rttMs).toBe(0);
    client.pause(); // a hears nothing more
    for (let t = 0; t < 400; t += 50) {
      net.clock.advance(50);
      await settle();
    }
    expect(a.events).toContainEqual(expect.objectContaining({ type: 'disconnected', node: 'b', code: CloseCodes.heartbeatTimeout }));
  });

  it('a peer that stops reading fills the bounded queue and send refuses with CLUSTER_QUEUE_FULL; resuming delivers everything once, in order', async () => {
    const net = new MemoryNet();
    const a = net.node('a', { queue: { maxMessages: 50, highWaterBytes: 300 }, batch: { maxBytes: 100 } });
    const b = net.node('b');
    a.t.connect('b', 'mem://b');
    await settle();
    const { server } = net.dials[0]!;
    server.pause();
    let sent = 0;
    let refusal: unknown;
    for (; sent < 1000; sent++) {
      try {
        a.t.send('b', { n: sent, pad: 'y'.repeat(10) });
      } catch (err) {
        refusal = err;
        break;
      }
      await Promise.resolve();
    }
    expect(sent).toBe(50);
    expect(refusal).toBeInstanceOf(ClusterError);
    expect((refusal as ClusterError).code).toBe(ClusterCodes.queueFull);
    const info = a.t.peers()[0]!;
    // Writing stopped at the high-water mark (plus the frame that crossed it); the rest waits unencoded.
    expect(info.bufferedAmount).toBeLessThan(300 + 100 + 64);
    expect(info.unsent).toBeGreaterThan(0);
    server.resume();
    await settle(50);
    expect(b.got.map((g) => g.msg.n)).toEqual([...Array(50).keys()]);
    net.clock.advance(10);
    await settle(50);
    expect(a.t.peers()[0]!.queued).toBe(0);
    expect(() => a.t.send('b', { n: 50 })).not.toThrow();
  });
});
