import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMailbox } from '../../src/mailboxes/index.js';
import type { DropReason, MailboxKind, OverflowPolicy } from '../../src/mailboxes/types.js';

interface Msg {
  id: number;
  priority?: number;
  deadline?: number;
  enqueuedAt?: number;
}

type Fate = 'delivered' | 'dropped' | 'rejected' | 'drained';
type Op = { push: { priority?: number; deadline?: number } } | 'shift' | 'peek' | 'drain';

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record(
        { priority: fc.integer({ min: -1, max: 11 }), deadline: fc.integer({ min: 0, max: 30 }) },
        { requiredKeys: [] },
      )
      .map((push) => ({ push })),
  },
  { weight: 4, arbitrary: fc.constant<Op>('shift') },
  { weight: 1, arbitrary: fc.constant<Op>('peek') },
  { weight: 1, arbitrary: fc.constant<Op>('drain') },
);

const KINDS: MailboxKind[] = ['fifo', 'priority', 'edf'];
const POLICIES: OverflowPolicy[] = ['reject', 'drop-oldest', 'drop-newest'];
const GRID = KINDS.flatMap((kind) => POLICIES.map((policy) => [kind, policy] as const));

describe.each(GRID)('%s mailbox with %s', (kind, policy) => {
  it('loses and duplicates nothing: every pushed message is exactly once delivered, dropped, rejected, drained or still queued', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(opArb, { maxLength: 300 }), (capacity, ops) => {
        let t = 0;
        const fates = new Map<number, Fate[]>();
        const fate = (m: Msg, f: Fate) => fates.set(m.id, [...(fates.get(m.id) ?? []), f]);
        const reasons: DropReason[] = [];
        const mb = createMailbox<Msg>(kind, {
          capacity,
          overflow: policy,
          now: () => t,
          onDrop: (m, reason) => {
            fate(m, 'dropped');
            reasons.push(reason);
          },
        });
        let pushed = 0;
        let maxSize = 0;
        for (const op of ops) {
          t += 1;
          if (op === 'shift') {
            const m = mb.shift();
            if (m) fate(m, 'delivered');
          } else if (op === 'peek') {
            const before = mb.size;
            const p = mb.peek();
            expect(mb.size).toBe(before);
            expect(p === undefined).toBe(before === 0);
          } else if (op === 'drain') {
            for (const m of mb.drain()) fate(m, 'drained');
          } else {
            const m: Msg = { id: pushed++, ...op.push };
            const wasFull = mb.size === capacity;
            const r = mb.push(m);
            if (!r.ok) fate(m, 'rejected');
            // The result tells the caller exactly what happened.
            expect(r.ok).toBe(!(wasFull && policy === 'reject'));
            expect(r.accepted).toBe(!wasFull || policy === 'drop-oldest');
            if (r.ok && r.dropped) expect(fates.get(r.dropped.id)?.at(-1)).toBe('dropped');
            expect(r.ok && r.dropped !== undefined).toBe(wasFull && policy !== 'reject');
            if (r.accepted) expect(m.enqueuedAt).toBe(t);
          }
          expect(mb.size).toBeLessThanOrEqual(capacity);
          maxSize = Math.max(maxSize, mb.size);
        }
        for (const m of mb.drain()) fate(m, 'drained');

        // Every message has exactly one fate.
        expect(fates.size).toBe(pushed);
        for (const [id, fs] of fates) expect({ id, fates: fs }).toEqual({ id, fates: [fs[0]] });
        const count = (f: Fate) => [...fates.values()].filter((fs) => fs[0] === f).length;

        // Stats agree with what the caller saw, and conserve every push.
        const s = mb.stats();
        expect(s).toMatchObject({
          kind,
          capacity,
          size: 0,
          pushed,
          delivered: count('delivered'),
          dropped: count('dropped'),
          rejected: count('rejected'),
          drained: count('drained'),
          highWater: maxSize,
        });
        expect(s.pushed).toBe(s.delivered + s.dropped + s.rejected + s.drained + s.size);
        expect(s.waitMs.count).toBe(s.delivered);
        // onDrop hears only this policy's reason, and never of a rejected message.
        for (const reason of reasons) expect(reason).toBe(`overflow:${policy}`);
        if (policy === 'reject') expect(count('dropped')).toBe(0);
        else expect(count('rejected')).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
