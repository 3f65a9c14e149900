// Three nodes as separate processes on 127.0.0.1: they form a cluster through a
// seed, actors talk across nodes through plain refs, an actor is spawned on
// another node by name, a SIGKILLed node is detected and its actors become
// unknown, a node with the wrong secret never joins, and a node that stops leaves.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { NodeProcess } from './support/nodes.js';

const SECRET = 'test-cluster-secret-0123456789';
const tmp = tempDir('agentos-cluster-');
const nodes: NodeProcess[] = [];

async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const upIds = async (n: NodeProcess): Promise<string[]> =>
  (await n.call<{ nodeId: string; status: string }[]>({ cmd: 'members' })).filter((m) => m.status === 'up').map((m) => m.nodeId).sort();

function start(name: string, seeds: string[], secret = SECRET): NodeProcess {
  const n = new NodeProcess({ name, dataDir: join(tmp.dir, name), secret, seeds, heartbeatIntervalMs: 200 });
  nodes.push(n);
  return n;
}

beforeAll(async () => {
  const n1 = start('n1', []);
  await n1.started();
  const n2 = start('n2', [n1.url]);
  const n3 = start('n3', [`n1@${n1.url}`]);
  await Promise.all([n2.started(), n3.started()]);
}, 60_000);

afterAll(async () => {
  for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  tmp.cleanup();
});

describe('a three-node cluster of real processes', () => {
  it('forms through a seed: every node sees the three up', async () => {
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    for (const n of [n1, n2, n3]) await until(async () => (await upIds(n)).join() === 'n1,n2,n3');
  }, 30_000);

  it('actors talk across nodes through the kernel, and one is spawned on another node by name', async () => {
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await n1.call({ cmd: 'spawn', id: 'c1' });
    await n3.call({ cmd: 'spawn', id: 'c2', on: 'n2' });
    await until(async () => (await n2.call({ cmd: 'locate', id: 'c1' })) === 'n1' && (await n1.call({ cmd: 'locate', id: 'c2' })) === 'n2');
    await n2.call({ cmd: 'send', to: 'c1', message: { type: 'inc', by: 4 } });
    await n3.call({ cmd: 'send', to: 'c1', message: { type: 'inc', by: 5 } });
    await until(async () => (await n2.call({ cmd: 'ask', to: 'c1', message: { type: 'get' } })) === 9);
    await n1.call({ cmd: 'send', to: 'c2', message: { type: 'inc', by: 2 } });
    await until(async () => (await n3.call({ cmd: 'ask', to: 'c2', message: { type: 'get' } })) === 2);
    // The owner's kernel refuses a bad message; the remote asker gets its code at once.
    await expect(n3.call({ cmd: 'ask', to: 'c1', message: { type: 'dance' } })).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE_TYPE' });
  }, 30_000);

  it('a node with the wrong secret is rejected and never becomes a member', async () => {
    const [n1, n2] = nodes as [NodeProcess, NodeProcess];
    const intruder = start('evil', [n1.url], 'not-the-cluster-secret-000000');
    await intruder.started();
    // One side or the other refuses the handshake (each checks the other's proof), and says so.
    await until(() => [...n1.events, ...intruder.events].some((e) => e.event === 'rejected'));
    expect(await upIds(n2)).toEqual(['n1', 'n2', 'n3']);
    expect(await upIds(n1)).toEqual(['n1', 'n2', 'n3']);
    expect((await intruder.call<{ nodeId: string; status: string }[]>({ cmd: 'members' })).filter((m) => m.status === 'up').map((m) => m.nodeId)).not.toContain('n1');
    intruder.child.kill('SIGKILL');
    await intruder.exited;
  }, 30_000);

  it('a SIGKILLed node is detected down by the others; its actors become unknown', async () => {
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await n3.call({ cmd: 'spawn', id: 'c3' });
    await until(async () => (await n1.call({ cmd: 'locate', id: 'c3' })) === 'n3');
    const killedAt = Date.now();
    await n3.kill();
    await until(async () => !(await upIds(n1)).includes('n3') && !(await upIds(n2)).includes('n3'));
    const detectedMs = Date.now() - killedAt;
    expect(detectedMs).toBeLessThan(15_000);
    await until(async () => (await n1.call({ cmd: 'locate', id: 'c3' })) === null);
    await expect(n1.call({ cmd: 'send', to: 'c3', message: { type: 'inc', by: 1 } })).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR' });
    // The others keep working.
    await n2.call({ cmd: 'send', to: 'c1', message: { type: 'inc', by: 1 } });
    await until(async () => (await n2.call({ cmd: 'ask', to: 'c1', message: { type: 'get' } })) === 10);
  }, 40_000);

  it('a node that stops leaves gracefully: the other sees it removed, never down', async () => {
    const [n1, n2] = nodes as [NodeProcess, NodeProcess];
    const before = n1.events.length;
    await n2.call({ cmd: 'stop' });
    await n2.exited;
    await until(async () => !(await upIds(n1)).includes('n2'));
    const after = n1.events.slice(before).filter((e) => e.node === 'n2').map((e) => e.event);
    expect(after).toContain('member-leaving');
    expect(after).not.toContain('member-down');
  }, 30_000);
});
