// Tampering is done the way an intruder with file access would do it: raw writes
// into the LMDB sub-databases. verify() must catch every one and say where, both in
// the running log and in a log reopened from the tampered storage.

import fc from 'fast-check';
import type { Database, RootDatabase } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { AUDIT_DBS, AuditLog, MerkleFrontier, generateNodeKeys, leafHash, type SignedTreeHead, type VerifyResult } from '../../../src/kernel/audit/index.js';
import { tempLmdb } from './helpers.js';

const keys = generateNodeKeys();
const RUNS = 30;

interface Raw {
  leaves: Database<Buffer, number>;
  hashes: Database<Buffer, number>;
  heads: Database<SignedTreeHead, number>;
}
const raw = (db: RootDatabase): Raw => ({
  leaves: db.openDB<Buffer, number>({ name: AUDIT_DBS.leaves, encoding: 'binary' }),
  hashes: db.openDB<Buffer, number>({ name: AUDIT_DBS.hashes, encoding: 'binary' }),
  heads: db.openDB<SignedTreeHead, number>({ name: AUDIT_DBS.heads, encoding: 'json' }),
});

/**
 * Build a log of n records (heads kept every `signEvery`), let `tamper` edit storage,
 * then hand the verdicts of the running log and of a freshly reopened one to `check`.
 */
async function tampered(n: number, signEvery: number, tamper: (r: Raw) => void, check: (result: VerifyResult) => void): Promise<void> {
  const t = tempLmdb('agentos-tamper-');
  try {
    const clock = new VirtualClock(1000);
    const log = await AuditLog.open({ db: t.db, keys, clock, nodeId: 'n1', signEvery });
    for (let i = 0; i < n; i++) {
      clock.advance(3);
      log.append({ kind: 'policy', decision: i % 2 ? 'allowed' : 'denied', actor: `a${i % 3}`, tenant: 'acme', data: { i } });
      if (i % signEvery === signEvery - 1) await Promise.resolve(); // let the checkpoint signature run
    }
    await log.flushed();
    expect(log.verify()).toMatchObject({ ok: true, size: n });
    tamper(raw(t.db));
    check(log.verify());
    const reopened = await AuditLog.open({ db: t.db, keys, clock, nodeId: 'n1', signEvery });
    check(reopened.verify());
  } finally {
    await t.close();
  }
}

function rebuildFrontier(r: Raw, n: number): MerkleFrontier {
  const f = new MerkleFrontier();
  for (let i = 0; i < n; i++) f.append(leafHash(r.leaves.get(i)!));
  return f;
}

const sizes = fc.integer({ min: 2, max: 48 });
const signEvery = fc.integer({ min: 1, max: 16 });

describe('verify() detects tampering and says where', { timeout: 120_000 }, () => {
  it('flipping any byte of a stored leaf is reported at that leaf', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (n, every, a, b, mask) => {
        const i = a % n;
        await tampered(
          n,
          every,
          (r) => {
            const leaf = r.leaves.get(i)!;
            leaf[b % leaf.length] ^= mask;
            r.leaves.putSync(i, leaf);
          },
          (res) => expect(res).toMatchObject({ ok: false, index: i, problem: expect.stringMatching(/altered|reordered/) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('deleting a leaf is reported at that leaf', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), async (n, every, a) => {
        const i = a % n;
        await tampered(
          n,
          every,
          (r) => r.leaves.removeSync(i),
          (res) => expect(res).toMatchObject({ ok: false, index: i, problem: expect.stringMatching(/missing/) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('swapping two leaves is reported at the first of them', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), fc.nat(), async (n, every, a, b) => {
        const i = a % (n - 1);
        const j = i + 1 + (b % (n - 1 - i));
        await tampered(
          n,
          every,
          (r) => {
            const li = r.leaves.get(i)!;
            const lj = r.leaves.get(j)!;
            r.leaves.putSync(i, lj);
            r.leaves.putSync(j, li);
          },
          (res) => expect(res).toMatchObject({ ok: false, index: i, problem: expect.stringMatching(`holds record seq ${j}`) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('swapping two leaves together with their stored hashes is still caught at the first', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), fc.nat(), async (n, every, a, b) => {
        const i = a % (n - 1);
        const j = i + 1 + (b % (n - 1 - i));
        await tampered(
          n,
          every,
          (r) => {
            const [li, lj] = [r.leaves.get(i)!, r.leaves.get(j)!];
            const [hi, hj] = [r.hashes.get(i)!, r.hashes.get(j)!];
            r.leaves.putSync(i, lj);
            r.leaves.putSync(j, li);
            r.hashes.putSync(i, Buffer.concat([leafHash(lj), hi.subarray(32)]));
            r.hashes.putSync(j, Buffer.concat([leafHash(li), hj.subarray(32)]));
          },
          (res) => expect(res).toMatchObject({ ok: false, index: i, problem: expect.stringMatching(`holds record seq ${j}`) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('truncating the log (with or without its hashes) is reported at the first record removed', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), fc.boolean(), async (n, every, a, withHashes) => {
        const k = a % n;
        await tampered(
          n,
          every,
          (r) => {
            for (let i = k; i < n; i++) {
              r.leaves.removeSync(i);
              if (withHashes) r.hashes.removeSync(i);
            }
          },
          (res) => expect(res).toMatchObject({ ok: false, index: k, problem: expect.stringMatching(/missing/) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('replacing the signature of any stored tree head is reported at that head', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), fc.uint8Array({ minLength: 64, maxLength: 64 }), async (n, every, a, forged) => {
        let expectedHead = -1;
        await tampered(
          n,
          every,
          (r) => {
            const sizesStored = [...r.heads.getKeys()];
            const at = sizesStored[a % sizesStored.length];
            const head = r.heads.get(at)!;
            const signature = Buffer.from(forged).toString('hex');
            fc.pre(signature !== head.signature);
            r.heads.putSync(at, { ...head, signature });
            expectedHead = at;
          },
          (res) => expect(res).toEqual({ ok: false, headSize: expectedHead, problem: expect.stringMatching(/signature/) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('corrupting a stored subtree hash is reported at the first record of that subtree', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), fc.nat(), async (n, every, a, b) => {
        const i = a % n;
        let first = i;
        await tampered(
          n,
          every,
          (r) => {
            const h = r.hashes.get(i)!;
            const level = b % (h.length / 32);
            h[level * 32 + (b % 32)] ^= 0x80;
            r.hashes.putSync(i, h);
            first = i + 1 - 2 ** level;
          },
          (res) => expect(res).toMatchObject({ ok: false, index: first }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('rewriting a record and its leaf hash consistently is caught within the covering subtree', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, fc.nat(), async (n, every, a) => {
        const i = a % n;
        await tampered(
          n,
          every,
          (r) => {
            const forged = Buffer.from(r.leaves.get(i)!.toString().replace(/"decision":"\w+"/, '"decision":"forged"'));
            const h = r.hashes.get(i)!;
            r.leaves.putSync(i, forged);
            r.hashes.putSync(i, Buffer.concat([leafHash(forged), h.subarray(32)]));
          },
          (res) => {
            expect(res.ok).toBe(false);
            if (res.ok) return;
            // Caught by the next stored subtree hash above leaf i, or by the first signed head covering it.
            expect(res.index).toBeLessThanOrEqual(i);
            expect(res.problem).toMatch(/does not match the records|signs root/);
          },
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('a record slipped in behind the running log is reported; once reopened it shows as unsigned', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, signEvery, async (n, every) => {
        const forged = Buffer.from(`{"decision":"allowed","kind":"policy","node":"n1","seq":${n},"tenant":"acme","time":9,"v":1}`);
        let phase = 0;
        await tampered(
          n,
          every,
          (r) => {
            const stack = rebuildFrontier(r, n);
            r.hashes.putSync(n, stack.append(leafHash(forged)));
            r.leaves.putSync(n, forged);
          },
          (res) => {
            // The running log knows its size; a reopened one can only tell the intruder's record is not signed.
            if (phase++ === 0) expect(res).toMatchObject({ ok: false, index: n, problem: expect.stringMatching(/never appended/) });
            else expect(res).toEqual({ ok: true, size: n + 1, signedSize: n });
          },
        );
      }),
      { numRuns: 15 },
    );
  });

  it('an untampered log verifies after any number of reopen-and-append rounds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 4 }), signEvery, async (rounds, every) => {
        const t = tempLmdb('agentos-rounds-');
        try {
          const clock = new VirtualClock(0);
          let total = 0;
          for (const count of rounds) {
            const log = await AuditLog.open({ db: t.db, keys, clock, nodeId: 'n1', signEvery: every });
            expect(log.size).toBe(total);
            for (let i = 0; i < count; i++) log.append({ kind: 'binding', decision: 'bound', subject: `s${total + i}` });
            total += count;
            await log.flushed();
            expect(log.verify()).toEqual({ ok: true, size: total, signedSize: total });
            await t.reopen();
          }
        } finally {
          await t.close();
        }
      }),
      { numRuns: 20 },
    );
  });
});
