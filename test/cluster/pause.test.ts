// A paused node (SIGSTOP, then SIGCONT): a short pause is ridden out; a long one
// gets it downed by the others, and once it runs again it joins back as a new
// incarnation of itself.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { NodeProcess } from './support/nodes.js';

const SECRET = 'pause-cluster-secret-0123456789';
const tmp = tempDir('agentos-cluster-pause-');
const nodes: NodeProcess[] = [];

async function until(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

type M = { nodeId: string; status: string; incarnation: number };
const members = (n: NodeProcess): Promise<M[]> => n.call<M[]>({ cmd: 'members' });
const statusOf = async (n: NodeProcess, id: string): Promise<string | undefined> => (await members(n)).find((m) => m.nodeId === id)?.status;

beforeAll(async () => {
  const n1 = new NodeProcess({ name: 'p1', dataDir: join(tmp.dir, 'p1'), secret: SECRET, seeds: [], heartbeatIntervalMs: 200 });
  nodes.push(n1);
  await n1.started();
  for (const name of ['p2', 'p3']) nodes.push(new NodeProcess({ name, dataDir: join(tmp.dir, name), secret: SECRET, seeds: [n1.url], heartbeatIntervalMs: 200 }));
  await Promise.all(nodes.map((n) => n.started()));
  for (const n of nodes) await until(async () => (await members(n)).filter((m) => m.status === 'up').length === 3);
}, 60_000);

afterAll(async () => {
  for (const n of nodes) {
    if (n.child.exitCode === null && n.child.signalCode === null) {
      n.child.kill('SIGCONT');
      n.child.kill('SIGKILL');
    }
  }
  await Promise.all(nodes.map((n) => n.exited));
  tmp.cleanup();
});

describe('a paused node', () => {
  it('paused for less than the failure detector allows: stays up for the others', async () => {
    const [p1, p2, p3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    p3.child.kill('SIGSTOP');
    const seen = new Set<string>();
    const end = Date.now() + 800;
    while (Date.now() < end) {
      seen.add((await statusOf(p1, 'p3'))!);
      await new Promise((r) => setTimeout(r, 50));
    }
    p3.child.kill('SIGCONT');
    expect(seen.has('down')).toBe(false);
    await until(async () => (await statusOf(p1, 'p3')) === 'up' && (await statusOf(p2, 'p3')) === 'up');
  }, 30_000);

  it('paused too long: downed by the others, then back as a new incarnation once it runs again', async () => {
    const [p1, p2, p3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const before = (await members(p1)).find((m) => m.nodeId === 'p3')!.incarnation;
    p3.child.kill('SIGSTOP');
    await until(async () => ['down', 'removed', undefined].includes(await statusOf(p1, 'p3')) && ['down', 'removed', undefined].includes(await statusOf(p2, 'p3')), 30_000);
    p3.child.kill('SIGCONT');
    await until(async () => (await statusOf(p1, 'p3')) === 'up' && (await statusOf(p3, 'p1')) === 'up', 30_000);
    expect(p1.events.filter((e) => e.node === 'p3').map((e) => e.event)).toContain('member-down');
    expect((await members(p1)).find((m) => m.nodeId === 'p3')!.incarnation).toBeGreaterThan(before);
  }, 70_000);
});
