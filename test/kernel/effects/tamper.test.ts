// Tampering is done the way an intruder with file access would do it: raw writes into
// the journal's LMDB sub-databases. verify() must catch each one and say where; after
// every check the original bytes go back and the journal must verify clean again.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../../src/base/errors.js';
import { idempotencyKey, type EffectJournal } from '../../../src/kernel/effects/index.js';
import { decodeEntry, encodeEntry, type Entry } from '../../../src/kernel/effects/record.js';
import { dieMidCall, started, tempJournal, type Raw, type TempJournal } from './helpers.js';

const ACTORS = ['a', 'b/c', 'd'];
let t: TempJournal;
let raw: Raw;
/** Every stored entry, by actor, in chain order. */
const chains = new Map<string, Array<{ seq: number; bytes: Buffer; entry: Entry }>>();

beforeAll(async () => {
  t = tempJournal();
  for (const actor of ACTORS) {
    for (let turn = 0; turn < 4; turn++) {
      for (let call = 0; call < 2; call++) {
        const key = idempotencyKey({ actor, turn, call });
        await t.journal.run(key, { args: { turn, call } }, () => (call === 1 && turn === 2 ? Promise.reject(new Error('no')) : { turn, call })).catch(() => undefined);
      }
    }
    const s = started();
    void t.journal.run(idempotencyKey({ actor, turn: 4, call: 0 }), { args: {} }, dieMidCall(s.signal));
    await s.wait;
  }
  await t.restart();
  raw = t.raw();
  for (const [actor, seq] of raw.entries.getKeys() as Iterable<[string, number]>) {
    const bytes = raw.entries.get([actor, seq])!;
    const entry = decodeEntry(bytes) as Entry;
    if (!chains.has(actor)) chains.set(actor, []);
    chains.get(actor)!.push({ seq, bytes, entry });
  }
});
afterAll(() => t.close());

const journal = (): EffectJournal => t.journal;
const anyEntry = fc.tuple(fc.constantFrom(...ACTORS), fc.nat()).map(([actor, n]) => {
  const chain = chains.get(actor)!;
  return { actor, ...chain[n % chain.length] };
});

/** Apply a raw edit, check, and put everything back the way it was. */
function tampered(edit: () => void, check: () => void): void {
  const saved = { entries: snapshot(raw.entries), keys: snapshot(raw.keys), open: snapshot(raw.open), actors: snapshot(raw.actors) };
  try {
    edit();
    check();
  } finally {
    for (const [name, rows] of Object.entries(saved)) {
      const db = raw[name as keyof Raw] as Raw['keys'];
      db.transactionSync(() => {
        for (const k of db.getKeys()) db.removeSync(k);
        for (const [k, v] of rows) db.putSync(k as string, v);
      });
    }
  }
  expect(journal().verify()).toMatchObject({ ok: true });
}

function snapshot(db: Raw['keys'] | Raw['entries']): Array<[unknown, Buffer]> {
  return [...(db as Raw['keys']).getRange()].map(({ key, value }) => [key, Buffer.from(value)]);
}

describe('verify() finds tampering and names the entry', () => {
  it('the untouched journal verifies', () => {
    expect(journal().verify()).toEqual({ ok: true, actors: 3, entries: 3 * (8 * 2 + 1) });
  });

  it('flipping any bit of any entry is reported at that entry, and replaying its key is a StorageError', async () => {
    let replays = 0;
    await fc.assert(
      fc.asyncProperty(anyEntry, fc.nat(), fc.integer({ min: 1, max: 255 }), async ({ actor, seq, bytes, entry }, at, mask) => {
        const altered = Buffer.from(bytes);
        altered[at % altered.length] ^= mask;
        let replay: unknown;
        tampered(
          () => raw.entries.putSync([actor, seq], altered),
          () => {
            expect(journal().verify()).toMatchObject({ ok: false, actor, seq });
            expect(journal().verify(actor)).toMatchObject({ ok: false, actor, seq });
            const latest = Number(raw.keys.get(entry.header.key)!.toString());
            if (latest === seq) replay = journal().run(entry.header.key, { args: {} }, () => 'must not run').catch((e: unknown) => e);
          },
        );
        if (replay !== undefined) {
          expect(await replay).toBeInstanceOf(StorageError);
          replays++;
        }
      }),
      { numRuns: 200 },
    );
    expect(replays).toBeGreaterThan(0);
  });

  it('removing an entry is reported where the gap is; removing the last is a truncation', () => {
    fc.assert(
      fc.property(anyEntry, ({ actor, seq }) => {
        const last = chains.get(actor)!.length;
        tampered(
          () => raw.entries.removeSync([actor, seq]),
          () => {
            const problem = seq === last ? /truncated/ : new RegExp(`entry ${seq} is missing`);
            expect(journal().verify()).toMatchObject({ ok: false, actor, seq, problem: expect.stringMatching(problem) });
          },
        );
      }),
      { numRuns: 40 },
    );
  });

  it('swapping two entries is reported at the first as reordered', () => {
    fc.assert(
      fc.property(anyEntry, fc.nat(), ({ actor, seq, bytes }, n) => {
        const chain = chains.get(actor)!;
        const other = chain[n % chain.length];
        fc.pre(other.seq !== seq);
        tampered(
          () => {
            raw.entries.putSync([actor, seq], other.bytes);
            raw.entries.putSync([actor, other.seq], bytes);
          },
          () => expect(journal().verify()).toMatchObject({ ok: false, actor, seq: Math.min(seq, other.seq), problem: expect.stringMatching(/reordered/) }),
        );
      }),
      { numRuns: 40 },
    );
  });

  it("an entry forged with a valid hash of its own breaks the next entry's link, or the head's", () => {
    fc.assert(
      fc.property(anyEntry, ({ actor, seq, entry }) => {
        const { payload: _p, ...header } = entry.header;
        const forged = encodeEntry({ ...header, at: header.at + 1 }, entry.payload).bytes;
        const last = chains.get(actor)!.length;
        tampered(
          () => raw.entries.putSync([actor, seq], Buffer.from(forged)),
          () =>
            expect(journal().verify()).toMatchObject(
              seq === last ? { ok: false, actor, seq, problem: expect.stringMatching(/head record/) } : { ok: false, actor, seq: seq + 1, problem: expect.stringMatching(/does not follow/) },
            ),
        );
      }),
      { numRuns: 30 },
    );
  });

  it("another actor's entry copied into a chain is reported as moved", () => {
    const [from] = chains.get('a')!;
    tampered(
      () => raw.entries.putSync(['d', 1], from.bytes),
      () => expect(journal().verify()).toMatchObject({ ok: false, actor: 'd', seq: 1, key: from.entry.header.key, problem: expect.stringMatching(/moved/) }),
    );
  });

  it('an entry appended past the head, or a head record rolled back, is reported', () => {
    const chain = chains.get('b/c')!;
    const last = chain[chain.length - 1];
    const { payload: _p, ...header } = last.entry.header;
    const extra = encodeEntry({ ...header, seq: last.seq + 1, prev: last.entry.hash }, last.entry.payload).bytes;
    tampered(
      () => raw.entries.putSync(['b/c', last.seq + 1], Buffer.from(extra)),
      () => expect(journal().verify('b/c')).toMatchObject({ ok: false, actor: 'b/c', seq: last.seq + 1, problem: expect.stringMatching(/past the head/) }),
    );
  });

  it('deleting a whole chain but its head record is a truncation; deleting the head record is reported too', () => {
    tampered(
      () => {
        for (const { seq } of chains.get('a')!) raw.entries.removeSync(['a', seq]);
      },
      () => expect(journal().verify()).toMatchObject({ ok: false, actor: 'a', seq: 1, problem: expect.stringMatching(/truncated/) }),
    );
    tampered(
      () => raw.actors.removeSync('d'),
      () => expect(journal().verify()).toMatchObject({ ok: false, actor: 'd', problem: expect.stringMatching(/head record is missing/) }),
    );
  });

  it('indexes that disagree with the chain are reported with the key', () => {
    const k = idempotencyKey({ actor: 'a', turn: 1, call: 0 });
    const doubt = idempotencyKey({ actor: 'a', turn: 4, call: 0 });
    tampered(
      () => raw.keys.putSync(k, Buffer.from('1')),
      () => expect(journal().verify()).toMatchObject({ ok: false, actor: 'a', key: k, problem: expect.stringMatching(/key index/) }),
    );
    tampered(
      () => raw.open.removeSync(doubt),
      () => expect(journal().verify()).toMatchObject({ ok: false, actor: 'a', key: doubt, problem: expect.stringMatching(/open-call index omits/) }),
    );
    tampered(
      () => raw.open.putSync(k, Buffer.from('4')),
      () => expect(journal().verify()).toMatchObject({ ok: false, actor: 'a', key: k, problem: expect.stringMatching(/open-call index lists/) }),
    );
    const stray = idempotencyKey({ actor: 'a', turn: 9, call: 0 });
    tampered(
      () => raw.keys.putSync(stray, Buffer.from('3')),
      () => expect(journal().verify()).toMatchObject({ ok: false, actor: 'a', key: stray, problem: expect.stringMatching(/no entry in the chain/) }),
    );
  });

  it('verify(actor) checks that actor alone', () => {
    tampered(
      () => raw.entries.removeSync(['a', 3]),
      () => {
        expect(journal().verify('d')).toMatchObject({ ok: true, actors: 1 });
        expect(journal().verify('a')).toMatchObject({ ok: false, actor: 'a', seq: 3 });
      },
    );
  });
});

describe('after compaction', () => {
  it('the chain verifies from its anchor, and an altered anchor is reported', async () => {
    const c = tempJournal();
    try {
      for (let turn = 0; turn < 6; turn++) await c.journal.run(idempotencyKey({ actor: 'x', turn, call: 0 }), { args: {} }, () => turn);
      const { anchor } = await c.journal.compact('x', 2);
      expect(anchor.seq).toBe(6);
      expect(c.journal.verify()).toEqual({ ok: true, actors: 1, entries: 6 });
      const r = c.raw();
      const meta = JSON.parse(r.actors.get('x')!.toString());
      r.actors.putSync('x', Buffer.from(JSON.stringify({ ...meta, anchor: { seq: 6, hash: '0'.repeat(64) } })));
      expect(c.journal.verify()).toMatchObject({ ok: false, actor: 'x', seq: 7, problem: expect.stringMatching(/anchor/) });
      r.actors.putSync('x', Buffer.from(JSON.stringify({ ...meta, anchor: { seq: 4, hash: anchor.hash } })));
      expect(c.journal.verify()).toMatchObject({ ok: false, actor: 'x', seq: 5, problem: expect.stringMatching(/missing/) });
    } finally {
      await c.close();
    }
  });
});
