// `agentos replay` as a user runs it (a child process, the real CLI), on the data
// dir of a stopped node: exit 0 for an identical replay, 1 for a divergence or a
// tampered log, 2 for usage errors; the LMDB data file is never written.
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURABLE_DBS } from '../../src/kernel/durable/store.js';
import { createNode, VirtualClock } from '../../src/index.js';
import { until } from '../support/agents.js';
import { chargeTool, ledgerAgent, orderAgent } from '../support/durable-agents.js';
import { tempDir } from '../support/tmp.js';
import { agentos, repoRoot } from '../cli/run.js';

const tmp = tempDir('agentos-replay-cli-');
const dataDir = join(tmp.dir, 'data');
const node = ['--data-dir', dataDir, '--node', 'r1'];
const dataFile = join(dataDir, 'r1', 'lmdb', 'data.mdb');
const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const repo = (path: string) => pathToFileURL(join(repoRoot, path)).href;

/** A module of agent definitions, as a user would point --agents at. */
function agentsModule(name: string, body: string): string {
  const file = join(tmp.dir, `${name}.mts`);
  writeFileSync(file, `import { defineAgent } from '${repo('src/index.js')}';\nimport * as d from '${repo('test/support/durable-agents.js')}';\n${body}\n`);
  return file;
}

let same: string;
let lazy: string;

beforeAll(async () => {
  const clock = new VirtualClock(0);
  let charged = 0;
  const n = await createNode({ name: 'r1', dataDir, clock, agents: [orderAgent(), ledgerAgent()], tools: [chargeTool(() => charged++)] });
  await n.spawn(ledgerAgent(), { id: 'ledger' });
  const orders = await n.spawn(orderAgent(), { id: 'orders', input: { ledger: 'ledger' } });
  for (let i = 0; i < 3; i++) {
    clock.advance(5);
    await orders.post({ type: 'order', id: `o${i}`, amount: i + 1 });
  }
  await until(() => charged === 3 && orders.getSnapshot()?.value === 'idle');
  await orders.ask({ type: 'get' });
  await n.stop();
  same = agentsModule('same', 'void defineAgent;\nexport const agents = [d.orderAgent(), d.ledgerAgent()];\nexport const charge = d.chargeTool(() => undefined);');
  lazy = agentsModule(
    'lazy',
    "export const orders = defineAgent({ name: 'orders', machine: d.orderMachine.provide({ guards: { hasWork: () => false } }), messages: d.orderMessages, persistent: true });",
  );
});
afterAll(tmp.cleanup);

describe('agentos replay', () => {
  it('an identical replay prints a table of the turns and exits 0, leaving the data file untouched', () => {
    const before = digest(dataFile);
    const r = agentos('replay', 'orders', '--agents', same, ...node);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^replay of "orders" \(orders@1\) on node "r1": turns 1-4, from the replay base at turn 0\n/);
    expect(r.stdout).toMatch(/^turn +message +calls +state +result$/m);
    expect(r.stdout).toMatch(/^ +1 +order +charge t1\/c0 +charging +ok$/m);
    expect(r.stdout).toMatch(/^ +4 +get +- +idle +ok$/m);
    expect(r.stdout.trimEnd()).toMatch(/ok: 4 turns and 3 calls replayed identically$/);
    expect(digest(dataFile)).toBe(before);
  });

  it('--turn N --json prints the report of turns up to N', () => {
    const r = agentos('replay', 'orders', '--agents', same, ...node, '--turn', '2', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ actor: 'orders', ok: true, fromTurn: 0, throughTurn: 2, turns: 2, divergences: [] });
  });

  it('a changed definition diverges: exit 1 with a diff naming the turn', () => {
    const r = agentos('replay', 'orders', '--agents', lazy, ...node);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^ +1 +order +- +idle +DIVERGED$/m);
    expect(r.stdout).toMatch(/^DIVERGED: \d+ divergence\(s\), the first at turn 1$/m);
    expect(r.stdout).toMatch(/^turn 1 state: after turn 1 \(order\): state "idle", recorded "charging"\n {2}- recorded: \{"value":"charging","digest":"[0-9a-f]{64}"\}\n {2}\+ replayed: \{"value":"idle"/m);
  });

  it('a tampered turn log: exit 1, the broken chain reported with the actor and the turn', async () => {
    const dir = join(tmp.dir, 'tampered');
    cpSync(dataDir, dir, { recursive: true });
    const w = open({ path: join(dir, 'r1', 'lmdb'), maxDbs: 32 });
    const turns = w.openDB<Buffer, [string, number]>({ name: DURABLE_DBS.turns, encoding: 'binary' });
    const bytes = Buffer.from(turns.get(['orders', 2])!);
    bytes[bytes.indexOf('o1') + 1] = '7'.charCodeAt(0);
    turns.putSync(['orders', 2], bytes);
    await w.close();
    const r = agentos('replay', 'orders', '--agents', same, '--data-dir', dir, '--node', 'r1');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^CHAIN BROKEN \(DURABLE_CHAIN_BROKEN\) in the turn log of "orders" at turn 2: /m);
  });

  it.each([
    ['an unknown actor', ['replay', 'nobody', '--agents', 'AGENTS', ...node], /^REPLAY_UNKNOWN_ACTOR: no persistent actor "nobody"/m],
    ['no --agents, and the demo agents do not define "orders"', ['replay', 'orders', ...node], /no definition|REPLAY_NO_DEFINITION/],
    ['a module with no definitions', ['replay', 'orders', '--agents', 'EMPTY', ...node], /exports no agent definitions/],
    ['a turn past the log', ['replay', 'orders', '--agents', 'AGENTS', ...node, '--turn', '9'], /^REPLAY_TURN_OUT_OF_RANGE: turn 9 of "orders" cannot be replayed: the log holds turns 1-4/m],
  ])('%s is a usage error: exit 2', (_what, args, message) => {
    const empty = agentsModule('empty', 'void d; void defineAgent;\nexport const nothing = 1;');
    const r = agentos(...args.map((a) => (a === 'AGENTS' ? same : a === 'EMPTY' ? empty : a)));
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
  });
});

describe('agentos replay on the demo', () => {
  it("replays the demo's persistent bookkeeper with the default agents module after two runs of the demo", async () => {
    const { runDemo } = await import('../../src/cli/demo.js');
    const demoDir = join(tmp.dir, 'demo');
    await runDemo(() => undefined, demoDir);
    await runDemo(() => undefined, demoDir);
    const r = agentos('replay', 'books', '--data-dir', demoDir, '--node', 'demo', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; turns: number; calls: number };
    expect(report).toMatchObject({ ok: true });
    expect(report.calls).toBe(4);
  });
});
