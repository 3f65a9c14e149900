// Shared setup for memory tests: a real LMDB environment in a temp dir, a
// VirtualClock and a derived keyring, closed and removed afterwards.

import { open, type RootDatabase } from 'lmdb';
import { VirtualClock } from '../../../src/base/clock.js';
import { DerivedKeyring } from '../../../src/services/memory/keyring.js';
import { Memory, type MemoryOptions } from '../../../src/services/memory/memory.js';
import { MEMORY_DBS } from '../../../src/services/memory/store.js';
import { tempDir } from '../../support/tmp.js';

export interface TestMemory {
  db: RootDatabase;
  memory: Memory;
  clock: VirtualClock;
  dir: string;
  close(): Promise<void>;
}

export const MASTER = Buffer.alloc(32, 7);

export function openMemory(options: Partial<MemoryOptions> = {}): TestMemory {
  const tmp = tempDir('agentos-memory-');
  const db = open({ path: tmp.dir, maxDbs: 8 });
  const clock = new VirtualClock(1_000);
  const memory = Memory.open({ db, clock, keyring: new DerivedKeyring(MASTER), ...options });
  return {
    db,
    memory,
    clock,
    dir: tmp.dir,
    async close() {
      memory.close();
      await db.close();
      tmp.cleanup();
    },
  };
}

/** Every raw (key, value) pair of the memory records sub-database. */
export function rawRecords(db: RootDatabase): { key: Buffer; value: Buffer }[] {
  const records = db.openDB<Buffer, Buffer>({ name: MEMORY_DBS.records, encoding: 'binary', keyEncoding: 'binary' });
  return [...records.getRange({})].map(({ key, value }) => ({ key: Buffer.from(key), value: Buffer.from(value) }));
}

export function rawExpiry(db: RootDatabase): Buffer[] {
  const expiry = db.openDB<Buffer, Buffer>({ name: MEMORY_DBS.expiry, encoding: 'binary', keyEncoding: 'binary' });
  return [...expiry.getKeys({})].map((k) => Buffer.from(k));
}

export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
