import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentOsError } from '../../src/index.js';
import { lockNodeDir, nodePaths } from '../../src/node/storage.js';
import { tempDir } from '../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const start = (name = 'locked') => createNode({ name, dataDir: tmp.dir, clock: new VirtualClock(0) });
const lockFile = (name = 'locked') => join(tmp.dir, name, 'LOCK');

/** A pid that was just running and is not any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
  expect(child.pid).toBeGreaterThan(0);
  return child.pid as number;
}

describe('one node per <dataDir>/<name>', () => {
  it('rejects a second node while the first runs, and lets it start after stop()', async () => {
    const first = await start();
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
    const err = (await start().catch((e: unknown) => e)) as AgentOsError;
    expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_LOCKED', field: 'name' });
    expect(err.message).toContain(`process ${process.pid}`);
    expect(err.message).toContain(join(tmp.dir, 'locked'));
    // The refused start did not disturb the running node or its lock.
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
    expect(first.audit.verify()).toMatchObject({ ok: true });
    await first.stop();
    expect(existsSync(lockFile())).toBe(false);
    const second = await start();
    await second.stop();
  });

  it('does not lock other names under the same dataDir', async () => {
    const a = await start('a');
    const b = await start('b');
    await Promise.all([a.stop(), b.stop()]);
  });

  it('takes over a stale lock left by a process that died without stop', async () => {
    const pid = deadPid();
    mkdirSync(join(tmp.dir, 'locked'), { recursive: true });
    writeFileSync(lockFile(), `${pid}\n`);
    const node = await start();
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
    await node.stop();
    expect(existsSync(lockFile())).toBe(false);
  });

  it.each([['garbage', 'not a pid'], ['empty', ''], ['pid 0', '0'], ['negative', '-1']])('treats an unreadable lock (%s) as stale', async (_label, text) => {
    mkdirSync(join(tmp.dir, 'locked'), { recursive: true });
    writeFileSync(lockFile(), text);
    const node = await start();
    await node.stop();
  });

  it('refuses a lock held by another live process', () => {
    const paths = nodePaths(tmp.dir, 'other');
    mkdirSync(paths.root, { recursive: true });
    writeFileSync(paths.lock, `${process.ppid}\n`); // the parent (vitest/npm) is alive
    expect(() => lockNodeDir(paths, 'other')).toThrow(expect.objectContaining({ code: 'STORAGE_LOCKED', details: { pid: process.ppid, dir: paths.root } }));
    expect(readFileSync(paths.lock, 'utf8').trim()).toBe(String(process.ppid));
  });

  it('release is idempotent and leaves a lock it no longer owns alone', () => {
    const paths = nodePaths(tmp.dir, 'rel');
    const release = lockNodeDir(paths, 'rel');
    rmSync(paths.lock);
    writeFileSync(paths.lock, '12345\n'); // someone else's now
    release();
    release();
    expect(readFileSync(paths.lock, 'utf8')).toBe('12345\n');
  });

  it('releases the lock when createNode fails after taking it', async () => {
    // The LMDB directory is a file: opening the database fails after the lock is taken.
    mkdirSync(join(tmp.dir, 'locked'), { recursive: true });
    writeFileSync(join(tmp.dir, 'locked', 'lmdb'), 'not a directory');
    await expect(start()).rejects.toMatchObject({ code: 'STORAGE_OPEN_FAILED' });
    expect(existsSync(lockFile())).toBe(false);
    rmSync(join(tmp.dir, 'locked', 'lmdb'));
    const node = await start();
    await node.stop();
  });
});
