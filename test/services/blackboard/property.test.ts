// Invariants of the board, as properties. On the core with a real LMDB: any
// sequence of writes (with right, wrong or no expected versions) behaves as the
// model says — each accepted write is the topic's version + 1, a stale one
// changes nothing — and the store reopened from disk equals the board in memory.
// On a node: concurrent writers that compare-and-set never lose an acknowledged
// update, and a restart finds exactly what was acknowledged.
import { join } from 'node:path';
import fc from 'fast-check';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoardCore } from '../../../src/services/blackboard/board.js';
import { BlackboardCodes } from '../../../src/services/blackboard/errors.js';
import { TopicSchemas } from '../../../src/services/blackboard/schemas.js';
import { BoardStore, type BoardEntry } from '../../../src/services/blackboard/store.js';
import { tempDir } from '../../support/tmp.js';
import { boardNode, client } from './support.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

const core = (root: ReturnType<typeof open>, audit: unknown[] = []) =>
  new BoardCore({
    store: new BoardStore(root),
    schemas: new TopicSchemas(),
    now: () => 0,
    audit: (r) => audit.push(r),
    maxValueBytes: 1024,
    maxTopicsPerTenant: 100,
    durability: 'sync',
  });

const op = fc.record({
  writer: fc.constantFrom('w0', 'w1', 'w2'),
  topic: fc.constantFrom('a', 'b', 'c.d'),
  value: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.array(fc.integer(), { maxLength: 3 })),
  cas: fc.oneof(fc.constant<'none'>('none'), fc.constant<'right'>('right'), fc.integer({ min: 0, max: 6 })),
});

describe('board core against a model', () => {
  it('every accepted write is version + 1, a stale write changes nothing, and LMDB reopened equals memory', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const dir = join(tmp.dir, `core-${run++}`);
        let root = open({ path: dir, maxDbs: 4 });
        const audit: { decision: string }[] = [];
        const board = core(root, audit);
        const model = new Map<string, { version: number; value: unknown }>();
        const acks: Promise<void>[] = [];
        for (const o of ops) {
          const current = model.get(o.topic)?.version ?? 0;
          const expected = o.cas === 'none' ? undefined : o.cas === 'right' ? current : o.cas;
          const stale = expected !== undefined && expected !== current;
          if (stale) {
            expect(() => board.post({ tenant: 't', by: o.writer, topic: o.topic, value: o.value, ...(expected === undefined ? {} : { expectedVersion: expected }) })).toThrow(
              expect.objectContaining({ code: BlackboardCodes.staleWrite, details: { topic: o.topic, expected, actual: current } }),
            );
            continue;
          }
          const { entry, durable } = board.post({ tenant: 't', by: o.writer, topic: o.topic, value: o.value, ...(expected === undefined ? {} : { expectedVersion: expected }) });
          expect(entry.version).toBe(current + 1);
          model.set(o.topic, { version: entry.version, value: o.value });
          acks.push(durable);
        }
        await Promise.all(acks);
        const inMemory = board.query('t', '**');
        expect(inMemory.map((e) => [e.topic, e.version, e.value])).toEqual([...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, m]) => [t, m.version, m.value]));
        expect(audit.filter((r) => r.decision === 'written')).toHaveLength(acks.length);
        expect(audit.filter((r) => r.decision === 'stale-write')).toHaveLength(ops.length - acks.length);
        await root.close();
        root = open({ path: dir, maxDbs: 4 });
        expect(core(root).query('t', '**')).toEqual(inMemory);
        await root.close();
      }),
      { numRuns: 60 },
    );
  });
});

describe('concurrent writers on a node', () => {
  it('writers that compare-and-set never lose an acknowledged update; versions go up by exactly 1; a restart finds the same board', async () => {
    const dir = join(tmp.dir, 'node');
    let b = await boardNode(dir);
    const snapshot = new Map<string, BoardEntry>();
    let run = 0;
    try {
      for (let w = 0; w < 6; w++) await b.node.spawn(client(['blackboard.read', 'blackboard.write']), { id: `w${w}` });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 5 }), async (writers, each) => {
          const topic = `counter.${run++}`;
          const acked: number[] = [];
          let stale = 0;
          const writer = async (id: string): Promise<void> => {
            const me = b.board.as(id);
            for (let done = 0; done < each; ) {
              const seen = await me.read<number>(topic);
              try {
                const e = await me.post(topic, (seen?.value ?? 0) + 1, { expectedVersion: seen?.version ?? 0 });
                acked.push(e.version);
                done++;
              } catch (err) {
                if ((err as { code?: string }).code !== BlackboardCodes.staleWrite) throw err;
                stale++;
              }
            }
          };
          await Promise.all(Array.from({ length: writers }, (_, w) => writer(`w${w}`)));
          const final = await b.board.tenant().read<number>(topic);
          expect(final).toMatchObject({ version: writers * each, value: writers * each });
          expect([...acked].sort((x, y) => x - y)).toEqual(Array.from({ length: writers * each }, (_, i) => i + 1));
          expect(stale).toBeGreaterThanOrEqual(0);
          snapshot.set(topic, final!);
        }),
        { numRuns: 10 },
      );
      expect(b.board.stats().staleWrites).toBeGreaterThan(0); // the writers did collide
      await b.stop();
      b = await boardNode(dir);
      for (const [topic, entry] of snapshot) expect(await b.board.tenant().read(topic)).toEqual(entry);
    } finally {
      await b.stop();
    }
  });
});
