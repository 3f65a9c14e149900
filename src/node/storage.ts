// Where a node keeps its state: one directory per node under `dataDir`, with
// its LMDB environment and its Ed25519 key. Opened once, closed on stop.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { StorageError } from '../base/errors.js';

export interface NodePaths {
  /** `<dataDir>/<node>`: keys and the LMDB environment live here. */
  root: string;
  lmdb: string;
}

export function nodePaths(dataDir: string, nodeName: string): NodePaths {
  const root = join(dataDir, nodeName);
  return { root, lmdb: join(root, 'lmdb') };
}

export function openNodeDb(paths: NodePaths): RootDatabase {
  try {
    mkdirSync(paths.lmdb, { recursive: true, mode: 0o700 });
    return open({ path: paths.lmdb, maxDbs: 32 });
  } catch (err) {
    throw new StorageError('STORAGE_OPEN_FAILED', `cannot open the node's LMDB at ${paths.lmdb}: ${(err as Error).message}`, {
      field: 'dataDir',
      cause: err,
    });
  }
}
