import { afterEach, describe, expect, it, vi } from 'vitest';
import { PolicyDenied, StorageError } from '../../../src/base/errors.js';
import { EffectCompensated, EffectFailed, EffectInDoubt, EffectJournal, idempotencyKey } from '../../../src/kernel/effects/index.js';
import { dieMidCall, started, tempJournal, type TempJournal } from './helpers.js';

const key = (turn: number, call = 0, actor = 'shop/agent-1'): string => idempotencyKey({ actor, turn, call });
const opened: TempJournal[] = [];
const journalIn = (...args: Parameters<typeof tempJournal>): TempJournal => {
  const t = tempJournal(...args);
  opened.push(t);
  return t;
};
afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
});

/** Dispatch `k` and "crash" while the call is under way: the journal holds `dispatched` and no outcome. */
async function crashDuring(t: TempJournal, k: string, args: unknown, idempotent: boolean | 'key' = false): Promise<EffectJournal> {
  const s = started();
  void t.journal.run(k, { args, idempotent }, dieMidCall(s.signal));
  await s.wait;
  return t.restart();
}

describe('EffectJournal.run: completed calls replay', () => {
  it('runs the call once and replays its journaled result, in this process and after a restart', async () => {
    const t = journalIn();
    const fn = vi.fn(() => ({ charged: 42, at: new Date(5), note: undefined }));
    const first = await t.journal.run(key(0), { args: { amount: 42 } }, fn);
    expect(first).toEqual({ charged: 42, at: new Date(5), note: undefined });
    expect(await t.journal.run(key(0), { args: { amount: 42 } }, fn)).toEqual(first);
    const j = await t.restart();
    expect(await j.run(key(0), { args: { amount: 42 } }, fn)).toEqual(first);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(j.lookup(key(0))).toEqual({ state: 'completed', attempt: 1 });
  });

  it('hands the live caller the journaled form of the result, so a replay is indistinguishable', async () => {
    const t = journalIn();
    const live = await t.journal.run(key(0), { args: null }, () => ({ f: () => 1, m: new Map([['x', 1]]), n: [1, 'two'] }));
    const replayed = await (await t.restart()).run(key(0), { args: null }, () => 'never');
    expect(live).toEqual(replayed);
    expect(live).toEqual({ f: undefined, m: { x: 1 }, n: [1, 'two'] });
  });

  it('passes the key and attempt 1 to the call', async () => {
    const t = journalIn();
    const fn = vi.fn(() => 'ok');
    await t.journal.run(key(3, 1), { args: {} }, fn);
    expect(fn).toHaveBeenCalledWith({ key: key(3, 1), attempt: 1 });
  });

  it('commits `dispatched` before the call starts', async () => {
    const t = journalIn('async');
    let seen: unknown;
    await t.journal.run(key(0), { args: {} }, () => {
      seen = t.raw().open.get(key(0));
      return 1;
    });
    expect(seen).toBeDefined();
  });

  it('joins a second run of a key that is already running: one call, one result', async () => {
    const t = journalIn();
    const fn = vi.fn(async () => ({ n: 1 }));
    const [a, b] = await Promise.all([t.journal.run(key(0), { args: 1 }, fn), t.journal.run(key(0), { args: 1 }, fn)]);
    expect(a).toEqual(b);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('EffectJournal.run: failures replay', () => {
  it('journals a thrown error as data and throws the same EffectFailed on every replay without calling again', async () => {
    const t = journalIn();
    const thrown = new PolicyDenied('TOOL_DENIED', 'no refunds on Sundays', { field: 'tool', details: { tool: 'refund' } });
    const fn = vi.fn(() => {
      throw thrown;
    });
    const live = await t.journal.run(key(0), { args: {} }, fn).catch((e: unknown) => e);
    expect(live).toBeInstanceOf(EffectFailed);
    expect(live).toMatchObject({ code: 'EFFECT_FAILED', replayed: false, cause: thrown });
    const failure = { name: 'PolicyDenied', code: 'TOOL_DENIED', message: 'no refunds on Sundays', field: 'tool', details: { tool: 'refund' } };
    expect((live as EffectFailed).failure).toEqual(failure);
    const again = await (await t.restart()).run(key(0), { args: {} }, fn).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(EffectFailed);
    expect(again).toMatchObject({ replayed: true, failure, message: (live as Error).message });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.journal.lookup(key(0))).toEqual({ state: 'failed', attempt: 1, failure });
  });

  it('journals non-Error throws and results that cannot be encoded as failures', async () => {
    const t = journalIn();
    await expect(t.journal.run(key(0), { args: {} }, () => Promise.reject('nope'))).rejects.toMatchObject({ failure: { name: 'NonError', message: 'nope' } });
    const sym = vi.fn(() => Symbol('x'));
    await expect(t.journal.run(key(1), { args: {} }, sym)).rejects.toMatchObject({ failure: { code: 'EFFECT_UNENCODABLE_RESULT' } });
    await expect(t.journal.run(key(1), { args: {} }, sym)).rejects.toMatchObject({ replayed: true, failure: { code: 'EFFECT_UNENCODABLE_RESULT' } });
    expect(sym).toHaveBeenCalledTimes(1);
  });
});

describe('EffectJournal.run: calls in doubt', () => {
  it('never re-runs a non-idempotent call whose outcome was lost: EffectInDoubt, listed in inDoubt()', async () => {
    const t = journalIn();
    const j = await crashDuring(t, key(2, 1), { to: 'bob' });
    const fn = vi.fn(() => 'sent');
    for (let i = 0; i < 2; i++) {
      const err = await j.run(key(2, 1), { args: { to: 'bob' } }, fn).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EffectInDoubt);
      expect(err).toMatchObject({ code: 'EFFECT_IN_DOUBT', call: { key: key(2, 1), actor: 'shop/agent-1', turn: 2, call: 1, attempt: 1, idempotent: false } });
    }
    expect(fn).not.toHaveBeenCalled();
    expect(j.inDoubt()).toEqual([expect.objectContaining({ key: key(2, 1), dispatchedAt: 1_000 })]);
    expect(j.inDoubt('shop/agent-1')).toHaveLength(1);
    expect(j.inDoubt('shop/agent-2')).toEqual([]);
    expect(j.lookup(key(2, 1))).toMatchObject({ state: 'in-doubt' });
  });

  it.each([true, 'key'] as const)('retries an idempotent (%s) call in doubt once, with the same key and the next attempt', async (idempotent) => {
    const t = journalIn();
    const j = await crashDuring(t, key(0), { id: 7 }, idempotent);
    const fn = vi.fn(() => 'put');
    expect(await j.run(key(0), { args: { id: 7 }, idempotent }, fn)).toBe('put');
    expect(await j.run(key(0), { args: { id: 7 }, idempotent }, fn)).toBe('put');
    expect(fn).toHaveBeenCalledExactlyOnceWith({ key: key(0), attempt: 2 });
    expect(j.inDoubt()).toEqual([]);
    expect(j.verify()).toMatchObject({ ok: true, entries: 3 });
  });

  it('compensates a non-idempotent call in doubt when told how, then reports it compensated on every replay', async () => {
    const t = journalIn();
    const j = await crashDuring(t, key(0), { sku: 'x' });
    const compensate = vi.fn();
    const fn = vi.fn();
    const err = await j.run(key(0), { args: { sku: 'x' }, compensate }, fn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EffectCompensated);
    expect(err).toMatchObject({ code: 'EFFECT_COMPENSATED', attempt: 1 });
    expect(compensate).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ key: key(0), attempt: 1 }), { sku: 'x' });
    const j2 = await t.restart();
    await expect(j2.run(key(0), { args: { sku: 'x' }, compensate }, fn)).rejects.toBeInstanceOf(EffectCompensated);
    expect(compensate).toHaveBeenCalledTimes(1);
    expect(fn).not.toHaveBeenCalled();
    expect(j2.inDoubt()).toEqual([]);
  });

  it('leaves the call in doubt when compensation fails', async () => {
    const t = journalIn();
    const j = await crashDuring(t, key(0), {});
    const boom = new Error('refund API down');
    const err = await j.run(key(0), { args: {}, compensate: () => Promise.reject(boom) }, vi.fn()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EffectInDoubt);
    expect(err).toMatchObject({ cause: boom });
    expect(j.inDoubt()).toHaveLength(1);
  });

  it('lets a human settle a call in doubt; later runs replay that outcome', async () => {
    const t = journalIn();
    const j = await crashDuring(t, key(0), {});
    await crashDuring(t, key(1), {});
    await crashDuring(t, key(2), {});
    const j2 = t.journal;
    expect(j2.inDoubt().map((c) => c.key)).toEqual([key(0), key(1), key(2)]);
    await j2.resolve(key(0), { result: { sent: true } }, 'ops@example.com');
    await j2.resolve(key(1), { failure: { name: 'Bounced', message: 'mailbox full' } }, 'ops@example.com');
    await j2.resolve(key(2), { compensated: true }, 'ops@example.com');
    const fn = vi.fn();
    const j3 = await t.restart();
    expect(await j3.run(key(0), { args: {} }, fn)).toEqual({ sent: true });
    await expect(j3.run(key(1), { args: {} }, fn)).rejects.toMatchObject({ failure: { name: 'Bounced' }, replayed: true });
    await expect(j3.run(key(2), { args: {} }, fn)).rejects.toBeInstanceOf(EffectCompensated);
    expect(fn).not.toHaveBeenCalled();
    expect(j3.inDoubt()).toEqual([]);
    expect(j3.verify()).toMatchObject({ ok: true });
    await expect(j3.resolve(key(0), { result: 1 }, 'ops')).rejects.toMatchObject({ code: 'EFFECT_NOT_IN_DOUBT' });
    await expect(j.resolve(key(9), { result: 1 }, 'ops')).rejects.toThrow();
  });
});

describe('EffectJournal.run: refusals', () => {
  it('refuses a key journaled with other arguments (a divergent replay) without calling', async () => {
    const t = journalIn();
    await t.journal.run(key(0), { args: { a: 1, b: 2 } }, () => 1);
    expect(await t.journal.run(key(0), { args: { b: 2, a: 1 } }, () => 2)).toBe(1); // canonical JSON: key order does not matter
    const fn = vi.fn();
    await expect(t.journal.run(key(0), { args: { a: 2, b: 2 } }, fn)).rejects.toMatchObject({ code: 'EFFECT_ARGS_MISMATCH', field: 'args' });
    expect(fn).not.toHaveBeenCalled();
  });

  it('refuses arguments that are not JSON data, naming where, and malformed keys; nothing is journaled', async () => {
    const t = journalIn();
    const fn = vi.fn();
    await expect(t.journal.run(key(0), { args: { when: new Date(0) } }, fn)).rejects.toMatchObject({ code: 'EFFECT_INVALID_ARGS', field: 'args.when' });
    await expect(t.journal.run(key(0), { args: [1, NaN] }, fn)).rejects.toMatchObject({ code: 'EFFECT_INVALID_ARGS', field: 'args[1]' });
    await expect(t.journal.run('shop/agent-1:0', { args: {} }, fn)).rejects.toMatchObject({ code: 'EFFECT_INVALID_KEY' });
    expect(fn).not.toHaveBeenCalled();
    expect(t.journal.verify()).toEqual({ ok: true, actors: 0, entries: 0 });
  });

  it('refuses an unknown durability', () => {
    const t = journalIn();
    expect(() => EffectJournal.open({ db: t.db, clock: t.clock, durability: 'eventually' as never })).toThrow(/durability/);
  });
});

describe('durability', () => {
  it("sync: the outcome is committed before run returns", async () => {
    const t = journalIn('sync');
    await t.journal.run(key(0), { args: {} }, () => 1);
    expect(t.raw().open.get(key(0))).toBeUndefined();
    expect(t.raw().keys.get(key(0))?.toString()).toBe('2');
  });

  it('async: run returns before the outcome commits; the journal still replays it, and flushed() makes it durable', async () => {
    const t = journalIn('async');
    const fn = vi.fn(() => 'r');
    await t.journal.run(key(0), { args: {} }, fn);
    expect(t.raw().open.get(key(0))).toBeDefined(); // outcome not committed yet
    expect(t.journal.lookup(key(0))).toEqual({ state: 'completed', attempt: 1 });
    expect(t.journal.inDoubt()).toEqual([]);
    expect(await t.journal.run(key(0), { args: {} }, fn)).toBe('r');
    await t.journal.flushed();
    expect(t.raw().open.get(key(0))).toBeUndefined();
    expect(await (await t.restart()).run(key(0), { args: {} }, fn)).toBe('r');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a call may override the journal default', async () => {
    const t = journalIn('async');
    await t.journal.run(key(0), { args: {}, durability: 'sync' }, () => 1);
    expect(t.raw().open.get(key(0))).toBeUndefined();
  });
});

describe('compaction', () => {
  async function turns(j: EffectJournal, from: number, to: number, actor = 'shop/agent-1'): Promise<void> {
    for (let turn = from; turn < to; turn++) {
      for (let call = 0; call < 2; call++) await j.run(key(turn, call, actor), { args: { turn, call } }, () => turn * 10 + call);
    }
  }

  it('drops entries of turns covered by a checkpoint; the rest replays and verifies from the anchor', async () => {
    const t = journalIn();
    await turns(t.journal, 0, 10);
    await turns(t.journal, 0, 3, 'other');
    const result = await t.journal.compact('shop/agent-1', 4);
    expect(result).toMatchObject({ dropped: 20, anchor: { seq: 20 }, compactedThrough: 4 });
    for (const restart of [false, true]) {
      const j = restart ? await t.restart() : t.journal;
      expect(j.verify()).toEqual({ ok: true, actors: 2, entries: 20 + 12 });
      expect(await j.run(key(7, 1), { args: { turn: 7, call: 1 } }, () => -1)).toBe(71);
      expect(await j.run(key(1, 0, 'other'), { args: { turn: 1, call: 0 } }, () => -1)).toBe(10);
    }
  });

  it('refuses to run a key of a compacted turn instead of running it again', async () => {
    const t = journalIn();
    await turns(t.journal, 0, 3);
    await t.journal.compact('shop/agent-1', 1);
    const fn = vi.fn();
    await expect((await t.restart()).run(key(0), { args: { turn: 0, call: 0 } }, fn)).rejects.toMatchObject({ code: 'EFFECT_COMPACTED' });
    await expect(t.journal.run(key(1, 5), { args: {} }, fn)).rejects.toMatchObject({ code: 'EFFECT_COMPACTED' });
    expect(fn).not.toHaveBeenCalled();
    expect(t.journal.lookup(key(0))).toEqual({ state: 'compacted' });
  });

  it('keeps a call in doubt, and everything after it, until it is settled', async () => {
    const t = journalIn();
    await turns(t.journal, 0, 2);
    await crashDuring(t, key(2), {});
    await turns(t.journal, 3, 5);
    expect(await t.journal.compact('shop/agent-1', 4)).toMatchObject({ dropped: 8, compactedThrough: 4 });
    expect(t.journal.inDoubt().map((c) => c.key)).toEqual([key(2)]);
    expect(await t.journal.run(key(3, 1), { args: { turn: 3, call: 1 } }, () => -1)).toBe(31);
    await t.journal.resolve(key(2), { compensated: true }, 'ops');
    expect(await t.journal.compact('shop/agent-1', 4)).toMatchObject({ dropped: 10 }); // the dispatch, turns 3-4, the compensation
    expect(t.journal.verify()).toEqual({ ok: true, actors: 1, entries: 0 });
  });

  it('keeps storage bounded over a long conversation', async () => {
    const t = journalIn('async');
    let most = 0;
    for (let turn = 0; turn < 300; turn++) {
      await t.journal.run(key(turn), { args: { turn } }, () => 'x'.repeat(200));
      if (turn % 10 === 9) {
        await t.journal.compact('shop/agent-1', turn - 5);
        most = Math.max(most, t.raw().entries.getCount(), t.raw().keys.getCount());
      }
    }
    expect(most).toBeLessThanOrEqual(30);
    expect(t.journal.verify()).toMatchObject({ ok: true });
  });
});

describe('corrupt records are StorageErrors naming the key, never a crash', () => {
  async function oneCall(): Promise<TempJournal> {
    const t = journalIn();
    await t.journal.run(key(0), { args: {} }, () => 'ok');
    return t;
  }

  it('garbage in an entry', async () => {
    const t = await oneCall();
    t.raw().entries.putSync(['shop/agent-1', 2], Buffer.from('garbage'));
    const fn = vi.fn();
    const err = await (await t.restart()).run(key(0), { args: {} }, fn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'EFFECT_CORRUPT', details: { key: key(0), db: 'effects-entries' } });
    expect((err as Error).message).toContain(key(0));
    expect(fn).not.toHaveBeenCalled();
  });

  it('garbage in the key index', async () => {
    const t = await oneCall();
    t.raw().keys.putSync(key(0), Buffer.from([0xff, 0x00]));
    await expect((await t.restart()).run(key(0), { args: {} }, vi.fn())).rejects.toMatchObject({ code: 'EFFECT_CORRUPT', details: { key: key(0), db: 'effects-keys' } });
  });

  it('a key index pointing at a missing entry', async () => {
    const t = await oneCall();
    t.raw().keys.putSync(key(0), Buffer.from('9'));
    await expect((await t.restart()).run(key(0), { args: {} }, vi.fn())).rejects.toMatchObject({ code: 'EFFECT_CORRUPT', details: { key: key(0) } });
  });

  it("garbage in an actor's head record, or a head record gone while its entries remain", async () => {
    const t = await oneCall();
    t.raw().actors.putSync('shop/agent-1', Buffer.from('{"head":'));
    const fn = vi.fn();
    await expect((await t.restart()).run(key(1), { args: {} }, fn)).rejects.toMatchObject({ code: 'EFFECT_CORRUPT', details: { key: 'shop/agent-1' } });
    t.raw().actors.removeSync('shop/agent-1');
    await expect((await t.restart()).run(key(1), { args: {} }, fn)).rejects.toMatchObject({ code: 'EFFECT_CORRUPT', message: expect.stringContaining('no head record') });
    expect(fn).not.toHaveBeenCalled();
  });

  it('garbage in the open-call index', async () => {
    const t = journalIn();
    const j = await crashDuring(t, key(0), {});
    t.raw().open.putSync(key(0), Buffer.from('x'));
    expect(() => j.inDoubt()).toThrow(expect.objectContaining({ code: 'EFFECT_CORRUPT', details: expect.objectContaining({ key: key(0) }) }));
    t.raw().open.putSync('ik1/not a key', Buffer.from('1'));
    t.raw().open.removeSync(key(0));
    expect(() => j.inDoubt()).toThrow(expect.objectContaining({ code: 'EFFECT_CORRUPT', details: expect.objectContaining({ key: 'ik1/not a key' }) }));
  });

  it('verify reports each of these instead of throwing', async () => {
    const t = await oneCall();
    t.raw().keys.putSync(key(0), Buffer.from([0xff]));
    expect(t.journal.verify()).toMatchObject({ ok: false, actor: 'shop/agent-1', key: key(0) });
    t.raw().actors.putSync('shop/agent-1', Buffer.from([1, 2, 3]));
    expect(t.journal.verify()).toMatchObject({ ok: false, actor: 'shop/agent-1', problem: expect.stringContaining('head record') });
  });
});
