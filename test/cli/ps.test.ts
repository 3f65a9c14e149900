// `agentos serve`, `ps` and `tree` end to end, as a user runs them: the node is
// a real child process serving its control endpoint, each command another
// child process that finds it through control.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PsResponse, PsRow, TreeResponse } from '../../src/node/control.js';
import { formatPs } from '../../src/cli/ps.js';
import { tempDir } from '../support/tmp.js';
import { agentos, killAll, repoRoot, serve, type Serving } from './run.js';

const tmp = tempDir('agentos-cli-ps-');
const dataDir = join(tmp.dir, 'data');
const target = ['--data-dir', dataDir, '--node', 'e2e'];
const FIXTURE = join(repoRoot, 'test/cli/fixtures/serve-agents.ts');

const running: Serving[] = [];
let node: Serving;

beforeAll(async () => {
  node = await serve('--agents', FIXTURE, ...target);
  running.push(node);
}, 90_000);

afterAll(async () => {
  await killAll(running);
  tmp.cleanup();
});

describe('agentos ps / tree against a running node', { timeout: 60_000 }, () => {
  it('ps --json lists the actors with restarts, classes and the HRT lane figures', () => {
    const r = agentos('ps', ...target, '--json');
    expect(r.status, r.stderr).toBe(0);
    const ps = JSON.parse(r.stdout) as PsResponse;
    expect(ps.node).toBe('e2e');
    expect(ps.actors.map((a) => [a.id, a.class, a.restarts, a.node])).toEqual([
      ['c1', 'SRT', 1, 'e2e'],
      ['c2', 'SRT', 0, 'e2e'],
      ['batch', 'DT', 0, 'e2e'],
      ['guard', 'HRT', 0, 'e2e'],
    ]);
    const guard = ps.actors.find((a) => a.id === 'guard')!;
    expect(guard.state).toBe('guarding');
    expect(guard.lane!.releases).toBeGreaterThanOrEqual(3);
    for (const figure of ['misses', 'jitterP99Ms', 'jitterMaxMs', 'responseP99Ms', 'observedWcetMs'] as const) expect(guard.lane![figure]).toEqual(expect.any(Number));
    expect(ps.actors.filter((a) => a.lane === null).map((a) => a.id)).toEqual(['c1', 'c2', 'batch']);
  });

  it('ps prints a table with the lane columns, a dash where an actor has no lane', () => {
    const r = agentos('ps', ...target);
    expect(r.status, r.stderr).toBe(0);
    const [head, ...rows] = r.stdout.trimEnd().split('\n');
    expect(head!.split(/\s+/)).toEqual(['ID', 'AGENT', 'CLASS', 'STATUS', 'STATE', 'MAILBOX', 'WAIT_P99', 'RESTARTS', 'NODE', 'RELEASES', 'MISSES', 'JITTER_P99', 'JITTER_MAX', 'RESPONSE_P99', 'WCET_OBS']);
    const cells = Object.fromEntries(rows.map((line) => [line.split(/\s+/)[0], line.split(/\s+/)]));
    expect(cells.c1!.slice(0, 9)).toEqual(['c1', 'counter', 'SRT', 'running', 'counting', '0', expect.stringMatching(/^\d+\.\d+ms$/), '1', 'e2e']);
    expect(cells.c1!.slice(9)).toEqual(['-', '-', '-', '-', '-', '-']);
    expect(cells.guard!.slice(0, 5)).toEqual(['guard', 'guard', 'HRT', 'running', 'guarding']);
    expect(Number(cells.guard![9])).toBeGreaterThanOrEqual(3);
    expect(cells.guard![10]).toMatch(/^\d+$/);
    for (const v of cells.guard!.slice(11)) expect(v).toMatch(/^\d+\.\d+ms$/);
  });

  it('ps --system adds the service actors', () => {
    const r = agentos('ps', ...target, '--system', '--json');
    expect(r.status).toBe(0);
    const ids = (JSON.parse(r.stdout) as PsResponse).actors.filter((a) => a.system).map((a) => a.id);
    expect(ids).toEqual(['agentos.tools', 'agentos.models', 'agentos.memory', 'agentos.blackboard']);
  });

  it('tree prints the supervision tree as ASCII; --json gives it as data', () => {
    const r = agentos('tree', ...target);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      'root [supervisor one_for_one] restarts=0',
      '├─ app [supervisor one_for_one] restarts=0',
      '│  ├─ c1 (counter, SRT) state="counting" restarts=1 running',
      '│  └─ c2 (counter, SRT) state="counting" restarts=0 running',
      '├─ batch (batch, DT) state="counting" restarts=0 running',
      '└─ guard (guard, HRT, lane) state="guarding" restarts=0 running',
    ]);
    const json = agentos('tree', ...target, '--system', '--json');
    const tree = JSON.parse(json.stdout) as TreeResponse;
    expect(tree.tree.children!.map((c) => c.id)).toEqual(['app', 'batch', 'guard']);
    expect(tree.system!.id).toBe('agentos.system');
  });

  it('a request with a wrong token is refused by the node (exit 1, CONTROL_UNAUTHORIZED)', async () => {
    const other = join(tmp.dir, 'forged');
    mkdirSync(join(other, 'e2e'), { recursive: true });
    // A control file pointing at the live node with a made-up token: the node must refuse it.
    writeFileSync(join(other, 'e2e', 'control.json'), JSON.stringify({ version: 1, node: 'e2e', pid: node.child.pid, host: '127.0.0.1', port: node.port, token: 'ab'.repeat(32) }), { mode: 0o600 });
    const r = agentos('ps', '--data-dir', other, '--node', 'e2e');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^CONTROL_UNAUTHORIZED: node "e2e": missing or wrong bearer token/);
  });

  it('serve stops cleanly on SIGTERM: exit 0, control.json removed, and then ps says NODE_NOT_RUNNING', async () => {
    const file = join(dataDir, 'e2e', 'control.json');
    expect(existsSync(file)).toBe(true);
    node.child.kill('SIGTERM');
    expect(await node.exited, node.stderr()).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(join(dataDir, 'e2e', 'LOCK'))).toBe(false);
    expect(node.stderr()).toContain('node "e2e" stopped');
    const r = agentos('ps', ...target);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^NODE_NOT_RUNNING: no node "e2e" is running on data dir .*data: .*control\.json does not exist/);
  });
});

describe('agentos ps / tree without a running node', { timeout: 60_000 }, () => {
  it('no control.json: exit 1, NODE_NOT_RUNNING naming the node and the data dir', () => {
    const dir = join(tmp.dir, 'nothing');
    for (const command of ['ps', 'tree']) {
      const r = agentos(command, '--data-dir', dir, '--node', 'ghost');
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(
        `NODE_NOT_RUNNING: no node "ghost" is running on data dir ${dir}: ${join(dir, 'ghost', 'control.json')} does not exist; start one with \`agentos serve --node ghost --data-dir ${dir}\``,
      );
    }
  });

  it('a stale control.json (its process is gone, or nothing listens on its port): NODE_NOT_RUNNING', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const free = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const cases: Array<[number, number, RegExp]> = [
      [dead, free, new RegExp(`process ${dead} named in .* is gone`)],
      [process.pid, free, new RegExp(`nothing answers on 127\\.0\\.0\\.1:${free} \\(ECONNREFUSED\\)`)],
    ];
    for (const [i, [pid, p, message]] of cases.entries()) {
      const dir = join(tmp.dir, `stale-${i}`);
      mkdirSync(join(dir, 'n'), { recursive: true });
      writeFileSync(join(dir, 'n', 'control.json'), JSON.stringify({ version: 1, node: 'n', pid, host: '127.0.0.1', port: p, token: 'cd'.repeat(32) }), { mode: 0o600 });
      const r = agentos('ps', '--data-dir', dir, '--node', 'n');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^NODE_NOT_RUNNING: no node "n" is running/);
      expect(r.stderr).toMatch(message);
    }
  });

  it('usage errors exit 2; --help shows examples', () => {
    expect(agentos('ps', '--node', '../etc').status).toBe(2);
    expect(agentos('tree', '--bogus').status).toBe(2);
    const bad = agentos('serve', '--agents', join(tmp.dir, 'no-such-module.js'), '--data-dir', join(tmp.dir, 'unused'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/cannot load --agents/);
    expect(existsSync(join(tmp.dir, 'unused'))).toBe(false);
    for (const command of ['ps', 'tree', 'serve']) {
      const r = agentos(command, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n {2}\$ agentos /);
    }
  });
});

describe('agentos serve with no --agents: the demo', { timeout: 60_000 }, () => {
  it('runs the demo actors; a second start on the same data recovers the persistent bookkeeper instead of spawning it', async () => {
    const demoTarget = ['--data-dir', join(tmp.dir, 'demo-data'), '--node', 'demo'];
    const app = [
      ['audit', 'auditor', 'DT', false],
      ['counter', 'counter', 'SRT', false],
    ];
    const books = ['books', 'bookkeeper', 'SRT', true];
    // Recovery runs when the node starts, before setup: the recovered bookkeeper comes first.
    for (const expected of [[...app, books], [books, ...app]]) {
      const demo = await serve(...demoTarget);
      running.push(demo);
      const r = agentos('ps', ...demoTarget, '--json');
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as PsResponse).actors.map((a) => [a.id, a.agent, a.class, a.persistent])).toEqual(expected);
      demo.child.kill('SIGINT');
      expect(await demo.exited, demo.stderr()).toBe(0);
    }
  });
});

describe('formatPs', () => {
  const row = (over: Partial<PsRow>): PsRow => ({
    id: 'a', path: '/a', supervisor: '/', node: 'n', agent: 'x', version: '1', class: 'SRT', tenant: 'default', status: 'running', state: { booking: 'waiting' },
    mailbox: 3, waitP99Ms: 12.345, restarts: 2, incarnation: 2, delivered: 5, deadlineMisses: 0, system: false, persistent: false, heldReason: null, lane: null, ...over,
  });

  it('has no lane columns when no actor runs on a lane, and prints nested states and restarting actors', () => {
    const text = formatPs([row({}), row({ id: 'b', status: 'restarting', state: null, mailbox: null, waitP99Ms: null, agent: null, class: null })]);
    expect(text.split('\n')).toEqual([
      'ID  AGENT  CLASS  STATUS      STATE            MAILBOX  WAIT_P99  RESTARTS  NODE',
      'a   x      SRT    running     booking.waiting        3    12.3ms         2  n',
      'b   -      -      restarting  -                      -         -         2  n',
    ]);
  });
});
