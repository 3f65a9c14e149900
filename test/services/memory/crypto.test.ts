import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DerivedKeyring, loadOrCreateMasterKey, MASTER_KEY_FILE, StaticKeyring } from '../../../src/services/memory/keyring.js';
import { scopeId, tailKey, Table } from '../../../src/services/memory/keys.js';
import { openRecord, RECORD_HEADER_BYTES, sealingScope, sealRecord } from '../../../src/services/memory/record.js';
import { tempDir } from '../../support/tmp.js';
import { openMemory, rawExpiry, rawRecords, type TestMemory } from './helpers.js';

const keyring = new DerivedKeyring(Buffer.alloc(32, 1));
const scopeOf = (tenant: string, namespace = 'ns') => sealingScope({ tenant, namespace }, scopeId({ tenant, namespace }), keyring.keyFor(tenant));

describe('keyrings', () => {
  it('derives one stable key per tenant from the master key, different for every tenant and master', () => {
    const again = new DerivedKeyring(Buffer.alloc(32, 1));
    expect(keyring.keyFor('acme').key.equals(again.keyFor('acme').key)).toBe(true);
    expect(keyring.keyFor('acme').key.equals(keyring.keyFor('globex').key)).toBe(false);
    expect(new DerivedKeyring(Buffer.alloc(32, 2)).keyFor('acme').key.equals(keyring.keyFor('acme').key)).toBe(false);
    // Length-prefixed info: no two tenant names derive the same key by concatenation tricks.
    expect(keyring.keyFor('ab').key.equals(keyring.keyFor('a\u0002b').key)).toBe(false);
  });

  it('a caller-held keyring knows exactly its tenants', () => {
    const ring = new StaticKeyring({ acme: Buffer.alloc(32, 9) });
    expect(ring.keyFor('acme').key).toEqual(Buffer.alloc(32, 9));
    expect(() => ring.keyFor('globex')).toThrow(expect.objectContaining({ code: 'MEMORY_NO_KEY', field: 'tenant' }));
    expect(() => new StaticKeyring({ acme: Buffer.alloc(16) })).toThrow(expect.objectContaining({ code: 'MEMORY_INVALID_ARGS' }));
  });

  describe('master key file', () => {
    let tmp: ReturnType<typeof tempDir>;
    beforeEach(() => (tmp = tempDir()));
    afterEach(() => tmp.cleanup());

    it('is created once with mode 0600 and read back the same', () => {
      const a = loadOrCreateMasterKey(tmp.dir);
      expect(statSync(join(tmp.dir, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
      expect(loadOrCreateMasterKey(tmp.dir).equals(a)).toBe(true);
      expect(a).toHaveLength(32);
    });

    it('is refused when others may read it, or when it is not a key', () => {
      loadOrCreateMasterKey(tmp.dir);
      chmodSync(join(tmp.dir, MASTER_KEY_FILE), 0o644);
      expect(() => loadOrCreateMasterKey(tmp.dir)).toThrow(expect.objectContaining({ code: 'MEMORY_UNSAFE_KEY', field: 'dataDir' }));
      writeFileSync(join(tmp.dir, MASTER_KEY_FILE), 'short', { mode: 0o600 });
      chmodSync(join(tmp.dir, MASTER_KEY_FILE), 0o600);
      expect(() => loadOrCreateMasterKey(tmp.dir)).toThrow(expect.objectContaining({ code: 'MEMORY_UNSAFE_KEY' }));
    });
  });
});

describe('sealed records', () => {
  const a = scopeOf('acme');
  const key = tailKey(a.id, Table.kv, Buffer.from('k'));

  it('round-trip their payload and expiry', () => {
    const bytes = sealRecord(a, key, { secret: 'blue', n: [1, 2] }, 12345);
    expect(openRecord(a, key, bytes)).toEqual({ payload: { secret: 'blue', n: [1, 2] }, expiresAt: 12345 });
    expect(bytes.includes(Buffer.from('blue'))).toBe(false);
  });

  it('sealed for another tenant or namespace: MEMORY_CROSS_TENANT, nothing returned', () => {
    const bytes = sealRecord(scopeOf('globex'), tailKey(scopeOf('globex').id, Table.kv, Buffer.from('k')), 'theirs', 0);
    expect(() => openRecord(a, key, bytes)).toThrow(expect.objectContaining({ code: 'MEMORY_CROSS_TENANT' }));
    const otherNs = scopeOf('acme', 'other');
    expect(() => openRecord(a, key, sealRecord(otherNs, tailKey(otherNs.id, Table.kv, Buffer.from('k')), 'x', 0))).toThrow(expect.objectContaining({ code: 'MEMORY_CROSS_TENANT' }));
  });

  it('moved to another key of the same scope, or with its expiry pushed back: MEMORY_CORRUPT', () => {
    const bytes = sealRecord(a, key, 'v', 5000);
    expect(() => openRecord(a, tailKey(a.id, Table.kv, Buffer.from('other')), bytes)).toThrow(expect.objectContaining({ code: 'MEMORY_CORRUPT' }));
    const extended = Buffer.from(bytes);
    extended.writeBigUInt64BE(0n, 9); // "never expires"
    expect(() => openRecord(a, key, extended)).toThrow(expect.objectContaining({ code: 'MEMORY_CORRUPT' }));
  });

  it('property: flipping any bit of a record makes it unreadable (typed error), never different data', () => {
    const bytes = sealRecord(a, key, { v: 'payload' }, 777);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length * 8 - 1 }), (bit) => {
        const bad = Buffer.from(bytes);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        let code: string | undefined;
        try {
          openRecord(a, key, bad);
        } catch (err) {
          code = (err as { code: string }).code;
        }
        return code === 'MEMORY_CORRUPT' || code === 'MEMORY_CROSS_TENANT';
      }),
      { numRuns: 400 },
    );
    expect(RECORD_HEADER_BYTES).toBe(45);
  });
});

describe('encryption at rest in LMDB', () => {
  let t: TestMemory;
  beforeEach(() => (t = openMemory()));
  afterEach(() => t.close());

  it('no stored byte string contains the plaintext of a value, entry, chunk, metadata, or even a key, stream or source name', async () => {
    const m = t.memory.scope({ tenant: 'acme', namespace: 'notes' });
    await m.kv.put('PLAINTEXT-KEY-NAME', 'PLAINTEXT-KV-SECRET');
    await m.log.append('PLAINTEXT-STREAM', { said: 'PLAINTEXT-LOG-SECRET' }, { idempotencyKey: 'PLAINTEXT-IDEMPOTENCY' });
    await m.vectors.upsert([{ id: 'PLAINTEXT-VECTOR-ID', vector: (await m.embed(['vault key']))[0]! }]);
    await m.rag.ingest({ sourceId: 'PLAINTEXT-SOURCE-ID', text: 'The PLAINTEXT-DOC-SECRET is kept in the vault.', metadata: { title: 'PLAINTEXT-META-SECRET' } });
    const all = Buffer.concat(rawRecords(t.db).flatMap((r) => [r.key, r.value]));
    expect(all.length).toBeGreaterThan(0);
    const dump = Buffer.concat([all, ...rawExpiry(t.db)]);
    for (const s of ['PLAINTEXT', 'acme', 'notes']) {
      expect(dump.includes(Buffer.from(s)), s).toBe(false);
    }
  });
});
