// The board core's failure modes: LMDB refusing a write fails that write and
// every request after it (nothing is acknowledged that is not on disk), and a
// stored record that does not decode as its key's entry is BLACKBOARD_CORRUPT.
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoardCore } from '../../../src/services/blackboard/board.js';
import { BlackboardCodes } from '../../../src/services/blackboard/errors.js';
import { TopicSchemas } from '../../../src/services/blackboard/schemas.js';
import { BLACKBOARD_DB, BoardStore } from '../../../src/services/blackboard/store.js';
import { tempDir } from '../../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

const options = (store: BoardStore, audit: { decision: string }[] = []) => ({
  store,
  schemas: new TopicSchemas(),
  now: () => 0,
  audit: (r: { decision: string }) => audit.push(r),
  maxValueBytes: 1024,
  maxTopicsPerTenant: 10,
  durability: 'sync' as const,
});

describe('board core', () => {
  it('a write LMDB refuses fails, and so does every request after it (audited once)', async () => {
    const failing = { load: () => [], put: () => Promise.reject(new Error('MDB_MAP_FULL')), flushed: () => Promise.resolve() } as unknown as BoardStore;
    const audit: { decision: string }[] = [];
    const core = new BoardCore(options(failing, audit));
    const { durable } = core.post({ tenant: 't', by: 'w', topic: 'a', value: 1 });
    await expect(durable).rejects.toMatchObject({ code: BlackboardCodes.storageFailed });
    expect(() => core.post({ tenant: 't', by: 'w', topic: 'b', value: 2 })).toThrow(expect.objectContaining({ code: BlackboardCodes.storageFailed }));
    expect(() => core.read('t', 'a')).toThrow(expect.objectContaining({ code: BlackboardCodes.storageFailed }));
    await expect(core.settled()).rejects.toMatchObject({ code: BlackboardCodes.storageFailed });
    expect(audit.map((r) => r.decision)).toEqual(['storage-failed']);
  });

  it('a stored record that is not an entry of its key is BLACKBOARD_CORRUPT, and other tenants are unaffected', async () => {
    const root = open({ path: join(tmp.dir, 'corrupt'), maxDbs: 4 });
    try {
      const store = new BoardStore(root);
      const core = new BoardCore(options(store));
      await core.post({ tenant: 'good', by: 'w', topic: 'a', value: 1 }).durable;
      await root.openDB({ name: BLACKBOARD_DB, encoding: 'json' }).put('bad\x1fa', { v: 1, topic: 'other', version: 1, value: 1, by: 'w', at: 0, hash: '' });
      const fresh = new BoardCore(options(new BoardStore(root)));
      expect(() => fresh.read('bad', 'a')).toThrow(expect.objectContaining({ code: BlackboardCodes.corrupt, details: { tenant: 'bad', topic: 'a' } }));
      expect(fresh.read('good', 'a')).toMatchObject({ version: 1, value: 1 });
    } finally {
      await root.close();
    }
  });
});
