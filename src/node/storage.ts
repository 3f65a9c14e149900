// Where a node keeps its state: one directory per node under `dataDir`, with
// its LMDB environment and its Ed25519 key. Opened once, closed on stop.
// A LOCK file holding the owner's pid keeps a second node (in this or another
// process) off the same directory: two writers would corrupt the audit log.

import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { StorageError } from '../base/errors.js';

export interface NodePaths {
  /** `<dataDir>/<node>`: keys and the LMDB environment live here. */
  root: string;
  lmdb: string;
  /** `<dataDir>/<node>/LOCK`: the pid of the process whose node holds the directory. */
  lock: string;
}

export const STORAGE_LOCKED = 'STORAGE_LOCKED';

export function nodePaths(dataDir: string, nodeName: string): NodePaths {
  const root = join(dataDir, nodeName);
  return { root, lmdb: join(root, 'lmdb'), lock: join(root, 'LOCK') };
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

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException)?.code;

/** The pid a LOCK file names, or undefined if it is unreadable or not a pid. */
function lockOwner(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^\s*(\d{1,10})\s*$/.exec(text);
  const pid = m ? Number(m[1]) : NaN;
  return pid >= 1 && pid <= 0x7fffffff ? pid : undefined;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return code(err) === 'EPERM';
  }
}

function locked(paths: NodePaths, nodeName: string, pid: number): StorageError {
  return new StorageError(
    STORAGE_LOCKED,
    `node "${nodeName}": ${paths.root} is in use by process ${pid}${pid === process.pid ? ' (this process: another node with this name and dataDir is running)' : ''}; stop that node first, or delete ${paths.lock} if no node runs there`,
    { field: 'name', details: { pid, dir: paths.root } },
  );
}

/**
 * Take the node directory for this process: create `<root>/LOCK` exclusively,
 * holding our pid. A LOCK whose pid is alive is a StorageError STORAGE_LOCKED;
 * one whose pid is dead (a node that died without stop) or that is unreadable is
 * stale and taken over. Returns the release function (idempotent).
 */
export function lockNodeDir(paths: NodePaths, nodeName = paths.root): () => void {
  try {
    mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StorageError('STORAGE_OPEN_FAILED', `cannot create the node directory ${paths.root}: ${(err as Error).message}`, { field: 'dataDir', cause: err });
  }
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(paths.lock, 'wx', 0o600);
    } catch (err) {
      if (code(err) !== 'EEXIST' || attempt >= 5) {
        throw new StorageError('STORAGE_OPEN_FAILED', `cannot create the lock file ${paths.lock}: ${(err as Error).message}`, { field: 'dataDir', cause: err });
      }
      const owner = lockOwner(paths.lock);
      if (owner !== undefined && alive(owner)) throw locked(paths, nodeName, owner);
      takeOverStale(paths, nodeName);
      continue;
    }
    let ino: number;
    let dev: number;
    try {
      writeSync(fd, `${process.pid}\n`);
      ({ ino, dev } = fstatSync(fd));
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(paths.lock);
      } catch {
        // already gone
      }
      throw new StorageError('STORAGE_OPEN_FAILED', `cannot write the lock file ${paths.lock}: ${(err as Error).message}`, { field: 'dataDir', cause: err });
    }
    closeSync(fd);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      try {
        // Only our own lock: if it was (wrongly) taken over, the new owner keeps it.
        const st = statSync(paths.lock);
        if (st.ino === ino && st.dev === dev && lockOwner(paths.lock) === process.pid) unlinkSync(paths.lock);
      } catch {
        // already gone
      }
    };
  }
}

/**
 * Move a stale LOCK aside, atomically (only one contender gets it), and check
 * what was moved: if a live owner created it after we looked, put it back.
 */
function takeOverStale(paths: NodePaths, nodeName: string): void {
  const aside = `${paths.lock}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(paths.lock, aside);
  } catch (err) {
    if (code(err) === 'ENOENT') return; // someone else removed it: retry
    throw new StorageError('STORAGE_OPEN_FAILED', `cannot replace the stale lock file ${paths.lock}: ${(err as Error).message}`, { field: 'dataDir', cause: err });
  }
  const owner = lockOwner(aside);
  if (owner !== undefined && alive(owner)) {
    try {
      linkSync(aside, paths.lock);
    } catch {
      // another node took the directory meanwhile; it holds the lock now
    }
    unlinkSync(aside);
    throw locked(paths, nodeName, owner);
  }
  unlinkSync(aside);
}
