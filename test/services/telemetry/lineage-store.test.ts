// The lineage store on a real LMDB: for any sequence of records and updates and
// any bound `keep`, exactly the newest `keep` records are kept, the trace and
// <actor>#<turn> indexes answer exactly for them (the newest record of a turn
// number wins), updates made after a record was closed are not lost, and all of
// it reads the same from memory, after a commit, and after reopening (with
// the same bound, or a smaller one that evicts the excess).
import fc from 'fast-check';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import type { LineageTurn } from '../../../src/services/telemetry/lineage-record.js';
import { LineageStore } from '../../../src/services/telemetry/lineage-store.js';
import { tempDir } from '../../support/tmp.js';

const TRACES = ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)];

interface Op {
  actor: string;
  turn: number;
  trace: number; // index into TRACES, or -1 for none
  calls: number;
  closeFirst: boolean;
}

const op = fc.record({
  actor: fc.constantFrom('x', 'y'),
  turn: fc.integer({ min: 1, max: 4 }),
  trace: fc.integer({ min: -1, max: 2 }),
  calls: fc.integer({ min: 0, max: 3 }),
  closeFirst: fc.boolean(),
});

const turnOf = (o: Op): Omit<LineageTurn, 'seq'> => ({
  node: 'n',
  actor: o.actor,
  turn: o.turn,
  tenant: 'default',
  message: { id: `m-${o.actor}-${o.turn}`, type: 'question' },
  ...(o.trace >= 0 ? { traceId: TRACES[o.trace]! } : {}),
  at: 0,
  fields: [],
  calls: [],
});

/** What the store must answer, from the ops alone. */
function expected(ops: readonly Op[], keep: number) {
  const kept = ops.map((o, i) => ({ o, seq: i + 1 })).slice(-keep);
  return {
    recent: kept.map((k) => k.seq).reverse(),
    byTrace: (t: string) => kept.filter((k) => k.o.trace >= 0 && TRACES[k.o.trace] === t).map((k) => k.seq),
    byTurn: (actor: string, turn: number) => kept.filter((k) => k.o.actor === actor && k.o.turn === turn).at(-1)?.seq,
    calls: (seq: number) => ops[seq - 1]!.calls,
  };
}

function check(store: LineageStore, ops: readonly Op[], keep: number): void {
  const want = expected(ops, keep);
  const recent = store.recent(1000);
  expect(recent.map((t) => t.seq)).toEqual(want.recent);
  for (const t of recent) expect(t.calls).toHaveLength(want.calls(t.seq));
  for (const trace of TRACES) expect(store.byTrace(trace).map((t) => t.seq)).toEqual(want.byTrace(trace));
  for (const actor of ['x', 'y']) {
    for (let turn = 1; turn <= 4; turn++) expect(store.byTurn(actor, turn)?.seq).toBe(want.byTurn(actor, turn));
    expect(store.recent(2, actor).map((t) => t.seq)).toEqual(want.recent.filter((s) => ops[s - 1]!.actor === actor).slice(0, 2));
  }
}

describe('LineageStore', () => {
  it('keeps exactly the newest `keep` records, indexed by trace and by <actor>#<turn>, in memory, committed and reopened', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 0, maxLength: 14 }), fc.integer({ min: 1, max: 6 }), async (ops, keep) => {
        const tmp = tempDir('agentos-lineage-store-');
        const db = open({ path: tmp.dir, maxDbs: 4 });
        try {
          const store = new LineageStore(db, keep);
          for (const o of ops) {
            const record = store.add(turnOf(o));
            // Some records are closed before their calls are added (a call that outlived its turn).
            if (o.closeFirst) store.close(record);
            for (let c = 0; c < o.calls; c++) {
              record.calls.push({ index: c, kind: 'tool', name: 't', at: 0, outcome: 'ok' });
              store.save(record);
            }
            store.close(record);
          }
          check(store, ops, keep);
          expect(store.size).toBe(Math.min(ops.length, keep));
          await store.flushed();
          check(store, ops, keep);
          check(new LineageStore(db, keep), ops, keep);
          // Reopened with a smaller bound: the excess is gone at once, before its deletes commit.
          const smaller = Math.max(1, keep - 2);
          check(new LineageStore(db, smaller), ops, smaller);
        } finally {
          await db.close();
          tmp.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('continues the sequence after a reopen, and a smaller bound evicts the excess at once', async () => {
    const tmp = tempDir('agentos-lineage-store-');
    const db = open({ path: tmp.dir, maxDbs: 4 });
    try {
      const first = new LineageStore(db, 10);
      for (let turn = 1; turn <= 5; turn++) first.close(first.add(turnOf({ actor: 'x', turn, trace: 0, calls: 0, closeFirst: false })));
      await first.flushed();
      const second = new LineageStore(db, 2);
      expect(second.recent(10).map((t) => t.turn)).toEqual([5, 4]);
      expect(second.add(turnOf({ actor: 'x', turn: 6, trace: 0, calls: 0, closeFirst: false })).seq).toBe(6);
      expect(second.byTrace(TRACES[0]!).map((t) => t.turn)).toEqual([5, 6]);
      await second.flushed();
      expect([...db.openDB({ name: 'lineage' }).getKeys()]).toHaveLength(2 * 3); // two records, each with a trace and a turn index entry
    } finally {
      await db.close();
      tmp.cleanup();
    }
  });
});
