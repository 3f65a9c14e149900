// A link dropped for good (`disconnect`, as when membership removes a node) and
// dialed again to the same peer process — the peer was cut off, downed, and comes
// back as a new member without restarting. The peer still holds its place in the
// old link's numbering, and its goodbye may never have reached it (a partition
// swallows it): the new link continues after that place instead of being refused
// as a protocol violation forever, and nothing sent on it is taken for a duplicate.

import { afterEach, describe, expect, it } from 'vitest';
import { CloseCodes } from '../../../src/cluster/transport/index.js';
import { TcpProxy } from './support/proxy.js';
import { closeAll, realNode, waitFor } from './support/real.js';

afterEach(closeAll);

describe('a link dialed again after disconnect', () => {
  it('to a peer that still holds the old numbering: continues after it, both ways, nothing lost or refused', async () => {
    const a = await realNode('a');
    const b = await realNode('b');
    const proxy = new TcpProxy(Number(new URL(b.url).port));
    const via = `ws://127.0.0.1:${await proxy.start()}`;
    try {
      a.t.connect('b', via);
      for (let i = 0; i < 5; i++) a.t.send('b', { i });
      await waitFor(() => b.got.length === 5, 'the first messages');
      await waitFor(() => b.t.peers()[0]?.queued === 0 && a.t.peers()[0]?.queued === 0, 'acks');
      proxy.cut(); // the partition: a's goodbye below never reaches b
      a.t.disconnect('b');
      await waitFor(() => b.t.peers()[0]?.state !== 'connected', 'b to lose the link');
      a.t.connect('b', via);
      for (let i = 5; i < 10; i++) a.t.send('b', { i });
      b.t.send('a', { back: 1 });
      await waitFor(() => b.got.length === 10 && a.got.length === 1, 'the messages on the new link');
      expect(b.got.map((g) => g.msg.i)).toEqual([...Array(10).keys()]);
      expect(a.got.map((g) => g.msg.back)).toEqual([1]);
      const violations = [...a.events, ...b.events].filter((e) => 'code' in e && e.code === CloseCodes.protocolViolation);
      expect(violations).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('when the peer dials back: the accepting side goes on after the peer\'s place as well', async () => {
    const a = await realNode('a');
    const b = await realNode('b');
    const proxy = new TcpProxy(Number(new URL(a.url).port));
    const via = `ws://127.0.0.1:${await proxy.start()}`;
    try {
      b.t.connect('a', via);
      await b.t.whenConnected('a');
      await waitFor(() => a.t.peers()[0]?.state === 'connected', 'a to see b');
      for (let i = 0; i < 5; i++) a.t.send('b', { i });
      await waitFor(() => b.got.length === 5 && a.t.peers()[0]?.queued === 0, 'the first messages, acknowledged');
      proxy.cut();
      a.t.disconnect('b'); // b redials on its own (it knows a's address); a accepts on a new link
      await waitFor(() => a.t.peers()[0]?.state === 'connected', 'b to dial back', 8000);
      for (let i = 5; i < 10; i++) a.t.send('b', { i });
      await waitFor(() => b.got.length === 10, 'the messages on the new link');
      expect(b.got.map((g) => g.msg.i)).toEqual([...Array(10).keys()]);
      expect([...a.events, ...b.events].filter((e) => 'code' in e && e.code === CloseCodes.protocolViolation)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});
