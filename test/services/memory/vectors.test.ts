import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IvfIndex } from '../../../src/services/memory/ann.js';
import { seededRng } from '../../../src/base/rng.js';
import { ExactCosineIndex } from '../../../src/services/memory/vector-index.js';
import { Memory } from '../../../src/services/memory/memory.js';
import { DerivedKeyring } from '../../../src/services/memory/keyring.js';
import { HashingEmbedder } from '../../../src/services/memory/embedder.js';
import { codeOf, MASTER, openMemory, rawRecords, type TestMemory } from './helpers.js';

const brute = (vectors: Map<string, Float32Array>, q: Float32Array, k: number) => {
  const n = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return [...vectors]
    .map(([id, v]) => ({ id, score: v.reduce((s, x, i) => s + x * q[i]!, 0) / (n(v) * n(q)) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, k);
};

const vecArb = (d: number) => fc.array(fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }), { minLength: d, maxLength: d }).filter((v) => v.some((x) => Math.abs(x) > 1e-3)).map((v) => Float32Array.from(v));

describe('ExactCosineIndex', () => {
  it('property: top-k matches a brute-force cosine ranking after any upserts and removes', () => {
    const d = 6;
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.tuple(fc.constant('put' as const), fc.integer({ min: 0, max: 30 }), vecArb(d)), fc.tuple(fc.constant('del' as const), fc.integer({ min: 0, max: 30 }))), { maxLength: 60 }),
        vecArb(d),
        fc.integer({ min: 1, max: 10 }),
        (ops, q, k) => {
          const index = new ExactCosineIndex(d, 1);
          const model = new Map<string, Float32Array>();
          for (const op of ops) {
            const id = `v${op[1]}`;
            if (op[0] === 'put') {
              index.upsert(id, op[2]);
              model.set(id, op[2]);
            } else {
              expect(index.remove(id)).toBe(model.delete(id));
            }
          }
          expect(index.size).toBe(model.size);
          const got = index.search(q, k);
          const want = brute(model, q, k);
          // Same ranking up to float32 rounding: equal scores position by position, and
          // every id returned truly scores within rounding of the k-th best.
          expect(got).toHaveLength(want.length);
          got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 4));
          const truth = new Map(brute(model, q, model.size).map((h) => [h.id, h.score]));
          for (const h of got) expect(truth.get(h.id)!).toBeGreaterThan((want.at(-1)?.score ?? -1) - 1e-4);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('honours minScore and a filter, and a zero query finds nothing', () => {
    const index = new ExactCosineIndex(2);
    index.upsert('x', Float32Array.of(1, 0));
    index.upsert('y', Float32Array.of(0, 1));
    index.upsert('xy', Float32Array.of(1, 1));
    expect(index.search(Float32Array.of(1, 0), 3, { minScore: 0.5 }).map((h) => h.id)).toEqual(['x', 'xy']);
    expect(index.search(Float32Array.of(1, 0), 3, { filter: (id) => id !== 'x' }).map((h) => h.id)).toEqual(['xy', 'y']);
    expect(index.search(Float32Array.of(0, 0), 3)).toEqual([]);
    expect(() => index.upsert('z', Float32Array.of(0, 0))).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_VECTOR' }));
    expect(() => index.search(Float32Array.of(1, 0, 0), 3)).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_DIMENSION' }));
  });
});

describe('IvfIndex (approximate, same interface)', () => {
  it('is exact below its training size and keeps recall@10 >= 0.9 on clustered data once trained', () => {
    const d = 32;
    const rng = seededRng(3);
    const centers = Array.from({ length: 20 }, () => Float32Array.from({ length: d }, () => rng.next() * 2 - 1));
    const point = () => {
      const c = centers[rng.int(centers.length)]!;
      return Float32Array.from(c, (x) => x + (rng.next() - 0.5) * 2.0);
    };
    const exact = new ExactCosineIndex(d);
    const ivf = new IvfIndex(d, { minTrain: 500, nprobe: 6, seed: 9 });
    for (let i = 0; i < 400; i++) {
      const v = point();
      exact.upsert(`p${i}`, v);
      ivf.upsert(`p${i}`, v);
    }
    const q0 = point();
    const [small, smallExact] = [ivf.search(q0, 10), exact.search(q0, 10)];
    expect(small.map((h) => h.id)).toEqual(smallExact.map((h) => h.id));
    small.forEach((h, i) => expect(h.score).toBeCloseTo(smallExact[i]!.score, 9));
    for (let i = 400; i < 3000; i++) {
      const v = point();
      exact.upsert(`p${i}`, v);
      ivf.upsert(`p${i}`, v);
    }
    for (let i = 0; i < 300; i += 3) {
      exact.remove(`p${i}`);
      ivf.remove(`p${i}`);
    }
    let found = 0;
    const queries = 50;
    for (let i = 0; i < queries; i++) {
      const q = point();
      const want = new Set(exact.search(q, 10).map((h) => h.id));
      found += ivf.search(q, 10).filter((h) => want.has(h.id)).length;
    }
    const recall = found / (queries * 10);
    console.log(`IVF recall@10 on 2,900 clustered 32-d vectors, nprobe 6 of ${Math.round(Math.sqrt(2900))} lists: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(ivf.size).toBe(exact.size);
  });
});

describe('VectorCollection in LMDB', () => {
  let t: TestMemory;
  beforeEach(() => (t = openMemory({ embedder: new HashingEmbedder({ dimension: 8 }) })));
  afterEach(() => t.close());

  it('stores Float32 vectors with metadata, searches them, and removes them', async () => {
    const v = t.memory.scope({ tenant: 'acme', namespace: 'n' }).vectors;
    await v.upsert([
      { id: 'a', vector: [1, 0, 0, 0, 0, 0, 0, 0], metadata: { label: 'A' } },
      { id: 'b', vector: [0, 1, 0, 0, 0, 0, 0, 0] },
      { id: 'ab', vector: [1, 1, 0, 0, 0, 0, 0, 0] },
    ]);
    expect(v.get('a')).toMatchObject({ id: 'a', vector: Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0), metadata: { label: 'A' }, at: 1000 });
    expect(v.search([1, 0.1, 0, 0, 0, 0, 0, 0], { k: 2, withMetadata: true })).toEqual([
      { id: 'a', score: expect.closeTo(0.995, 3), metadata: { label: 'A' } },
      { id: 'ab', score: expect.closeTo(0.774, 3) },
    ]);
    expect(await v.remove(['a', 'nope'])).toBe(1);
    expect(v.search([1, 0, 0, 0, 0, 0, 0, 0], { k: 5 }).map((h) => h.id)).toEqual(['ab', 'b']);
  });

  it('an embedding of the wrong dimension is MEMORY_BAD_DIMENSION and nothing of the batch is written', async () => {
    const v = t.memory.scope({ tenant: 'acme', namespace: 'n' }).vectors;
    await v.upsert([{ id: 'ok', vector: [1, 0, 0, 0, 0, 0, 0, 0] }]);
    const before = rawRecords(t.db);
    const err = await v.upsert([{ id: 'fine', vector: [0, 1, 0, 0, 0, 0, 0, 0] }, { id: 'short', vector: [1, 2, 3] }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MEMORY_BAD_DIMENSION', details: { expected: 8, got: 3 } });
    expect(rawRecords(t.db)).toEqual(before);
    expect(v.get('fine')).toBeUndefined();
    expect(v.search([0, 1, 0, 0, 0, 0, 0, 0], { k: 5 }).map((h) => h.id)).toEqual(['ok']);
    expect(await codeOf(v.upsert([{ id: 'nan', vector: [Number.NaN, 0, 0, 0, 0, 0, 0, 0] }]))).toBe('MEMORY_BAD_VECTOR');
    expect(await codeOf(v.upsert([{ id: 'zero', vector: new Array(8).fill(0) }]))).toBe('MEMORY_BAD_VECTOR');
    expect(() => v.search([1, 0], { k: 1 })).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_DIMENSION' }));
    expect(rawRecords(t.db)).toEqual(before);
  });

  it('a namespace indexed at one dimension refuses an embedder of another, without writing', async () => {
    await t.memory.scope({ tenant: 'acme', namespace: 'n' }).vectors.upsert([{ id: 'a', vector: [1, 0, 0, 0, 0, 0, 0, 0] }]);
    const other = Memory.open({ db: t.db, clock: t.clock, keyring: new DerivedKeyring(MASTER), embedder: new HashingEmbedder({ dimension: 16 }) });
    const v16 = other.scope({ tenant: 'acme', namespace: 'n' }).vectors;
    const before = rawRecords(t.db);
    expect(await codeOf(v16.upsert([{ id: 'b', vector: new Array(16).fill(1) }]))).toBe('MEMORY_BAD_DIMENSION');
    expect(() => v16.search(new Array(16).fill(1), { k: 1 })).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_DIMENSION', message: expect.stringContaining('hashing-v1/8') }));
    expect(rawRecords(t.db)).toEqual(before);
  });

  it('rebuilds its index from LMDB after a restart', async () => {
    await t.memory.scope({ tenant: 'acme', namespace: 'n' }).vectors.upsert([{ id: 'a', vector: [1, 0, 0, 0, 0, 0, 0, 0] }, { id: 'b', vector: [0, 0, 1, 0, 0, 0, 0, 0] }]);
    const fresh = Memory.open({ db: t.db, clock: t.clock, keyring: new DerivedKeyring(MASTER), embedder: new HashingEmbedder({ dimension: 8 }) });
    expect(fresh.scope({ tenant: 'acme', namespace: 'n' }).vectors.search([0, 0, 1, 0, 0, 0, 0, 0], { k: 1 })).toEqual([{ id: 'b', score: 1 }]);
    // …and a wrong master key opens nothing.
    const wrong = Memory.open({ db: t.db, clock: t.clock, keyring: new DerivedKeyring(Buffer.alloc(32, 8)), embedder: new HashingEmbedder({ dimension: 8 }) });
    expect(() => wrong.scope({ tenant: 'acme', namespace: 'n' }).vectors.search([1, 0, 0, 0, 0, 0, 0, 0], { k: 1 })).toThrow(expect.objectContaining({ code: 'MEMORY_CROSS_TENANT' }));
  });
});
