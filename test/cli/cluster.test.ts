// The README's "run a cluster" commands as a user types them: two `agentos serve`
// processes joined by --listen / --seed, then `agentos cluster status` against each.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { repoRoot } from './run.js';

const SECRET = 'readme-cluster-secret-0123456789';
const tmp = tempDir('agentos-cli-cluster-');
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  tmp.cleanup();
});

/** `agentos serve` in the background; resolves with the cluster URL it reports. */
async function serve(...args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data-dir', tmp.dir, ...args], {
    cwd: repoRoot,
    env: { ...process.env, AGENTOS_CLUSTER_SECRET: SECRET, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (l) => {
      const m = /is in the cluster at (\S+)/.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

function agentos(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
}

describe('agentos serve --listen / --seed and agentos cluster status', () => {
  it('two nodes started from the command line form a cluster; status shows both up from either side', async () => {
    const url = await serve('--node', 'n1', '--listen', '127.0.0.1:0');
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    await serve('--node', 'n2', '--listen', '127.0.0.1:0', '--seed', url);
    for (const node of ['n1', 'n2']) {
      let members: { nodeId: string; status: string }[] = [];
      for (let i = 0; i < 100; i++) {
        const r = agentos('cluster', 'status', '--data-dir', tmp.dir, '--node', node, '--json');
        expect(r.status).toBe(0);
        members = JSON.parse(r.stdout).cluster.members;
        if (members.filter((m) => m.status === 'up').length === 2) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(members.map((m) => [m.nodeId, m.status]).sort()).toEqual([['n1', 'up'], ['n2', 'up']]);
    }
    const table = agentos('cluster', 'status', '--data-dir', tmp.dir, '--node', 'n1');
    expect(table.stdout).toMatch(/node n1 at ws:\/\/127\.0\.0\.1:\d+; quorate/);
    expect(table.stdout).toMatch(/n2\s+up\s+1\s+ws:\/\//);
  }, 60_000);

  it('agentos migrate moves an actor to another node with its state; errors are typed and exit 1', async () => {
    const agents = 'test/cli/fixtures/serve-mobile.ts';
    const url = await serve('--node', 'ma', '--listen', '127.0.0.1:0', '--agents', agents);
    await serve('--node', 'mb', '--listen', '127.0.0.1:0', '--seed', url, '--agents', agents);
    const status = (node: string) => JSON.parse(agentos('cluster', 'status', '--data-dir', tmp.dir, '--node', node, '--json').stdout).cluster;
    for (let i = 0; i < 100 && !status('ma').actors.some((a: { id: string }) => a.id === 'tally'); i++) await new Promise((res) => setTimeout(res, 100));
    expect(agentos('send', 'tally', '{"type":"inc","by":4}', '--data-dir', tmp.dir, '--node', 'mb').status).toBe(0);

    // Asked on ma, which does not hold it: the owner (mb) moves it.
    const moved = agentos('migrate', 'tally', 'ma', '--data-dir', tmp.dir, '--node', 'ma');
    expect(moved.stderr).toBe('');
    expect(moved.status).toBe(0);
    expect(moved.stdout).toMatch(/^tally: moved from mb to ma in [\d.]+ ms \(incarnation \d+\)/);
    const asked = agentos('ask', 'tally', '{"type":"get"}', '--data-dir', tmp.dir, '--node', 'ma');
    expect(JSON.parse(asked.stdout)).toBe(4);
    for (let i = 0; i < 100 && status('mb').actors.find((a: { id: string }) => a.id === 'tally')?.node !== 'ma'; i++) await new Promise((res) => setTimeout(res, 100));
    expect(status('mb').actors.find((a: { id: string }) => a.id === 'tally')?.node).toBe('ma');

    const unknownNode = agentos('migrate', 'tally', 'nowhere', '--data-dir', tmp.dir, '--node', 'ma');
    expect(unknownNode.status).toBe(1);
    expect(unknownNode.stderr).toContain('CLUSTER_UNKNOWN_NODE');
    const badMs = agentos('migrate', 'tally', 'mb', '--drain-ms', '-5', '--data-dir', tmp.dir, '--node', 'ma');
    expect(badMs.status).toBe(2);
  }, 60_000);

  it('serve refuses --listen without the secret, and a bad --listen, as usage errors', () => {
    const noSecret = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data-dir', tmp.dir, '--node', 'x', '--listen', '127.0.0.1:0'], {
      cwd: repoRoot, encoding: 'utf8', env: { ...process.env, AGENTOS_CLUSTER_SECRET: '' }, timeout: 30_000,
    });
    expect(noSecret.status).toBe(2);
    expect(noSecret.stderr).toContain('AGENTOS_CLUSTER_SECRET');
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data-dir', tmp.dir, '--node', 'y', '--listen', 'nonsense'], {
      cwd: repoRoot, encoding: 'utf8', env: { ...process.env, AGENTOS_CLUSTER_SECRET: SECRET }, timeout: 30_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--listen takes host:port');
  }, 60_000);
});
