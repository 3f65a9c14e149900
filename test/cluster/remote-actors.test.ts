// Actors across two nodes in one process, over in-memory links: the directory,
// sends and asks routed by the kernel to the owning node, both kernels' checks,
// replies and failures back to the asking node, remote spawn.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RouteOptions, SendOptions } from '../../src/actors/envelope.js';
import { createNode, type AgentOsNode } from '../../src/index.js';
import { CLUSTER_MESSAGE, RemoteActors, type ClusterLinks, type ClusterMessage } from '../../src/cluster/remote-actors.js';
import { counterAgent, until } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';

class Wire {
  private readonly handlers = new Map<string, (from: string, m: unknown) => void>();
  /** Messages in flight, delivered in order on the next turn (ordered per link, like the transport). */
  cut = new Set<string>();
  links(node: string): ClusterLinks {
    return {
      send: (to, message: ClusterMessage) => {
        if (this.cut.has(to) || !this.handlers.has(to)) throw Object.assign(new Error(`no link to ${to}`), {});
        const copy = structuredClone(message);
        setImmediate(() => this.handlers.get(to)?.(node, copy));
      },
      onMessage: (h) => {
        this.handlers.set(node, h);
        return () => this.handlers.delete(node);
      },
    };
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(): Promise<{ a: AgentOsNode; b: AgentOsNode; ra: RemoteActors; rb: RemoteActors; wire: Wire }> {
  const wire = new Wire();
  const nodes: AgentOsNode[] = [];
  const remotes: RemoteActors[] = [];
  for (const name of ['a', 'b']) {
    const t = tempDir(`agentos-remote-${name}-`);
    cleanups.push(t.cleanup);
    const n = await createNode({ name, dataDir: t.dir, memory: false, agents: [counterAgent('counter')] });
    cleanups.push(() => n.stop());
    const r = new RemoteActors({ kernel: n.kernel, links: wire.links(name), definition: (nm, v) => n.definition(nm, v) });
    r.start();
    cleanups.push(() => r.close());
    nodes.push(n);
    remotes.push(r);
  }
  remotes[0]!.memberUp('b');
  remotes[1]!.memberUp('a');
  return { a: nodes[0]!, b: nodes[1]!, ra: remotes[0]!, rb: remotes[1]!, wire };
}

describe('remote actors', () => {
  it('a ref on one node sends and asks an actor on the other, through both kernels', async () => {
    const { a, b, rb } = await pair();
    await a.spawn(counterAgent('counter'), { id: 'c1' });
    await until(() => rb.locate('c1')?.node === 'a');
    expect(b.lookup('c1')).toBeUndefined();
    const ref = b.kernel.ref('c1');
    ref.send({ type: 'inc', by: 2 });
    ref.send({ type: 'inc', by: 3 });
    expect(await ref.ask({ type: 'get' }, { timeoutMs: 2000 })).toBe(5);
    expect(await a.lookup('c1')!.ask({ type: 'get' })).toBe(5);
  });

  it('a message the owning kernel refuses fails the remote ask at once with its code; the sending side refuses what it can check', async () => {
    const { a, b, rb } = await pair();
    await a.spawn(counterAgent('counter'), { id: 'c1' });
    await until(() => rb.locate('c1') !== undefined);
    await expect(b.kernel.ask('c1', { type: 'dance' }, { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE_TYPE' });
    await expect(b.kernel.ask('c1', { type: 'inc', by: 'x' }, { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(() => b.kernel.send('c1', 'not an object')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    expect(() => b.kernel.send('c1', { type: 'inc', by: 1 }, { priority: 42 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'priority' }));
    expect(await a.lookup('c1')!.ask({ type: 'get' })).toBe(0);
  });

  it('tenancy holds across nodes: the sending kernel refuses by the directory entry, the receiving kernel checks again', async () => {
    const { a, b, rb } = await pair();
    await a.spawn(counterAgent('counter'), { id: 'acme-c', tenant: 'acme' });
    await b.spawn(counterAgent('counter'), { id: 'other', tenant: 'globex' });
    await until(() => rb.locate('acme-c') !== undefined);
    expect(() => b.kernel.router.route('acme-c', { type: 'inc', by: 1 }, { from: 'other' })).toThrow(expect.objectContaining({ code: 'CROSS_TENANT' }));
    // A node that lied about the sender's tenant is caught by the owner's kernel.
    expect(() => a.kernel.router.route('acme-c', { type: 'inc', by: 1 }, { from: 'other', fromTenant: 'globex' })).toThrow(expect.objectContaining({ code: 'CROSS_TENANT' }));
    expect(await a.lookup('acme-c')!.ask({ type: 'get' })).toBe(0);
    // Both refusals are audited, naming both nodes.
    const denied = (n: AgentOsNode) =>
      Array.from({ length: n.audit.size }, (_, i) => n.audit.record(i) as { kind: string; decision: string; subject?: string; data?: { fromNode?: string; toNode?: string } })
        .filter((r) => r.kind === 'policy' && r.decision === 'denied' && r.subject === 'message:acme-c')
        .map((r) => r.data);
    expect(denied(b)).toEqual([{ fromNode: 'b', toNode: 'a' }]);
    expect(denied(a)).toEqual([{ fromNode: '?', toNode: 'a' }]);
  });

  it('spawns on another node by name and version; an agent the node does not have is a typed refusal', async () => {
    const { a, b, ra } = await pair();
    await ra.spawnOn('b', counterAgent('counter'), { id: 'far' });
    expect(b.lookup('far')).toBeDefined();
    await until(() => ra.locate('far')?.node === 'b');
    a.kernel.ref('far').send({ type: 'inc', by: 7 });
    expect(await a.kernel.ask('far', { type: 'get' })).toBe(7);
    await expect(ra.spawnOn('b', counterAgent('unknown-agent'), { id: 'x' })).rejects.toMatchObject({ code: 'INVALID_AGENT' });
    await expect(ra.spawnOn('b', counterAgent('counter'), { id: 'far' })).rejects.toMatchObject({ code: 'DUPLICATE_ACTOR' });
  });

  it('a stopped actor leaves the directory; a node gone takes its actors with it', async () => {
    const { a, b, ra, rb } = await pair();
    await a.spawn(counterAgent('counter'), { id: 'c1' });
    await b.spawn(counterAgent('counter'), { id: 'c2' });
    await until(() => rb.locate('c1') !== undefined && ra.locate('c2') !== undefined);
    await a.lookup('c1')!.stop();
    await until(() => rb.locate('c1') === undefined);
    expect(() => b.kernel.send('c1', { type: 'inc', by: 1 })).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTOR' }));
    ra.memberGone('b');
    expect(ra.locate('c2')).toBeUndefined();
    expect(() => a.kernel.send('c2', { type: 'inc', by: 1 })).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTOR' }));
  });
  it('every public send option crosses to the owning kernel; the sender’s node is the link’s, and nothing else of the caller’s object goes', async () => {
    const { a, b, rb } = await pair();
    await a.spawn(counterAgent('counter'), { id: 'c1' });
    await until(() => rb.locate('c1') !== undefined);
    const seen: RouteOptions[] = [];
    const route = a.kernel.router.route.bind(a.kernel.router);
    vi.spyOn(a.kernel.router, 'route').mockImplementation((to, message, options) => (seen.push({ ...options }), route(to, message, options)));
    // Required<>: a new send option fails to compile here until the test (and the copy in the router) has it.
    const all: Required<SendOptions> = { deadlineMs: 500, priority: 7, conversationId: 'conv', performative: 'inform', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', idempotencyKey: 'k1' };
    b.kernel.send('c1', { type: 'inc', by: 1 }, all);
    // What only this kernel may set (origin, a tenant, a node) never rides along from the caller's object.
    b.kernel.router.route('c1', { type: 'inc', by: 1 }, { origin: [3, 4], fromTenant: 'forged', fromNode: 'forged', ...({ extra: 'x' } as object) });
    await until(() => seen.length === 2);
    expect(seen[0]).toMatchObject({ ...all, fromNode: 'b' });
    expect(seen[0]!.fromTenant).toBeUndefined();
    expect(seen[1]).toMatchObject({ fromNode: 'b' });
    expect(seen[1]!.origin).toBeUndefined();
    expect(seen[1]!.fromTenant).toBeUndefined();
    expect(seen[1]).not.toHaveProperty('extra');
    expect(await a.lookup('c1')!.ask({ type: 'get' })).toBe(2);
  });

  it('a peer’s malformed send is dropped before the router; unknown option fields do not reach it', async () => {
    const { a, rb, wire } = await pair();
    await a.spawn(counterAgent('counter'), { id: 'c1' });
    await until(() => rb.locate('c1') !== undefined);
    const seen: RouteOptions[] = [];
    const route = a.kernel.router.route.bind(a.kernel.router);
    vi.spyOn(a.kernel.router, 'route').mockImplementation((to, message, options) => (seen.push({ ...options }), route(to, message, options)));
    const fromB = wire.links('b');
    const send = (s: unknown): void => fromB.send('a', { k: CLUSTER_MESSAGE, op: 'send', send: s } as ClusterMessage);
    send(null);
    send({ to: 'c1', message: { type: 'inc', by: 1 }, options: 7, fromNode: 'b' });
    send({ to: 'c1', message: { type: 'inc', by: 1 }, options: {}, fromNode: 'c' });
    send({ to: 'c1', message: { type: 'inc', by: 2 }, options: { origin: [1, 1], evil: true, conversationId: 'conv' }, fromNode: 'b' });
    send({ to: 'c1', message: { type: 'inc', by: 4 }, fromNode: 'b' });
    await until(() => seen.length === 2);
    expect(seen[0]).toMatchObject({ conversationId: 'conv', fromNode: 'b' });
    expect(seen[0]!.origin).toBeUndefined();
    expect(seen[0]).not.toHaveProperty('evil');
    expect(await a.lookup('c1')!.ask({ type: 'get' })).toBe(6);
  });
});
