// Invariants, by property: the replay buffer never holds more than its bound,
// keeps the newest events, and per node its seqs strictly increase, whatever
// mix of local events, flushes and other members' batches comes in; a bounded
// copy stays within its byte bound and is exact when it says it was not cut;
// the contract filter never lets a field through that log_fields does not name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/index.js';
import { InspectorHub } from '../../../src/services/inspector/hub.js';
import { boundedCopy, fieldTree, filterFields, REDACTED } from '../../../src/services/inspector/payload.js';
import type { InspectorEvent } from '../../../src/services/inspector/protocol.js';
import { Ring } from '../../../src/services/inspector/ring.js';

type Op = { kind: 'local'; n: number } | { kind: 'flush' } | { kind: 'remote'; node: 'a' | 'b'; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('local' as const), n: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('flush' as const) }),
  fc.record({ kind: fc.constant('remote' as const), node: fc.constantFrom('a' as const, 'b' as const), n: fc.integer({ min: 1, max: 30 }) }),
);

describe('the replay buffer', () => {
  it('never holds more than N events, keeps the newest, and its seqs strictly increase per node', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.array(op, { maxLength: 60 }), (bound, ops) => {
        const clock = new VirtualClock(0);
        const hub = new InspectorHub({ node: 'me', clock, bufferEvents: bound });
        const sent: InspectorEvent[] = []; // everything the hub put in its log, in order
        hub.subscribe({ batch: (events) => sent.push(...events.filter((e) => e.node === 'me')) });
        const remoteSeq = { a: 0, b: 0 };
        let tag = 0;
        for (const o of ops) {
          if (o.kind === 'local') for (let i = 0; i < o.n; i++) hub.listener({ type: '@agentos.test', tag: tag++ });
          else if (o.kind === 'flush') hub.flush();
          else {
            const events: InspectorEvent[] = Array.from({ length: o.n }, () => ({ kind: 'system', node: o.node, seq: ++remoteSeq[o.node], at: 0, type: '@agentos.remote', data: { tag: tag++ } }));
            // What the hub logs at once (its own events enter the log at their flush).
            hub.flush();
            sent.push(...events);
            hub.ingestRemote(o.node, { events });
          }
        }
        hub.flush();
        const replay = hub.snapshot().events;
        expect(replay.length).toBeLessThanOrEqual(bound);
        expect(replay).toEqual(sent.slice(-bound));
        for (const node of ['me', 'a', 'b']) {
          const seqs = replay.filter((e) => e.node === node).map((e) => e.seq);
          for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a ring overwrites its oldest item when full and counts what it dropped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer(), { maxLength: 100 }), (cap, items) => {
        const ring = new Ring<number>(cap);
        for (const x of items) ring.push(x);
        expect(ring.toArray()).toEqual(items.slice(-cap));
        expect(ring.takeDropped()).toBe(Math.max(0, items.length - cap));
        expect(ring.takeDropped()).toBe(0);
        const drained: number[] = [];
        ring.drain((x) => drained.push(x));
        expect(drained).toEqual(items.slice(-cap));
        expect(ring.size).toBe(0);
      }),
    );
  });
});

describe('payload bounds and the contract filter', () => {
  it('a bounded copy is JSON within its bound (plus a marker), and equal to the input when not truncated', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 16, max: 2048 }), (value, bound) => {
        const { value: out, truncated } = boundedCopy(value, bound);
        const json = JSON.stringify(out) ?? '';
        expect(json.length).toBeLessThanOrEqual(bound + 16);
        if (!truncated) expect(json).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('lets through only `type` and the fields log_fields names (nested by path); everything else is redacted', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'type', 'secret');
    const payload = fc.dictionary(key, fc.oneof(fc.string(), fc.integer(), fc.dictionary(key, fc.string(), { maxKeys: 3 })), { maxKeys: 5 });
    const fields = fc.array(fc.constantFrom<string>('a', 'b', 'b.a', 'c.secret'), { maxLength: 3 });
    fc.assert(
      fc.property(payload, fields, (p, logFields) => {
        const out = filterFields(p, fieldTree(logFields)) as Record<string, unknown>;
        expect(Object.keys(out).sort()).toEqual(Object.keys(p).sort());
        for (const [k, v] of Object.entries(out)) {
          const whole = k === 'type' || logFields.includes(k);
          const nested = logFields.filter((f) => f.startsWith(`${k}.`)).map((f) => f.slice(k.length + 1));
          if (whole) expect(v).toBe(p[k]);
          else if (nested.length > 0 && typeof p[k] === 'object') {
            for (const [nk, nv] of Object.entries(v as Record<string, unknown>)) expect(nv).toBe(nested.includes(nk) ? (p[k] as Record<string, unknown>)[nk] : REDACTED);
          } else expect(v).toBe(REDACTED);
        }
      }),
    );
  });
});
