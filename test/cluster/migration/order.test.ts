// The per-sender order layer on its own (no links): what a sender adds to its
// messages, how an owner holds a sender's messages behind its fences, the fast
// paths when nothing is moving, and the bounded table of routes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { MAX_ROUTES, MessageOrder, type Fence, type SendOp } from '../../../src/cluster/migration/order.js';
import { CLUSTER_MESSAGE } from '../../../src/cluster/remote-actors.js';

const HOLD_MS = 1000;

function harness(self = 'me') {
  const clock = new VirtualClock();
  const fences: Array<{ to: string; fence: Fence }> = [];
  const acks: Array<{ to: string; id: string; n: number }> = [];
  const delivered: Array<{ from: string; message: SendOp }> = [];
  const order = new MessageOrder({
    self,
    clock,
    holdMs: HOLD_MS,
    keepMs: 30_000,
    sendFence: (to, fence) => (fences.push({ to, fence }), true),
    ackFence: (to, id, n) => void acks.push({ to, id, n }),
    forward: () => true,
    deliver: (from, message) => void delivered.push({ from, message }),
    isUp: () => true,
  });
  return { clock, order, fences, acks, delivered };
}

function op(to: string, extra: Partial<SendOp> = {}, fromNode = 'me'): SendOp {
  return { k: CLUSTER_MESSAGE, op: 'send', send: { to, message: { type: 'inc', by: 1 }, options: {}, fromNode }, ...extra };
}

describe('message order: sending', () => {
  it('a message on an unchanged route carries its epoch and nothing else; the caller’s object is not touched', () => {
    const { order, fences } = harness();
    const m = op('x');
    const out = order.outgoing('n1', m);
    expect(out).toEqual({ k: CLUSTER_MESSAGE, op: 'send', send: m.send, ep: 0 });
    expect(Object.keys(out)).toEqual(['k', 'op', 'send', 'ep']);
    expect(out).not.toBe(m);
    expect(m).not.toHaveProperty('ep');
    expect(order.outgoing('n1', op('x'))).toEqual({ k: CLUSTER_MESSAGE, op: 'send', send: expect.anything(), ep: 0 });
    expect(fences).toEqual([]);
  });

  it('a changed route sends a fence down the old one; later messages list it (hold) in the new epoch until it is acknowledged', () => {
    const { order, fences } = harness();
    order.outgoing('n1', op('x'));
    const moved = order.outgoing('n2', op('x'));
    expect(fences).toEqual([{ to: 'n1', fence: { id: 'x', origin: 'me', n: 1 } }]);
    expect(moved).toMatchObject({ ep: 1, hold: [[1, 'n1']] });
    expect(order.outgoing('n2', op('x'))).toMatchObject({ ep: 1, hold: [[1, 'n1']] });
    // Another actor's messages are not held by x's fence.
    expect(order.outgoing('n2', op('y'))).not.toHaveProperty('hold');
    order.fenceAcked('x', 1);
    const after = order.outgoing('n2', op('x'));
    expect(after).toEqual({ k: CLUSTER_MESSAGE, op: 'send', send: expect.anything(), ep: 1 });
  });
});

describe('message order: receiving', () => {
  it('with nothing waiting a message is delivered at once; a message held by a fence holds its sender’s later ones, not other senders’', () => {
    const { order, delivered, acks } = harness('owner');
    order.incoming('c', op('x', { ep: 0 }, 'c'));
    expect(delivered).toHaveLength(1);
    const held = op('x', { ep: 1, hold: [[1, 'old']] }, 'c');
    const later = op('x', { ep: 1 }, 'c');
    order.incoming('c', held);
    order.incoming('c', later);
    order.incoming('d', op('x', { ep: 0 }, 'd'));
    expect(delivered.map((d) => d.from)).toEqual(['c', 'd']);
    order.fence({ id: 'x', origin: 'c', n: 1 });
    expect(delivered.slice(2).map((d) => d.message)).toEqual([held, later]);
    expect(acks).toEqual([{ to: 'c', id: 'x', n: 1 }]);
    // Nothing waits any more: the next one goes straight through.
    order.incoming('c', op('x', { ep: 1, hold: [[1, 'old']] }, 'c'));
    expect(delivered).toHaveLength(5);
  });

  it('a wait gives up after holdMs: the held messages are delivered in order', () => {
    const { order, delivered, clock } = harness('owner');
    const a = op('x', { ep: 1, hold: [[3, 'old']] }, 'c');
    const b = op('x', { ep: 1 }, 'c');
    order.incoming('c', a);
    order.incoming('c', b);
    expect(delivered).toHaveLength(0);
    clock.advance(HOLD_MS);
    expect(delivered.map((d) => d.message)).toEqual([a, b]);
  });

  it('property: each message once, never before a fence it lists (until the wait gives up), and a sender’s messages in order within an epoch', () => {
    type Step = { kind: 'msg'; origin: number; ep: number; hold: number[] } | { kind: 'fence'; origin: number; n: number };
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('msg' as const), origin: fc.integer({ min: 0, max: 2 }), ep: fc.integer({ min: 0, max: 3 }), hold: fc.uniqueArray(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('fence' as const), origin: fc.integer({ min: 0, max: 2 }), n: fc.integer({ min: 1, max: 3 }) }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps: Step[]) => {
        const { order, delivered, clock } = harness('owner');
        const arrived = new Map<string, Set<number>>();
        const seqOf = new Map<SendOp, number>();
        // Every message delivered during a step lists only fences that have arrived from its sender.
        const checkSince = (before: number): void => {
          for (const d of delivered.slice(before)) for (const [n] of d.message.hold ?? []) expect(arrived.get(d.from)?.has(n)).toBe(true);
        };
        let seq = 0;
        for (const s of steps) {
          const origin = `o${s.origin}`;
          const before = delivered.length;
          if (s.kind === 'fence') {
            if (!arrived.has(origin)) arrived.set(origin, new Set());
            arrived.get(origin)!.add(s.n);
            order.fence({ id: 'x', origin, n: s.n });
          } else {
            const m = op('x', s.hold.length > 0 ? { ep: s.ep, hold: s.hold.map((n) => [n, 'old'] as [number, string]) } : { ep: s.ep }, origin);
            seqOf.set(m, seq++);
            order.incoming(origin, m);
          }
          checkSince(before);
        }
        // The rest waits for fences that never come: the wait gives up.
        clock.advance(HOLD_MS);
        // Exactly once.
        expect(delivered.length).toBe(seqOf.size);
        expect(new Set(delivered.map((d) => d.message)).size).toBe(seqOf.size);
        // Per sender: of two messages, the earlier one with an epoch no later is delivered first.
        for (const o of ['o0', 'o1', 'o2']) {
          const mine = delivered.filter((d) => d.from === o).map((d) => d.message);
          for (let i = 0; i < mine.length; i++) {
            for (let j = i + 1; j < mine.length; j++) {
              const [a, b] = [mine[i]!, mine[j]!];
              if (seqOf.get(b)! < seqOf.get(a)!) expect(b.ep!).toBeGreaterThan(a.ep!);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('message order: the table of routes', () => {
  it('a route in use is kept however many other actors are routed; one unused is dropped, and the table stays bounded', () => {
    const { order, fences } = harness();
    order.outgoing('n1', op('busy'));
    order.outgoing('n1', op('idle'));
    const total = 2 * MAX_ROUTES + 10;
    for (let i = 0; i < total; i++) {
      order.outgoing('n1', op(`a${i}`));
      // Used once every half table's worth of other actors, the last time MAX_ROUTES / 2 before the end.
      if (i % (MAX_ROUTES / 2) === 0 && i < total - MAX_ROUTES / 2) order.outgoing('n1', op('busy'));
    }
    expect(order.needsDetour('busy')).toBe(true);
    expect(order.needsDetour('idle')).toBe(false);
    expect(order.needsDetour('a0')).toBe(false);
    expect(order.needsDetour(`a${total - 1}`)).toBe(true);
    // The kept route still tells a route change: the old node gets its fence.
    order.outgoing('n2', op('busy'));
    expect(fences).toEqual([{ to: 'n1', fence: { id: 'busy', origin: 'me', n: 1 } }]);
  });
});
