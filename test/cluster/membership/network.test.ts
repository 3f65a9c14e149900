// The in-memory network the membership tests run on: delivery on the virtual
// clock, order per link, partitions (also of messages in flight), drops,
// freezing, authentication of the target's node id, and copies not references.

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { seededRng } from '../../../src/base/rng.js';
import { InMemoryNetwork } from '../../../src/cluster/membership/in-memory-network.js';
import type { MembershipMessage } from '../../../src/cluster/membership/messages.js';

const hb = (nodeId: string, incarnation = 1): MembershipMessage => ({ type: 'membership.heartbeat', from: { nodeId, address: `ws://${nodeId}`, incarnation } });

function setup(options: { dropRate?: number; delayMs?: { min: number; max: number } } = {}) {
  const clock = new VirtualClock();
  const net = new InMemoryNetwork({ clock, rng: seededRng(3), ...options });
  const got: Record<string, Array<{ from: string; message: unknown; at: number }>> = { a: [], b: [], c: [] };
  const links = Object.fromEntries(
    ['a', 'b', 'c'].map((id) => {
      const link = net.connect(id, `ws://${id}`);
      link.onMessage((from, message) => got[id].push({ from, message, at: clock.now() }));
      return [id, link];
    }),
  );
  return { clock, net, got, links };
}

describe('InMemoryNetwork', () => {
  it('delivers after the delay, with the authenticated sender id, as a copy', () => {
    const { clock, got, links } = setup({ delayMs: { min: 10, max: 10 } });
    const msg = hb('a');
    links.a.send({ address: 'ws://b' }, msg);
    clock.advance(9);
    expect(got.b).toEqual([]);
    clock.advance(1);
    expect(got.b).toEqual([{ from: 'a', message: msg, at: 10 }]);
    expect(got.b[0].message).not.toBe(msg);
  });

  it('keeps order per link even when later messages draw shorter delays', () => {
    const { clock, got, links } = setup({ delayMs: { min: 0, max: 100 } });
    for (let i = 0; i < 50; i++) links.a.send({ address: 'ws://b' }, hb('a', i));
    clock.advance(200);
    expect(got.b.map((g) => (g.message as { from: { incarnation: number } }).from.incarnation)).toEqual([...Array(50).keys()]);
  });

  it('a partition cuts both ways, also for messages already in flight; heal restores', () => {
    const { clock, net, got, links } = setup({ delayMs: { min: 10, max: 10 } });
    links.a.send({ address: 'ws://b' }, hb('a'));
    net.partition(['a'], ['b']);
    links.b.send({ address: 'ws://a' }, hb('b'));
    links.a.send({ address: 'ws://c' }, hb('a'));
    clock.advance(20);
    expect([got.a.length, got.b.length, got.c.length]).toEqual([0, 0, 1]);
    net.heal();
    links.b.send({ address: 'ws://a' }, hb('b'));
    clock.advance(20);
    expect(got.a.length).toBe(1);
  });

  it('drops about dropRate of the messages (seeded)', () => {
    const { clock, net, got, links } = setup({ dropRate: 0.3 });
    for (let i = 0; i < 2000; i++) links.a.send({ address: 'ws://b' }, hb('a'));
    clock.advance(100);
    expect(got.b.length).toBeGreaterThan(1250);
    expect(got.b.length).toBeLessThan(1550);
    expect(net.stats()).toMatchObject({ sent: 2000, delivered: got.b.length, dropped: 2000 - got.b.length });
  });

  it('a frozen node sends nothing and receives everything on thaw, in order', () => {
    const { clock, net, got, links } = setup();
    net.freeze('b');
    links.b.send({ address: 'ws://a' }, hb('b'));
    links.a.send({ address: 'ws://b' }, hb('a', 1));
    links.a.send({ address: 'ws://b' }, hb('a', 2));
    clock.advance(100);
    expect([got.a.length, got.b.length]).toEqual([0, 0]);
    net.thaw('b');
    expect(got.b.map((g) => (g.message as { from: { incarnation: number } }).from.incarnation)).toEqual([1, 2]);
  });

  it('refuses delivery to an address held by another node id than the sender expects, and after close', () => {
    const { clock, got, links } = setup();
    links.a.send({ address: 'ws://b', nodeId: 'c' }, hb('a'));
    links.c.close();
    links.a.send({ address: 'ws://c' }, hb('a'));
    clock.advance(100);
    expect([got.b.length, got.c.length]).toEqual([0, 0]);
  });

  it('rejects invalid drop rates and delays', () => {
    const { net } = setup();
    expect(() => net.setDropRate(1.5)).toThrow(expect.objectContaining({ code: 'CLUSTER_INVALID_OPTIONS', field: 'dropRate' }));
    expect(() => net.setDelay(10, 5)).toThrow(expect.objectContaining({ field: 'delayMs' }));
  });
});
