// The pure sequence/ack/resend logic: the OutboundLog a sender keeps, the
// InboundCursor a receiver keeps, and the reconnect backoff. The property
// test drives both through random sends, lossy socket lifetimes, lost acks,
// reconnects and receiver restarts, and checks delivery is exactly once, in
// order, with nothing the sender still holds ever lost.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/base/rng.js';
import { backoffDelay, InboundCursor, OutboundLog } from '../../../src/cluster/transport/session.js';

describe('OutboundLog', () => {
  it('numbers messages from 1, holds them until acknowledged, and refuses when full', () => {
    const log = new OutboundLog<string>(3);
    expect([log.push('a'), log.push('b'), log.push('c')]).toEqual([1, 2, 3]);
    expect(log.full).toBe(true);
    expect(() => log.push('d')).toThrow();
    expect(log.ack(2)).toBe(true);
    expect(log.size).toBe(1);
    expect(log.base).toBe(3);
    expect(log.push('d')).toBe(4);
  });

  it('rewinds to the oldest held message, and an ack passes the send cursor', () => {
    const log = new OutboundLog<string>(8);
    for (const m of ['a', 'b', 'c', 'd']) log.push(m);
    for (let i = 0; i < 4; i++) log.markSent(log.peekUnsent()!.seq);
    expect(log.unsent).toBe(0);
    log.ack(1);
    log.rewind();
    expect(log.peekUnsent()).toEqual({ seq: 2, msg: 'b' });
    log.ack(3);
    expect(log.peekUnsent()).toEqual({ seq: 4, msg: 'd' });
  });

  it('refuses an ack of a number never assigned, and treats an old ack as a no-op', () => {
    const log = new OutboundLog<string>(4);
    log.push('a');
    expect(log.ack(2)).toBe(false);
    expect(log.size).toBe(1);
    expect(log.ack(1)).toBe(true);
    expect(log.ack(0)).toBe(true);
    expect(log.acked).toBe(1);
  });
});

describe('InboundCursor', () => {
  it('delivers the next number only, drops duplicates and reports gaps', () => {
    const c = new InboundCursor();
    expect(c.adopt('s1', 1)).toBe(true);
    expect(c.accept(1)).toBe('deliver');
    expect(c.accept(1)).toBe('duplicate');
    expect(c.accept(3)).toBe('gap');
    expect(c.accept(2)).toBe('deliver');
    expect(c.recvFor('s1')).toBe(2);
    expect(c.recvFor('other')).toBe(0);
  });

  it('starts a new sender incarnation just before its oldest held message', () => {
    const c = new InboundCursor();
    c.adopt('s1', 1);
    c.accept(1);
    expect(c.adopt('s2', 5)).toBe(true);
    expect(c.delivered).toBe(4);
    expect(c.accept(5)).toBe('deliver');
    // Same incarnation claiming to hold nothing before 9 while we have 5: it lost 6..8.
    expect(c.adopt('s2', 9)).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('grows by the factor up to the ceiling, jittered into the upper half', () => {
    const b = { initialMs: 100, maxMs: 1000, factor: 2 };
    const rng = seededRng(7);
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** attempt);
      const d = backoffDelay(attempt, b, () => rng.next());
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
    expect(backoffDelay(3, b, () => 0)).toBe(400);
    expect(backoffDelay(3, b, () => 0.999999)).toBe(800);
  });
});

// ── property: exactly once, in order, across drops, reconnects and restarts ──

type Op =
  | { op: 'send'; n: number }
  | { op: 'write'; max: number }
  | { op: 'deliver'; n: number }
  | { op: 'ackBack' }
  | { op: 'deliverAck' }
  | { op: 'reconnect'; keep: number }
  | { op: 'restartReceiver' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('send' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), max: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'ackBack' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'deliverAck' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reconnect' as const), keep: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'restartReceiver' as const }) },
);

interface Frame {
  first: number;
  msgs: number[];
}

/** One sender and one receiver joined by a socket that, when it dies, delivers only a prefix of what was in flight. */
function simulate(ops: Op[], capacity: number): void {
  const log = new OutboundLog<number>(capacity);
  let cursor = new InboundCursor();
  const senderInc = 'sender-1';
  let next = 0; // payloads are 0, 1, 2, … in send order
  const accepted: number[] = []; // payload accepted by send(), indexed by seq - 1
  let toReceiver: Frame[] = [];
  let toSender: number[] = [];
  // Deliveries to the receiver's current incarnation, and the first seq it could expect.
  let delivered: number[] = [];
  let startSeq = 1;

  const receive = (f: Frame): void => {
    f.msgs.forEach((payload, i) => {
      const verdict = cursor.accept(f.first + i);
      expect(verdict).not.toBe('gap');
      if (verdict === 'deliver') delivered.push(payload);
    });
  };
  const handshake = (): void => {
    // Both sides exchange resume points; the sender trims what the receiver has, then resends the rest.
    const recv = cursor.recvFor(senderInc);
    expect(cursor.adopt(senderInc, log.base)).toBe(true);
    expect(log.ack(recv)).toBe(true);
    log.rewind();
  };
  const check = (): void => {
    // The current receiver saw a gap-free run of the accepted messages from where it started.
    expect(delivered).toEqual(accepted.slice(startSeq - 1, startSeq - 1 + delivered.length));
  };

  handshake();
  for (const o of ops) {
    switch (o.op) {
      case 'send':
        for (let i = 0; i < o.n && !log.full; i++) {
          const seq = log.push(next);
          accepted[seq - 1] = next++;
        }
        break;
      case 'write': {
        const msgs: number[] = [];
        let first = 0;
        for (let i = 0; i < o.max; i++) {
          const u = log.peekUnsent();
          if (!u) break;
          if (msgs.length === 0) first = u.seq;
          msgs.push(u.msg);
          log.markSent(u.seq);
        }
        if (msgs.length > 0) toReceiver.push({ first, msgs });
        break;
      }
      case 'deliver':
        for (let i = 0; i < o.n && toReceiver.length > 0; i++) receive(toReceiver.shift()!);
        break;
      case 'ackBack':
        toSender.push(cursor.delivered);
        break;
      case 'deliverAck':
        if (toSender.length > 0) expect(log.ack(toSender.shift()!)).toBe(true);
        break;
      case 'reconnect':
        // The old socket delivers a prefix of its in-flight frames, then everything else is lost.
        toReceiver.slice(0, o.keep).forEach(receive);
        toSender.slice(0, o.keep).forEach((a) => log.ack(a));
        toReceiver = [];
        toSender = [];
        handshake();
        break;
      case 'restartReceiver':
        // The receiver process dies: in-flight frames and its cursor are gone.
        toReceiver = [];
        toSender = [];
        cursor = new InboundCursor();
        delivered = [];
        startSeq = log.base;
        handshake();
        break;
    }
    check();
  }
  // Heal: reconnect, then write, deliver and acknowledge until nothing is held.
  toReceiver = [];
  toSender = [];
  handshake();
  for (let guard = 0; log.size > 0; guard++) {
    expect(guard).toBeLessThan(10_000);
    for (let u = log.peekUnsent(); u; u = log.peekUnsent()) {
      receive({ first: u.seq, msgs: [u.msg] });
      log.markSent(u.seq);
    }
    log.ack(cursor.delivered);
  }
  check();
  // Everything accepted since the receiver's last start arrived, once, in order.
  expect(delivered).toEqual(accepted.slice(startSeq - 1));
}

describe('sequence/ack/resend', () => {
  it('property: every message the sender still holds is delivered exactly once and in order, across any drops, reconnects and receiver restarts', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 12 }), (ops, capacity) => simulate(ops, capacity)),
      { numRuns: 500 },
    );
  });
});
