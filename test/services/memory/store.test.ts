import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { DerivedKeyring } from '../../../src/services/memory/keyring.js';
import { Memory } from '../../../src/services/memory/memory.js';
import { codeOf, MASTER, openMemory, rawExpiry, rawRecords, type TestMemory } from './helpers.js';

const DAY = 86_400_000;
let t: TestMemory;
beforeEach(() => (t = openMemory()));
afterEach(() => t.close());

describe('key–value', () => {
  it('puts, gets, overwrites and deletes values of any msgpack-able shape', async () => {
    const kv = t.memory.scope({ tenant: 'acme', namespace: 'agent/state' }).kv;
    expect(await kv.put('profile', { name: 'Ada', tags: ['x'], at: new Date(0) })).toEqual({ key: 'profile', at: 1000, expiresAt: 0 });
    expect(kv.get('profile')).toEqual({ key: 'profile', value: { name: 'Ada', tags: ['x'], at: new Date(0) }, at: 1000, expiresAt: 0 });
    t.clock.advance(5);
    await kv.put('profile', 2);
    expect(kv.get('profile')).toMatchObject({ value: 2, at: 1005 });
    expect(await kv.delete('profile')).toBe(true);
    expect(await kv.delete('profile')).toBe(false);
    expect(kv.get('profile')).toBeUndefined();
    expect(rawRecords(t.db)).toHaveLength(0);
  });

  it('lists by prefix in key order, after a cursor, up to a limit', async () => {
    const kv = t.memory.scope({ tenant: 'acme', namespace: 'n' }).kv;
    for (const k of ['b/2', 'a/1', 'b/1', 'b/10', 'c']) await kv.put(k, k.toUpperCase());
    expect(kv.list().map((e) => e.key)).toEqual(['a/1', 'b/1', 'b/10', 'b/2', 'c']);
    expect(kv.list({ prefix: 'b/' }).map((e) => e.value)).toEqual(['B/1', 'B/10', 'B/2']);
    expect(kv.list({ prefix: 'b/', after: 'b/1', limit: 1 }).map((e) => e.key)).toEqual(['b/10']);
  });

  it('refuses empty, oversized and ill-formed keys and oversized values, writing nothing', async () => {
    const kv = t.memory.scope({ tenant: 'acme', namespace: 'n' }).kv;
    expect(await codeOf(() => kv.put('', 1))).toBe('MEMORY_INVALID_ARGS');
    expect(await codeOf(() => kv.put('k'.repeat(1025), 1))).toBe('MEMORY_TOO_LARGE');
    expect(await codeOf(() => kv.put('\ud800', 1))).toBe('MEMORY_INVALID_ARGS');
    expect(await codeOf(kv.put('big', 'x'.repeat(1024 * 1024 + 1)))).toBe('MEMORY_TOO_LARGE');
    expect(rawRecords(t.db)).toHaveLength(0);
  });

  it('refuses a scope with a malformed namespace or tenant', () => {
    expect(() => t.memory.scope({ tenant: 'acme', namespace: '../etc' })).toThrow(expect.objectContaining({ code: 'MEMORY_INVALID_ARGS', field: 'namespace' }));
    expect(() => t.memory.scope({ tenant: '', namespace: 'n' })).toThrow(expect.objectContaining({ field: 'tenant' }));
  });
});

describe('episodic log', () => {
  it('appends in order per stream and reads ranges forward, backward and bounded', async () => {
    const log = t.memory.scope({ tenant: 'acme', namespace: 'n' }).log;
    for (let i = 1; i <= 5; i++) {
      t.clock.advance(1);
      expect(await log.append('conv-1', { turn: i })).toEqual({ stream: 'conv-1', seq: i, at: 1000 + i });
    }
    await log.append('conv-2', 'other stream');
    expect(log.read('conv-1').map((e) => e.entry)).toEqual([1, 2, 3, 4, 5].map((turn) => ({ turn })));
    expect(log.read('conv-1', { from: 2, to: 4 }).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(log.read('conv-1', { reverse: true, limit: 2 }).map((e) => e.seq)).toEqual([5, 4]);
    expect(log.read('conv-1', { from: 2, to: 4, reverse: true }).map((e) => e.seq)).toEqual([4, 3, 2]);
    expect(log.read('conv-1', { from: 1, to: 1, reverse: true }).map((e) => e.seq)).toEqual([1]);
    expect(log.read('conv-1', { from: 6 })).toEqual([]);
    expect(log.read('conv-2')).toEqual([{ stream: 'conv-2', seq: 1, at: 1005, entry: 'other stream' }]);
    expect(log.read('conv-3')).toEqual([]);
  });

  it('property: any range read equals the same slice of a model log', async () => {
    const log = t.memory.scope({ tenant: 'acme', namespace: 'n' }).log;
    for (let i = 1; i <= 12; i++) await log.append('s', i);
    await log.append('s2', 'neighbour');
    await log.append('r', 'neighbour');
    const opt = fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined });
    fc.assert(
      fc.property(opt, opt, fc.option(fc.integer({ min: 1, max: 15 }), { nil: undefined }), fc.boolean(), (from, to, limit, reverse) => {
        const options = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), ...(limit === undefined ? {} : { limit }), reverse };
        let want = Array.from({ length: 12 }, (_, i) => i + 1).filter((seq) => seq >= (from ?? 1) && seq <= (to ?? Infinity));
        if (reverse) want = want.reverse();
        expect(log.read('s', options).map((e) => e.seq)).toEqual(want.slice(0, limit ?? 1000));
      }),
    );
  });

  it('gives concurrent appends distinct consecutive sequence numbers', async () => {
    const log = t.memory.scope({ tenant: 'acme', namespace: 'n' }).log;
    const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append('s', i).then((r) => r.seq)));
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(log.read('s').map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('appends once per idempotency key', async () => {
    const log = t.memory.scope({ tenant: 'acme', namespace: 'n' }).log;
    expect(await log.append('s', 'a', { idempotencyKey: 'call-1' })).toEqual({ stream: 's', seq: 1, at: 1000 });
    expect(await log.append('s', 'a again', { idempotencyKey: 'call-1' })).toEqual({ stream: 's', seq: 1, at: 1000, duplicate: true });
    expect(log.read('s').map((e) => e.entry)).toEqual(['a']);
  });
});

describe('retention', () => {
  it('hides entries once retention_days have passed on the clock, and purgeExpired deletes them and their index', async () => {
    const m = t.memory.scope({ tenant: 'acme', namespace: 'n', retentionDays: 2 });
    const forever = t.memory.scope({ tenant: 'acme', namespace: 'keep' });
    await m.kv.put('k', 'v');
    await m.log.append('s', 'e');
    await m.rag.ingest({ sourceId: 'doc', text: 'Retention applies to retrieval chunks too.' });
    await forever.kv.put('k', 'kept');
    expect(m.kv.get('k')?.expiresAt).toBe(1000 + 2 * DAY);
    t.clock.advance(2 * DAY - 1);
    expect(m.kv.get('k')?.value).toBe('v');
    expect((await m.rag.retrieve('retention chunks', { topK: 3 })).passages).toHaveLength(1);
    t.clock.advance(1);
    expect(m.kv.get('k')).toBeUndefined();
    expect(m.log.read('s')).toEqual([]);
    expect((await m.rag.retrieve('retention chunks', { topK: 3 })).passages).toEqual([]);
    const before = rawRecords(t.db).length;
    const { removed } = await t.memory.purgeExpired();
    expect(removed).toBeGreaterThanOrEqual(5); // kv, log, source, chunk, chunk vector
    expect(rawRecords(t.db).length).toBe(before - removed);
    expect(rawExpiry(t.db)).toHaveLength(0);
    expect(forever.kv.get('k')?.value).toBe('kept');
    expect((await t.memory.purgeExpired()).removed).toBe(0);
  });

  it('an overwrite moves the expiry on; the old index entry does not purge the new value', async () => {
    const m = t.memory.scope({ tenant: 'acme', namespace: 'n', retentionDays: 1 });
    await m.kv.put('k', 'old');
    t.clock.advance(DAY / 2);
    await m.kv.put('k', 'new');
    expect(rawExpiry(t.db)).toHaveLength(1);
    t.clock.advance(DAY / 2);
    await t.memory.purgeExpired();
    expect(m.kv.get('k')?.value).toBe('new');
  });

  it('retention_days 0 keeps nothing past the moment of writing', async () => {
    const m = t.memory.scope({ tenant: 'acme', namespace: 'n', retentionDays: 0 });
    await m.kv.put('k', 'v');
    expect(m.kv.get('k')).toBeUndefined();
    expect((await t.memory.purgeExpired()).removed).toBe(1);
    // At clock 0 the earliest expiry is 1 (0 stands for "never"): gone a millisecond later.
    const zero = new VirtualClock(0);
    const atZero = Memory.open({ db: t.db, clock: zero, keyring: new DerivedKeyring(MASTER) }).scope({ tenant: 'acme', namespace: 'n', retentionDays: 0 });
    await atZero.kv.put('k', 'v');
    expect(atZero.kv.get('k')?.expiresAt).toBe(1);
    zero.advance(1);
    expect(atZero.kv.get('k')).toBeUndefined();
  });

  it('purges in batches', async () => {
    const m = t.memory.scope({ tenant: 'acme', namespace: 'n', retentionDays: 1 });
    for (let i = 0; i < 25; i++) await m.log.append('s', i);
    t.clock.advance(DAY);
    expect(await t.memory.purgeExpired(10)).toEqual({ removed: 25 });
    expect(rawRecords(t.db)).toHaveLength(0);
  });
});

it('a closed store refuses calls with MEMORY_CLOSED', async () => {
  const m = t.memory.scope({ tenant: 'acme', namespace: 'n' });
  t.memory.close();
  expect(await codeOf(() => m.kv.get('k'))).toBe('MEMORY_CLOSED');
  expect(await codeOf(() => m.kv.put('k', 1))).toBe('MEMORY_CLOSED');
});
