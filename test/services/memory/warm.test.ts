// The vector index after a restart: a RAG source's chunk vectors are sealed in one
// record (parts when large), so a rebuild opens one record per source; `warm()`
// loads in slices that yield to the event loop, a query finishes what is left, and
// writes made while it loads are never lost; a retention purge deletes the group
// records and prunes the index in place.

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashingEmbedder } from '../../../src/services/memory/embedder.js';
import { SCOPE_BYTES, Table } from '../../../src/services/memory/keys.js';
import { Memory, type TenantMemory } from '../../../src/services/memory/memory.js';
import { DerivedKeyring } from '../../../src/services/memory/keyring.js';
import { VectorCollection } from '../../../src/services/memory/vectors.js';
import { MASTER, openMemory, rawRecords, type TestMemory } from './helpers.js';

const DAY = 86_400_000;
const WORDS = ['vault', 'ledger', 'patient', 'invoice', 'router', 'garden', 'orbit', 'violin', 'harbor', 'copper', 'meadow', 'signal'];
/** A source of `n` sentences: with chunk size 60 each sentence is about one chunk. */
const text = (seed: number, n: number): string =>
  Array.from({ length: n }, (_, i) => `The ${WORDS[(seed + i) % WORDS.length]} ${WORDS[(seed * 3 + i * 5) % WORDS.length]} note ${seed}-${i} is here.`).join(' ');
const CHUNK = { size: 60, overlap: 0 };
const NAME = { tenant: 'acme', namespace: 'kb' };

let t: TestMemory;
beforeEach(() => {
  t = openMemory({ embedder: new HashingEmbedder({ dimension: 32 }), rag: { chunk: CHUNK } });
});
afterEach(() => t.close());

const tableOf = (key: Buffer): number => key[SCOPE_BYTES]!;
/** The scope as a restarted node sees it: a new Memory on the same LMDB (no index loaded). */
const reopen = (options: { maxValueBytes?: number } = {}): TenantMemory => {
  t.memory.close();
  t.memory = Memory.open({ db: t.db, clock: t.clock, keyring: new DerivedKeyring(MASTER), embedder: new HashingEmbedder({ dimension: 32 }), rag: { chunk: CHUNK }, ...options });
  return t.memory.scope(NAME);
};
const best = async (m: TenantMemory, q: string) => (await m.rag.retrieve(q, { topK: 5, rerank: 'none' })).passages.map((p) => [p.sourceId, p.chunk, p.cosine.toFixed(5)]);

describe('chunk vectors sealed per source', () => {
  it('one record holds every chunk vector of a source; none is sealed alone; a restart finds the same passages', async () => {
    const m = t.memory.scope(NAME);
    const chunks = [];
    for (let s = 0; s < 3; s++) chunks.push((await m.rag.ingest({ sourceId: `doc-${s}`, text: text(s, 8) })).chunks.length);
    expect(chunks.every((n) => n >= 6)).toBe(true);
    const raw = rawRecords(t.db);
    expect(raw.filter((r) => tableOf(r.key) === Table.vectorGroups)).toHaveLength(3);
    expect(raw.filter((r) => tableOf(r.key) === Table.chunkVectors)).toHaveLength(0);
    // Sealed: neither ids nor text are readable in a group record.
    for (const r of raw.filter((x) => tableOf(x.key) === Table.vectorGroups)) expect(r.value.toString('latin1')).not.toContain('doc-');
    const before = await best(m, 'vault ledger note');
    const again = reopen();
    expect(again.rag.vectors.warmed).toBe(false);
    expect(await best(again, 'vault ledger note')).toEqual(before);
    expect(again.rag.vectors.size()).toBe(chunks.reduce((a, b) => a + b, 0));
  });

  it('a source larger than half the largest record is sealed in parts; re-ingesting it shorter leaves no stale part', async () => {
    const small = reopen({ maxValueBytes: 2048 }); // 32 dims: ~12 vectors per part
    const long = await small.rag.ingest({ sourceId: 'big', text: text(1, 60) });
    const parts = () => rawRecords(t.db).filter((r) => tableOf(r.key) === Table.vectorGroups).length;
    expect(parts()).toBeGreaterThan(3);
    const fresh = reopen({ maxValueBytes: 2048 });
    expect(fresh.rag.vectors.size()).toBe(long.chunks.length);
    const short = await fresh.rag.ingest({ sourceId: 'big', text: text(2, 5) });
    expect(parts()).toBe(1);
    const last = reopen({ maxValueBytes: 2048 });
    expect(last.rag.vectors.size()).toBe(short.chunks.length);
    expect((await last.rag.retrieve('note 1-40', { topK: 50, rerank: 'none' })).passages.every((p) => p.chunk < short.chunks.length)).toBe(true);
    expect(await last.rag.remove('big')).toBe(true);
    expect(parts()).toBe(0);
    expect(reopen().rag.vectors.size()).toBe(0);
  });

  it('vectors a collection wrote one per record (the earlier layout) still load, and a grouped write replaces them', async () => {
    const m = t.memory.scope(NAME);
    const legacy = new VectorCollection(m.scope, Table.chunkVectors, 32);
    const [v1, v2] = await m.embed(['vault ledger', 'orbit violin']);
    await legacy.upsert([{ id: 'old#0', vector: v1! }, { id: 'old#1', vector: v2! }]);
    const grouped = new VectorCollection(m.scope, Table.chunkVectors, 32, { groupOf: (id) => id.slice(0, id.lastIndexOf('#')) });
    expect(grouped.search(v1!, { k: 1 })[0]?.id).toBe('old#0');
    await grouped.upsert([{ id: 'old#0', vector: v2! }]);
    await grouped.remove(['old#1']);
    expect(rawRecords(t.db).filter((r) => tableOf(r.key) === Table.chunkVectors)).toHaveLength(0);
    const fresh = new VectorCollection(reopen().scope, Table.chunkVectors, 32, { groupOf: (id) => id.slice(0, id.lastIndexOf('#')) });
    expect(fresh.size()).toBe(1);
    expect(fresh.search(v2!, { k: 2 })).toEqual([{ id: 'old#0', score: expect.closeTo(1, 5) }]);
    expect(fresh.get('old#0')?.vector).toEqual(v2);
  });
});

describe('warm-up', () => {
  it('loads in slices that yield to the event loop; a query meanwhile finishes the rest and answers as a full load would', async () => {
    const m = t.memory.scope(NAME);
    for (let s = 0; s < 12; s++) await m.rag.ingest({ sourceId: `doc-${s}`, text: text(s, 6) });
    const expected = await best(m, 'garden orbit note');
    const total = m.rag.vectors.size();
    const fresh = reopen();
    let turns = 0;
    const warming = fresh.rag.vectors.warm(1).then(() => turns);
    const ticker = (async () => {
      while (!fresh.rag.vectors.warmed) {
        turns++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(fresh.rag.vectors.warmed).toBe(false); // two turns: a couple of sources in, not twelve
    expect(await best(fresh, 'garden orbit note')).toEqual(expected);
    expect(fresh.rag.vectors.warmed).toBe(true);
    expect(fresh.rag.vectors.size()).toBe(total);
    await ticker;
    expect(await warming).toBeGreaterThanOrEqual(2);
  });

  it('a full warm-up leaves nothing for the first query to load', async () => {
    const m = t.memory.scope(NAME);
    for (let s = 0; s < 4; s++) await m.rag.ingest({ sourceId: `doc-${s}`, text: text(s, 6) });
    const fresh = reopen();
    await fresh.warm();
    expect(fresh.rag.vectors.warmed).toBe(true);
    expect(fresh.vectors.warmed).toBe(true);
  });

  it('property: ingests and removals that land between slices of a warm-up leave the index equal to one loaded from scratch', async () => {
    // `budget`: vectors the loader takes before the write (whole sources of 4 chunks: 0 to 2 sources).
    const op = fc.oneof(
      fc.record({ kind: fc.constant('ingest' as const), source: fc.integer({ min: 0, max: 9 }), seed: fc.integer({ min: 0, max: 50 }), n: fc.integer({ min: 1, max: 6 }), budget: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('remove' as const), source: fc.integer({ min: 0, max: 9 }), budget: fc.integer({ min: 0, max: 8 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        await t.close();
        t = openMemory({ embedder: new HashingEmbedder({ dimension: 32 }), rag: { chunk: CHUNK } });
        const m = t.memory.scope(NAME);
        for (let s = 0; s < 10; s++) await m.rag.ingest({ sourceId: `doc-${s}`, text: text(s, 4) });
        const fresh = reopen();
        const cache = fresh.rag.vectors.indexCache();
        for (const o of ops) {
          if (o.budget > 0) cache.step(o.budget);
          if (o.kind === 'ingest') await fresh.rag.ingest({ sourceId: `doc-${o.source}`, text: text(o.seed, o.n) });
          else await fresh.rag.remove(`doc-${o.source}`);
        }
        await fresh.rag.vectors.warm(3);
        const query = (await fresh.embed(['vault ledger patient invoice router garden orbit violin harbor copper meadow signal note']))[0]!;
        const warmed = fresh.rag.vectors.search(query, { k: 1000 });
        const size = fresh.rag.vectors.size();
        const scratch = reopen();
        expect(warmed).toEqual(scratch.rag.vectors.search(query, { k: 1000 }));
        expect(size).toBe(scratch.rag.vectors.size());
      }),
      { numRuns: 30 },
    );
  });
});

describe('retention with grouped vectors', () => {
  it('a purge deletes the expired group records and prunes the loaded index in place, keeping what has not expired', async () => {
    const short = t.memory.scope({ ...NAME, retentionDays: 1 });
    const long = t.memory.scope({ ...NAME, retentionDays: 3 });
    await short.rag.ingest({ sourceId: 'brief', text: text(1, 5) });
    await long.rag.ingest({ sourceId: 'lasting', text: text(2, 5) });
    expect(short.rag.vectors.size()).toBe(10); // one scope (tenant + namespace), two retentions
    t.clock.advance(DAY);
    expect((await short.rag.retrieve('note', { topK: 20, rerank: 'none' })).passages.every((p) => p.sourceId === 'lasting')).toBe(true);
    await t.memory.purgeExpired();
    const groups = rawRecords(t.db).filter((r) => tableOf(r.key) === Table.vectorGroups);
    expect(groups).toHaveLength(1);
    expect(short.rag.vectors.size()).toBe(5); // pruned, not reloaded
    expect(reopen().rag.vectors.size()).toBe(5);
    t.clock.advance(2 * DAY);
    await t.memory.purgeExpired();
    expect(rawRecords(t.db)).toHaveLength(1); // the collection's dimension record (kept forever)
  });
});
