import { createPublicKey, verify as edVerify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { AuditError, StorageError } from '../../../src/base/errors.js';
import {
  AUDIT_DBS,
  AuditCodes,
  AuditLog,
  tenantLeaves,
  treeHeadMessage,
  verifyConsistency,
  verifyInclusion,
  type AuditRecordInput,
  type NodeKeys,
  type SignedTreeHead,
} from '../../../src/kernel/audit/index.js';
import { loadOrCreateNodeKeys } from '../../../src/kernel/audit/keys.js';
import { referenceLeafHash, referenceRoot, tempLmdb, type TempLmdb } from './helpers.js';

let t: TempLmdb;
let keys: NodeKeys;
let clock: VirtualClock;
beforeEach(() => {
  t = tempLmdb();
  keys = loadOrCreateNodeKeys(t.dir);
  clock = new VirtualClock(1_716_000_000_000);
});
afterEach(async () => {
  await t.close();
});

const openLog = (signEvery?: number) => AuditLog.open({ db: t.db, keys, clock, nodeId: 'n1', signEvery });
const decision = (i: number): AuditRecordInput => ({
  kind: ['admission', 'policy', 'budget', 'binding', 'consent'][i % 5],
  decision: i % 3 === 0 ? 'denied' : 'allowed',
  actor: `agent-${i % 4}`,
  tenant: i % 2 === 0 ? 'acme' : undefined,
  subject: `tool-${i}`,
  hashes: { arguments: (i * 7919).toString(16).padStart(64, '0') },
  data: { turn: i },
});
const appendMany = (log: AuditLog, from: number, to: number) => {
  for (let i = from; i < to; i++) {
    clock.advance(1);
    log.append(decision(i));
  }
};
/** Checks a head the way an outside verifier would: raw key via SPKI, the documented 50-byte message. */
const independentlyValid = (head: SignedTreeHead) =>
  edVerify(
    null,
    treeHeadMessage(head.size, head.timestamp, Buffer.from(head.rootHash, 'hex')),
    createPublicKey({ key: Buffer.from('302a300506032b6570032100' + head.publicKey, 'hex'), format: 'der', type: 'spki' }),
    Buffer.from(head.signature, 'hex'),
  );

describe('AuditLog', () => {
  it('appends records whose leaf hash is SHA-256(0x00 || the exact leaf bytes)', async () => {
    const log = await openLog();
    const { index, leafHash } = log.append({ kind: 'admission', decision: 'admitted', actor: 'a1', hashes: { contract: 'c0ffee' } });
    expect(index).toBe(0);
    const [leaf] = log.leaves(0, 1);
    expect(referenceLeafHash(leaf)).toBe(leafHash);
    expect(log.record(0)).toEqual({
      v: 1, seq: 0, time: 1_716_000_000_000, node: 'n1', tenant: null, kind: 'admission', decision: 'admitted', actor: 'a1', hashes: { contract: 'c0ffee' },
    });
  });

  it('publishes a signed head anyone can check against the leaves', async () => {
    const log = await openLog();
    appendMany(log, 0, 37);
    const head = log.head();
    expect(head.size).toBe(37);
    expect(head.publicKey).toBe(keys.publicKeyHex);
    expect(head.timestamp).toBe(clock.now());
    expect(head.rootHash).toBe(referenceRoot(log.leaves(0, 37)).toString('hex'));
    expect(independentlyValid(head)).toBe(true);
  });

  it('serves records, leaves and proofs before they are committed', async () => {
    const log = await openLog();
    appendMany(log, 0, 5);
    expect(log.leaves(0, 5)).toHaveLength(5);
    expect(log.record(4).seq).toBe(4);
    const root = log.rootHash();
    expect(verifyInclusion(referenceLeafHash(log.leaves(3, 4)[0]), 3, 5, log.proveInclusion(3), root)).toBe(true);
    expect(log.verify()).toEqual({ ok: true, size: 5, signedSize: 0 });
    await log.flushed();
    expect(log.verify()).toEqual({ ok: true, size: 5, signedSize: 5 });
  });

  it('proves inclusion of every record and consistency between every pair of sizes', async () => {
    const log = await openLog();
    appendMany(log, 0, 21);
    await log.flushed();
    const leaves = log.leaves(0, 21);
    for (let n = 1; n <= 21; n++) {
      const root = referenceRoot(leaves.slice(0, n)).toString('hex');
      expect(log.rootHash(n)).toBe(root);
      for (let i = 0; i < n; i++) {
        expect(verifyInclusion(referenceLeafHash(leaves[i]), i, n, log.proveInclusion(i, n), root)).toBe(true);
      }
      for (let m = 1; m <= n; m++) {
        const r1 = referenceRoot(leaves.slice(0, m)).toString('hex');
        expect(verifyConsistency(m, n, r1, root, log.proveConsistency(m, n))).toBe(true);
      }
    }
  });

  it('proves an old head consistent with a new one', async () => {
    const log = await openLog();
    appendMany(log, 0, 13);
    const old = log.head();
    appendMany(log, 13, 40);
    const now = log.head();
    expect(verifyConsistency(old.size, now.size, old.rootHash, now.rootHash, log.proveConsistency(old.size, now.size))).toBe(true);
  });

  it('restores size, root, frontier and head after the LMDB environment is closed and reopened', async () => {
    const log = await openLog();
    appendMany(log, 0, 50);
    await log.flushed();
    const head = log.head();
    await t.reopen();
    const again = await openLog();
    expect(again.size).toBe(50);
    expect(again.rootHash()).toBe(head.rootHash);
    expect(again.head()).toEqual(head);
    appendMany(again, 50, 83); // only a correctly restored frontier gives the reference root now
    await again.flushed();
    const all = again.leaves(0, 83);
    expect(again.head().rootHash).toBe(referenceRoot(all).toString('hex'));
    expect(all.map((l, i) => JSON.parse(Buffer.from(l).toString()).seq === i).every(Boolean)).toBe(true);
    expect(again.verify()).toEqual({ ok: true, size: 83, signedSize: 83 });
  });

  it('signs lazily: no head until asked, then checkpoints every signEvery appends', async () => {
    const log = await openLog(10);
    const heads = t.db.openDB<SignedTreeHead, number>({ name: AUDIT_DBS.heads, encoding: 'json' });
    appendMany(log, 0, 9);
    await Promise.resolve();
    await log.flushed();
    expect([...heads.getKeys()]).toEqual([9]); // signed by flushed()
    appendMany(log, 9, 25); // the 10th append past the last checkpoint queues one signature
    await Promise.resolve();
    log.head();
    await log.flushed();
    expect([...heads.getKeys()]).toEqual([25]); // checkpoint at 25 replaced the unkept head at 9
    appendMany(log, 25, 27);
    log.head();
    appendMany(log, 27, 29);
    await log.flushed();
    expect([...heads.getKeys()]).toEqual([25, 29]); // the head at 27 was transient
    expect(log.verify()).toEqual({ ok: true, size: 29, signedSize: 29 });
  });

  it('filters leaves by tenant, keeping log indexes for proofs', async () => {
    const log = await openLog();
    appendMany(log, 0, 10);
    const acme = tenantLeaves(log, 'acme');
    expect(acme.map((e) => e.index)).toEqual([0, 2, 4, 6, 8]);
    expect(acme.every((e) => JSON.parse(Buffer.from(e.leaf).toString()).tenant === 'acme')).toBe(true);
    expect(tenantLeaves(log, null, 3, 8).map((e) => e.index)).toEqual([3, 5, 7]);
    const root = log.rootHash();
    for (const { index, leaf } of acme) expect(verifyInclusion(referenceLeafHash(leaf), index, 10, log.proveInclusion(index), root)).toBe(true);
  });

  it('an empty log verifies and signs the empty root', async () => {
    const log = await openLog();
    expect(log.verify()).toEqual({ ok: true, size: 0, signedSize: 0 });
    const head = log.head();
    expect(head.rootHash).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(independentlyValid(head)).toBe(true);
  });

  it('refuses out-of-range requests with AuditError codes', async () => {
    const log = await openLog();
    appendMany(log, 0, 4);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(AuditError);
        return (err as AuditError).code;
      }
      return 'no error';
    };
    expect(code(() => log.leaves(2, 5))).toBe(AuditCodes.outOfRange);
    expect(code(() => log.leaves(3, 2))).toBe(AuditCodes.outOfRange);
    expect(code(() => log.record(4))).toBe(AuditCodes.outOfRange);
    expect(code(() => log.proveInclusion(4))).toBe(AuditCodes.outOfRange);
    expect(code(() => log.proveInclusion(0, 5))).toBe(AuditCodes.outOfRange);
    expect(code(() => log.proveConsistency(0, 4))).toBe(AuditCodes.outOfRange);
    expect(code(() => log.proveConsistency(3, 2))).toBe(AuditCodes.outOfRange);
    expect(code(() => log.append({ kind: 'policy' } as AuditRecordInput))).toBe(AuditCodes.invalidRecord);
    expect(log.size).toBe(4); // a refused record is not appended
  });

  it('refuses appends after reopening storage that lost signed records, but still verifies and serves reads', async () => {
    const log = await openLog();
    appendMany(log, 0, 12);
    await log.flushed();
    const leaves = t.db.openDB<Buffer, number>({ name: AUDIT_DBS.leaves, encoding: 'binary' });
    for (let i = 9; i < 12; i++) leaves.removeSync(i);
    const reopened = await openLog();
    expect(reopened.size).toBe(9);
    expect(() => reopened.append(decision(9))).toThrow(/latest signed head covers 12/);
    expect(reopened.verify()).toMatchObject({ ok: false, index: 9, headSize: 12 });
    expect(reopened.record(8).seq).toBe(8);
  });

  it('refuses appends after reopening storage whose records no longer hash to the signed root', async () => {
    const log = await openLog();
    appendMany(log, 0, 8);
    await log.flushed();
    const hashes = t.db.openDB<Buffer, number>({ name: AUDIT_DBS.hashes, encoding: 'binary' });
    const h = hashes.get(7)!;
    h[h.length - 1] ^= 1; // the level-3 hash: the root of all 8 records
    hashes.putSync(7, h);
    const reopened = await openLog();
    expect(() => reopened.append(decision(8))).toThrow(StorageError);
    expect(reopened.verify()).toMatchObject({ ok: false, index: 0 });
  });

  it('fails closed once LMDB rejects a write: flushed() rejects and appends are refused', async () => {
    let failing = false;
    // The real environment, except that writes can be made to fail the way a full disk fails them.
    const db = {
      openDB: (opts: { name: string; encoding: string }) => {
        const real = t.db.openDB(opts as never);
        return new Proxy(real, {
          get(target, prop) {
            if (prop === 'put' && failing) return () => Promise.reject(new Error('MDB_MAP_FULL'));
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    const log = await AuditLog.open({ db: db as never, keys, clock, nodeId: 'n1' });
    appendMany(log, 0, 3);
    await log.flushed();
    failing = true;
    log.append(decision(3));
    const err = await log.flushed().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe(AuditCodes.writeFailed);
    expect(() => log.append(decision(4))).toThrow(StorageError);
  });
});

describe('AuditLog and a closing environment', () => {
  it('closing LMDB with appends still queued neither throws from a timer nor writes into the closing env; the log then fails closed', async () => {
    const log = await openLog();
    appendMany(log, 0, 5);
    await t.db.close(); // without flushed(): the queued batch must not be written into a closing env
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r)); // an uncaught throw here fails the run
    expect(() => log.append(decision(5))).toThrow(StorageError);
    t.db = (await import('lmdb')).open({ path: `${t.dir}/db` }); // so afterEach can close it again
  });
});
