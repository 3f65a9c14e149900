// Real transports on 127.0.0.1: messages both ways and across three nodes in
// per-link order, a link cut mid-stream (through a TCP proxy) that redials
// and loses or repeats nothing, simultaneous dials, a node id clash, and the
// typed refusals of `send`.

import { afterEach, describe, expect, it } from 'vitest';
import { ClusterCodes, type ClusterError } from '../../../src/cluster/errors.js';
import { CloseCodes } from '../../../src/cluster/transport/index.js';
import { TcpProxy } from './support/proxy.js';
import { closeAll, realNode, sleep, waitFor } from './support/real.js';

afterEach(closeAll);

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as ClusterError).code;
  }
  return undefined;
};

describe('cluster transport over real sockets', () => {
  it('two nodes exchange messages both ways, each direction in send order', async () => {
    const a = await realNode('a');
    const b = await realNode('b');
    b.t.connect('a', a.url);
    for (let i = 0; i < 500; i++) b.t.send('a', { i });
    await b.t.whenConnected('a');
    await waitFor(() => a.t.peers().length === 1, 'a to see b');
    for (let i = 0; i < 500; i++) a.t.send('b', { j: i });
    await waitFor(() => a.got.length === 500 && b.got.length === 500, 'all messages');
    expect(a.got.map((g) => g.msg.i)).toEqual([...Array(500).keys()]);
    expect(b.got.map((g) => g.msg.j)).toEqual([...Array(500).keys()]);
    expect(new Set(a.got.map((g) => g.from))).toEqual(new Set(['b']));
    const ab = a.t.peers()[0]!;
    expect(ab).toMatchObject({ node: 'b', state: 'connected', direction: 'inbound', incarnation: b.t.incarnation });
    await waitFor(() => b.t.peers()[0]!.queued === 0 && a.t.peers()[0]!.queued === 0, 'acks');
  });

  it('three nodes: every pair links once, and each link keeps its own order', async () => {
    const nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => realNode(id)));
    const [n1, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
    n1.t.connect('n2', n2.url);
    n1.t.connect('n3', n3.url);
    n2.t.connect('n3', n3.url);
    await Promise.all([n1.t.whenConnected('n2'), n1.t.whenConnected('n3'), n2.t.whenConnected('n3')]);
    await waitFor(() => nodes.every((n) => n.t.peers().filter((p) => p.state === 'connected').length === 2), 'a full mesh');
    for (let i = 0; i < 300; i++) {
      for (const from of nodes) for (const to of nodes) if (from !== to) from.t.send(to.t.nodeId, { from: from.t.nodeId, i });
    }
    await waitFor(() => nodes.every((n) => n.got.length === 600), 'every message');
    for (const to of nodes) {
      for (const from of nodes) {
        if (from === to) continue;
        const seq = to.got.filter((g) => g.from === from.t.nodeId).map((g) => g.msg.i);
        expect(seq, `${from.t.nodeId} → ${to.t.nodeId}`).toEqual([...Array(300).keys()]);
      }
    }
  });

  it('a link cut mid-stream redials with backoff and delivers every held message exactly once, in order', async () => {
    const a = await realNode('a', { queue: { maxMessages: 100_000 } });
    const b = await realNode('b');
    const proxy = new TcpProxy(Number(new URL(b.url).port));
    await proxy.start();
    a.t.connect('b', `ws://127.0.0.1:${proxy.port}`);
    await a.t.whenConnected('b');
    const N = 30_000;
    let sent = 0;
    const burst = async (count: number): Promise<void> => {
      for (const end = sent + count; sent < end; sent++) {
        a.t.send('b', { n: sent, body: 'payload' });
        if (sent % 1000 === 999) await sleep(0);
      }
    };
    for (let cut = 0; cut < 3; cut++) {
      await burst(N / 6);
      await waitFor(() => b.got.length > sent - N / 12, 'part of the stream');
      // Hold the next part in the proxy so it is written but unacknowledged when the link is cut.
      proxy.stall(true);
      await burst(N / 6);
      await sleep(5);
      proxy.cut();
      proxy.stall(false);
      await waitFor(() => a.events.filter((e) => e.type === 'disconnected').length > cut, 'the cut to be noticed');
    }
    await waitFor(() => b.got.length >= N, 'the whole stream', 10_000);
    await sleep(50);
    expect(b.got.length).toBe(N);
    expect(b.got.every((g, i) => g.msg.n === i)).toBe(true);
    const info = a.t.peers()[0]!;
    expect(info.stats.connects).toBe(4);
    expect(a.events.filter((e) => e.type === 'reconnecting').length).toBeGreaterThanOrEqual(3);
    // Cutting mid-stream leaves frames unacknowledged: they were resent, and the receiver dropped what it already had.
    expect(info.stats.messagesResent).toBeGreaterThan(0);
    await waitFor(() => a.t.peers()[0]!.queued === 0, 'the final ack');
    await proxy.stop();
  });

  it('simultaneous dials settle on one connection, kept by both sides', async () => {
    const a = await realNode('a');
    const b = await realNode('b');
    a.t.connect('b', b.url);
    b.t.connect('a', a.url);
    await Promise.all([a.t.whenConnected('b'), b.t.whenConnected('a')]);
    await sleep(100);
    const pa = a.t.peers()[0]!;
    const pb = b.t.peers()[0]!;
    expect(pa.state).toBe('connected');
    expect(pb.state).toBe('connected');
    // The connection dialed by the smaller id ('a') is the one both keep.
    expect(pa.direction).toBe('outbound');
    expect(pb.direction).toBe('inbound');
    for (let i = 0; i < 200; i++) {
      a.t.send('b', { i });
      b.t.send('a', { i });
    }
    await waitFor(() => a.got.length === 200 && b.got.length === 200, 'both streams');
    await sleep(50);
    expect(a.got.map((g) => g.msg.i)).toEqual([...Array(200).keys()]);
    expect(b.got.map((g) => g.msg.i)).toEqual([...Array(200).keys()]);
  });

  it('a second live process claiming a node id is refused with 4005; it gets in once the first is gone', async () => {
    const s = await realNode('s');
    const c1 = await realNode('c', { listen: undefined });
    const c2 = await realNode('c', { listen: undefined }, 2);
    c1.t.connect('s', s.url);
    await c1.t.whenConnected('s');
    c2.t.connect('s', s.url);
    await waitFor(() => c2.events.some((e) => e.type === 'reconnecting' && e.code === CloseCodes.nodeIdClash), 'c2 to be refused');
    const clash = s.events.find((e) => e.type === 'rejected');
    expect(clash).toMatchObject({ type: 'rejected', node: 'c', code: CloseCodes.nodeIdClash });
    expect((clash as { error: ClusterError }).error.code).toBe(ClusterCodes.nodeIdClash);
    expect(s.t.peers()[0]!.incarnation).toBe(c1.t.incarnation);
    await c1.t.close();
    await c2.t.whenConnected('s');
    await waitFor(() => s.t.peers()[0]!.incarnation === c2.t.incarnation, 's to adopt c2');
    expect(s.events).toContainEqual({ type: 'restarted', node: 'c', previous: c1.t.incarnation, incarnation: c2.t.incarnation });
  });

  it('send refuses with typed errors, and a refused message does not disturb the stream', async () => {
    const a = await realNode('a', { maxPayload: 4096 });
    const b = await realNode('b', { maxPayload: 4096 });
    expect(codeOf(() => a.t.send('b', { x: 1 }))).toBe(ClusterCodes.peerUnknown);
    a.t.connect('b', b.url);
    await a.t.whenConnected('b');
    a.t.send('b', { n: 0, shape: 'first' });
    expect(codeOf(() => a.t.send('b', 'text' as never))).toBe(ClusterCodes.messageInvalid);
    expect(codeOf(() => a.t.send('b', [1, 2] as never))).toBe(ClusterCodes.messageInvalid);
    // Unencodable after a new shape was minted: the codec resets on both ends.
    expect(codeOf(() => a.t.send('b', { fresh: 1, big: 2n ** 70n }))).toBe(ClusterCodes.messageInvalid);
    expect(codeOf(() => a.t.send('b', { n: -1, pad: 'z'.repeat(5000) }))).toBe(ClusterCodes.frameTooLarge);
    a.t.send('b', { n: 1, shape: 'first' });
    a.t.send('b', { fresh: 2, big: 1 });
    await waitFor(() => b.got.length === 3, 'the good messages');
    expect(b.got.map((g) => g.msg)).toEqual([{ n: 0, shape: 'first' }, { n: 1, shape: 'first' }, { fresh: 2, big: 1 }]);
    expect(() => a.t.connect('x', 'http://127.0.0.1:1')).toThrow(/ws:\/\//);
    await a.t.close();
    expect(codeOf(() => a.t.send('b', { x: 1 }))).toBe(ClusterCodes.closed);
    await expect(a.t.whenConnected('b')).rejects.toMatchObject({ code: ClusterCodes.closed });
  });

  it('a message that cannot be encoded when its turn comes (queued while disconnected) is skipped and reported', async () => {
    const b = await realNode('b', { maxPayload: 4096 });
    const a = await realNode('a', { maxPayload: 4096 });
    a.t.connect('b', 'ws://127.0.0.1:1'); // nothing there: messages wait
    a.t.send('b', { n: 0 });
    const tooBig = a.t.send('b', { n: 1, pad: 'z'.repeat(5000) });
    a.t.send('b', { n: 2 });
    a.t.connect('b', b.url);
    await waitFor(() => b.got.length === 2, 'the encodable messages', 5000);
    expect(b.got.map((g) => g.msg.n)).toEqual([0, 2]);
    const dropped = a.events.find((e) => e.type === 'message-dropped');
    expect(dropped).toMatchObject({ type: 'message-dropped', node: 'b', seq: tooBig });
    expect((dropped as { error: ClusterError }).error.code).toBe(ClusterCodes.frameTooLarge);
  });

  it('disconnect removes a link and its queue; a throwing handler is reported and the link carries on', async () => {
    let calls = 0;
    const b = await realNode('b', {
      onMessage: () => {
        if (++calls === 1) throw new Error('handler bug');
      },
    });
    const a = await realNode('a');
    a.t.connect('b', b.url);
    await a.t.whenConnected('b');
    a.t.send('b', { n: 0 });
    a.t.send('b', { n: 1 });
    await waitFor(() => calls === 2, 'both deliveries');
    expect(b.events).toContainEqual(expect.objectContaining({ type: 'handler-error', node: 'a' }));
    await waitFor(() => a.t.peers()[0]!.queued === 0, 'acks');
    expect(a.t.disconnect('b')).toBe(0);
    expect(a.t.peers()).toEqual([]);
    expect(codeOf(() => a.t.send('b', { n: 2 }))).toBe(ClusterCodes.peerUnknown);
    await waitFor(() => b.events.some((e) => e.type === 'disconnected' && e.code === CloseCodes.removed), 'b to see the removal');
  });
});
