// Tenant isolation is a property of the store, not a convention: whatever keys,
// streams, ids, namespaces or tenant names are chosen, a read in one scope never
// returns another scope's data, and another scope's references and raw records
// are refused as MEMORY_CROSS_TENANT without revealing anything.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table, tailKey } from '../../../src/services/memory/keys.js';
import { HashingEmbedder } from '../../../src/services/memory/embedder.js';
import { codeOf, openMemory, type TestMemory } from './helpers.js';

let t: TestMemory;
beforeAll(() => (t = openMemory({ embedder: new HashingEmbedder({ dimension: 32 }) })));
afterAll(() => t.close());

const tenantArb = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), fc.constantFrom('acme', 'acme\u0000', 'acm', 'e', 'ACME', 'acme/x'));
const nsArb = fc.oneof(fc.constantFrom('shared', 'shared/sub', 'shared.sub', 'x'), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,6}([./:][a-z0-9][a-z0-9_-]{0,6}){0,2}$/));
const nameArb = fc.oneof(fc.string({ minLength: 1, maxLength: 24 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), fc.constantFrom('k', 'k\u0000', '\u0000', '../k', 'acme', '%', '\uffff'));
const scopes = fc.tuple(fc.uniqueArray(tenantArb, { minLength: 2, maxLength: 2 }), nsArb, nsArb, fc.boolean()).map(([[a, b], nsA, nsB, same]) => ({
  a: { tenant: a!, namespace: nsA },
  b: { tenant: b!, namespace: same ? nsA : nsB },
}));

const WORDS = ['vault', 'ledger', 'patient', 'invoice', 'router', 'garden', 'orbit', 'violin'];

describe('tenant isolation', () => {
  it('property: no read, listing, range, search, retrieval or reference in tenant A returns tenant B’s data', async () => {
    await fc.assert(
      fc.asyncProperty(scopes, fc.uniqueArray(nameArb, { minLength: 1, maxLength: 5 }), fc.uniqueArray(nameArb, { minLength: 1, maxLength: 5 }), async ({ a, b }, namesA, namesB) => {
        const A = t.memory.scope(a);
        const B = t.memory.scope(b);
        const ownerA = JSON.stringify(a);
        const ownerB = JSON.stringify(b);
        for (const [m, owner, names] of [[A, ownerA, namesA], [B, ownerB, namesB]] as const) {
          for (const [i, n] of names.entries()) {
            await m.kv.put(n, { owner });
            await m.log.append(n, { owner });
            await m.vectors.upsert([{ id: n, vector: (await m.embed([`${WORDS[i % WORDS.length]} ${owner}`]))[0]!, metadata: { owner } }]);
          }
          await m.rag.ingest({ sourceId: names[0]!, text: `The ${WORDS.join(' ')} record belongs to ${owner}.`, metadata: { owner } });
        }
        const probe = [...namesA, ...namesB];
        for (const n of probe) {
          const got = A.kv.get(n);
          if (got) expect(got.value).toEqual({ owner: ownerA });
          for (const e of A.log.read(n)) expect(e.entry).toEqual({ owner: ownerA });
          const v = A.vectors.get(n);
          if (v) expect(v.metadata).toEqual({ owner: ownerA });
        }
        for (const e of A.kv.list({ limit: 1000 })) expect(e.value).toEqual({ owner: ownerA });
        const query = (await A.embed([WORDS.join(' ')]))[0]!;
        for (const h of A.vectors.search(query, { k: 1000, withMetadata: true })) expect(h.metadata).toEqual({ owner: ownerA });
        const retrieved = await A.rag.retrieve(`${WORDS.join(' ')} record`, { topK: 50 });
        for (const p of retrieved.passages) expect(p.text).toContain(ownerA);
        // B's citations are refused in A before any lookup.
        const fromB = await B.rag.retrieve(`${WORDS.join(' ')} record`, { topK: 5 });
        expect(fromB.passages.length).toBeGreaterThan(0);
        for (const p of fromB.passages) expect(await codeOf(() => A.rag.passage(p.ref))).toBe('MEMORY_CROSS_TENANT');
      }),
      { numRuns: 40 },
    );
  });

  it('a ciphertext copied under another tenant’s key is refused as MEMORY_CROSS_TENANT, and nothing of it is returned', async () => {
    const A = t.memory.scope({ tenant: 'copy-a', namespace: 'n' });
    const B = t.memory.scope({ tenant: 'copy-b', namespace: 'n' });
    await A.kv.put('target', 'mine');
    await B.kv.put('secret', 'THEIRS');
    const records = t.db.openDB<Buffer, Buffer>({ name: 'memory-records', encoding: 'binary', keyEncoding: 'binary' });
    const bKey = tailKey(B.scope.id, Table.kv, B.scope.blind('secret', 'key'));
    const aKey = tailKey(A.scope.id, Table.kv, A.scope.blind('target', 'key'));
    await records.put(aKey, records.get(bKey)!);
    let err: unknown;
    try {
      A.kv.get('target');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'MEMORY_CROSS_TENANT' });
    expect(JSON.stringify(err)).not.toContain('THEIRS');
    // A planted record is damage to report, not something to skip: the listing refuses too.
    expect(() => A.kv.list()).toThrow(expect.objectContaining({ code: 'MEMORY_CROSS_TENANT' }));
  });

  it('refuses a key that is not under the scope even if handed to it directly', () => {
    const A = t.memory.scope({ tenant: 'direct-a', namespace: 'n' });
    const B = t.memory.scope({ tenant: 'direct-b', namespace: 'n' });
    expect(() => A.scope.get(tailKey(B.scope.id, Table.kv, Buffer.from('x')))).toThrow(expect.objectContaining({ code: 'MEMORY_CROSS_TENANT' }));
    expect(() => A.scope.get(A.scope.id)).toThrow(expect.objectContaining({ code: 'MEMORY_CROSS_TENANT' }));
  });

  it('malformed references are MEMORY_BAD_REFERENCE', () => {
    const A = t.memory.scope({ tenant: 'ref-a', namespace: 'n' });
    for (const ref of ['', 'garbage', 'm1.', 'm1.AAAA', `m1.${Buffer.concat([A.scope.id, Buffer.from([Table.kv, 1])]).toString('base64url')}`]) {
      expect(() => A.rag.passage(ref)).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_REFERENCE' }));
    }
  });
});
