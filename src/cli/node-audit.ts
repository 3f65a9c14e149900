// Read-only access to a stopped (or running) node's audit log for offline tools.
// Nothing is ever created: a missing directory, key or LMDB is an error, and LMDB
// is opened read-only, so no record or tree head can be appended.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { RealClock } from '../base/clock.js';
import { StorageError } from '../base/errors.js';
import { AUDIT_DBS, AuditCodes, AuditLog, KEY_FILE, loadOrCreateNodeKeys, type SignedTreeHead } from '../kernel/audit/index.js';
import { AuditStore } from '../kernel/audit/store.js';
import { nodePaths } from '../node/storage.js';

export const NODE_DATA_MISSING = 'NODE_DATA_MISSING';

export interface ReadOnlyAudit {
  readonly log: AuditLog;
  /** The latest signed tree head in storage, as the node left it (never signs a new one). */
  latestHead(): SignedTreeHead | undefined;
  close(): Promise<void>;
}

function missing(what: string, hint: string): StorageError {
  return new StorageError(NODE_DATA_MISSING, `${what}; ${hint}`, { field: 'dataDir' });
}

function openReadOnly(path: string): RootDatabase {
  try {
    return open({ path, maxDbs: 32, readOnly: true });
  } catch (cause) {
    throw new StorageError('STORAGE_OPEN_FAILED', `cannot open the node's LMDB at ${path} read-only: ${(cause as Error).message}`, { field: 'dataDir', cause });
  }
}

export async function openAuditReadOnly(dataDir: string, node: string): Promise<ReadOnlyAudit> {
  const paths = nodePaths(dataDir, node);
  const hint = 'check --data-dir and --node (a node writes its data on first start)';
  if (!existsSync(paths.root)) throw missing(`no data for node "${node}": ${paths.root} does not exist`, hint);
  const keyFile = join(paths.root, KEY_FILE);
  if (!existsSync(keyFile)) throw missing(`the node's audit key ${keyFile} is missing, so its signed heads cannot be checked`, hint);
  // lmdb names the environment's file data.mdb; checked before opening, so no file is ever made where no node ran.
  if (!existsSync(join(paths.lmdb, 'data.mdb'))) throw missing(`no LMDB environment at ${paths.lmdb}`, hint);
  const keys = loadOrCreateNodeKeys(paths.root); // the key exists: this only reads it
  const db = openReadOnly(paths.lmdb);
  try {
    // Read-only, LMDB cannot create a sub-database; openDB yields nothing for one that does not exist.
    const absent = Object.values(AUDIT_DBS).find((name) => db.openDB({ name }) === undefined);
    if (absent !== undefined) {
      throw new StorageError(AuditCodes.corrupt, `the LMDB at ${paths.lmdb} has no sub-database ${absent}: not an agentos node, or its audit log was removed`, {
        field: 'dataDir',
      });
    }
    const log = await AuditLog.open({ db, keys, clock: new RealClock(), nodeId: node });
    const store = AuditStore.open(db);
    return { log, latestHead: () => store.lastHead(), close: () => db.close() };
  } catch (err) {
    await db.close();
    throw err;
  }
}
