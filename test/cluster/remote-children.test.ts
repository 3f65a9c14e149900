// Children of a supervisor placed on other nodes (three nodes in this process,
// real links on loopback, a fast failure detector): the supervisor on n1 starts
// `far` on n2; a message to it is routed there; when it crashes there, n1's
// supervisor restarts it (one_for_one: its sibling stays) on n2 again; when n2
// is cut off and declared down, the supervisor restarts it here (its node is
// gone); a child n2 ran for a supervisor of a node that went down is stopped.
// Placement errors are typed and name `node`.
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, supervisor, type AgentOsNode } from '../../src/index.js';
import { counterAgent, until } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';

const SECRET = 'children test cluster secret, 32';
const FAST = {
  heartbeatIntervalMs: 100,
  membership: { checkIntervalMs: 50, failureDetector: { acceptableHeartbeatPauseMs: 300, minStdDeviationMs: 50, firstHeartbeatEstimateMs: 100 }, stableAfterMs: 300, downRemovalMarginMs: 200 },
};
const counter = counterAgent();

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function member(name: string, seeds: string[]): Promise<AgentOsNode> {
  const t = tempDir(`agentos-children-${name}-`);
  cleanups.push(t.cleanup);
  const node = await createNode({ name, dataDir: t.dir, memory: false, blackboard: false, agents: [counter], cluster: { secret: SECRET, seeds, ...FAST } });
  cleanups.push(() => node.stop());
  return node;
}

const up = (n: AgentOsNode): number => n.cluster!.members().filter((m) => m.status === 'up').length;
type Tree = { id: string; restarts?: number; info?: Record<string, unknown>; children?: Tree[] };
const childOf = (n: AgentOsNode, id: string): Tree | undefined => (n.tree().children as Tree[]).find((c) => c.id === 'app')?.children?.find((c) => c.id === id);

const app = supervisor({
  id: 'app',
  strategy: 'one_for_one',
  intensity: 5,
  periodMs: 10_000,
  children: [
    { id: 'near', start: counter },
    { id: 'far', start: counter, node: 'n2' },
  ],
});

describe('children of a supervisor on other nodes', () => {
  it('starts the child on its node, restarts it there when it crashes, and here when its node goes down', async () => {
    const n1 = await member('n1', []);
    const n2 = await member('n2', [n1.cluster!.url]);
    const n3 = await member('n3', [n1.cluster!.url]);
    await until(() => [n1, n2, n3].every((n) => up(n) === 3), 10_000);
    await n1.spawn(app, { id: 'app' });

    expect(n2.lookup('far')).toBeDefined();
    expect(n1.lookup('far')).toBeUndefined();
    expect(childOf(n1, 'far')?.info).toMatchObject({ node: 'n2', remote: true });
    await until(() => n1.cluster!.remote.locate('far')?.node === 'n2', 5000);
    n1.kernel.send('far', { type: 'inc', by: 3 });
    await until(async () => (await n1.kernel.ask('far', { type: 'get' })) === 3, 5000);

    // A crash on n2: n1's supervisor restarts it (fresh state), on n2; its sibling is left alone.
    n1.kernel.send('far', { type: 'crash' });
    await until(() => childOf(n1, 'far')?.restarts === 1, 5000);
    expect(childOf(n1, 'near')?.restarts).toBe(0);
    await until(() => n2.lookup('far') !== undefined, 5000);
    await until(async () => (await n1.kernel.ask('far', { type: 'get' }).catch(() => -1)) === 0, 5000);

    // n2 falls silent (its cluster links close; its process and actors live on): declared down, the child comes here.
    await n2.cluster!.close();
    await until(() => n1.lookup('far') !== undefined, 10_000);
    expect(childOf(n1, 'far')?.restarts).toBe(2);
    expect(childOf(n1, 'far')?.info).not.toMatchObject({ remote: true });
    expect(await n1.kernel.ask('far', { type: 'get' })).toBe(0);
  }, 30_000);

  it('stops the children it runs for a supervisor whose node went down', async () => {
    const n1 = await member('n1', []);
    const n2 = await member('n2', [n1.cluster!.url]);
    const n3 = await member('n3', [n1.cluster!.url]);
    await until(() => [n1, n2, n3].every((n) => up(n) === 3), 10_000);
    await n1.spawn(app, { id: 'app' });
    expect(n2.lookup('far')).toBeDefined();
    // A hosted child does not move: its supervisor knows where it is.
    await expect(n2.migrate('far', 'n3')).rejects.toMatchObject({ code: 'CLUSTER_NOT_MIGRATABLE' });
    await n1.cluster!.close();
    await until(() => n2.lookup('far') === undefined, 10_000);
  }, 30_000);

  it('drops malformed frames on the children channel, and refuses a second channel of the same name', async () => {
    const n1 = await member('n1', []);
    const n2 = await member('n2', [n1.cluster!.url]);
    const n3 = await member('n3', [n1.cluster!.url]);
    await until(() => [n1, n2, n3].every((n) => up(n) === 3), 10_000);
    expect(() => n1.cluster!.channel('children', () => undefined)).toThrow(expect.objectContaining({ code: 'CLUSTER_INVALID_OPTIONS', field: 'name' }));
    // Hostile or garbled frames from a member: no crash, no actor started, no exit reported.
    for (const junk of [null, 42, 'start', { op: 'start' }, { op: 'start', rid: 1, id: '', agent: 'counter', version: '1', parentPath: '' }, { op: 'exit', id: 'far' }, { op: 'nope', rid: 2 }]) {
      n2.cluster!.children.receive('n1', junk);
    }
    expect(n2.lookup('far')).toBeUndefined();
    // An unknown agent asked for is refused to the asker with a typed error, and nothing runs.
    await n1.spawn(supervisor({ id: 'ok', strategy: 'one_for_one', intensity: 1, periodMs: 1000, children: [{ id: 'fine', start: counter, node: 'n2' }] }), { id: 'ok' });
    expect(n2.lookup('fine')).toBeDefined();
    const stranger = counterAgent('stranger');
    await expect(n1.spawn(supervisor({ id: 'bad', strategy: 'one_for_one', intensity: 0, periodMs: 1000, children: [{ id: 'ghost', start: stranger, node: 'n3' }] }), { id: 'bad' })).rejects.toMatchObject({ code: 'INVALID_AGENT' });
    expect(n3.lookup('ghost')).toBeUndefined();
  }, 30_000);

  it('refuses bad placements with a typed error naming node', async () => {
    const t = tempDir('agentos-children-solo-');
    cleanups.push(t.cleanup);
    const solo = await createNode({ name: 'solo', dataDir: t.dir, memory: false, blackboard: false });
    cleanups.push(() => solo.stop());
    await expect(solo.spawn(app, { id: 'app' })).rejects.toMatchObject({ field: 'node' });
    expect(() => supervisor({ id: 's', strategy: 'one_for_one', intensity: 1, periodMs: 1000, children: [{ id: 'x', start: counter, node: '' }] })).toThrow(expect.objectContaining({ field: 'children[0].node' }));
    const nested = supervisor({ id: 'inner', strategy: 'one_for_one', intensity: 1, periodMs: 1000, children: [{ id: 'y', start: counter }] });
    expect(() => supervisor({ id: 's2', strategy: 'one_for_one', intensity: 1, periodMs: 1000, children: [{ id: 'i', start: nested, node: 'n2' }] })).toThrow(/only a leaf child/);
  });
});
