// Live migration between nodes in one process over in-memory links: the actor
// moves with its state and its queued messages, a sender on a third node keeps
// streaming through the move and every message is handled exactly once, in
// order; refusals leave the actor where it was, with its state; bad input is a
// typed error naming the field.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { recorderAgent, type RecorderState } from './support/agents.js';
import { until } from '../../support/agents.js';
import { wiredCluster, type WiredCluster } from './support/wire.js';

let cluster: WiredCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});


type Got = { count: number; log: RecorderState['log']; padKb: number };

async function streamDuring(c: WiredCluster, id: string, from: string, n: number, during: () => Promise<unknown>): Promise<unknown> {
  const sender = c.nodes[from]!.node.kernel;
  let sent = 0;
  let stop = false;
  const errors: unknown[] = [];
  const pump = (async () => {
    while (!stop || sent < n) {
      if (sent >= n) break;
      try {
        sender.send(id, { type: 'rec', n: sent, by: from });
        sent++;
      } catch (err) {
        errors.push(err);
        break;
      }
      if (sent % 5 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  const result = await during().catch((e: unknown) => e);
  stop = true;
  await pump;
  expect(errors).toEqual([]);
  return result;
}

for (const persistent of [false, true]) {
  describe(`migration of a ${persistent ? 'persistent' : 'non-persistent'} actor`, () => {
    it('moves with its state while a third node streams to it: every message once, in order', async () => {
      const agent = recorderAgent({ persistent });
      cluster = await wiredCluster(['a', 'b', 'c'], { agents: [agent] });
      const { a, b, c } = cluster.nodes as Record<'a' | 'b' | 'c', NonNullable<WiredCluster['nodes'][string]>>;
      // Links of unequal speed: the straight route c → b overtakes c → a → b unless order is kept.
      cluster.wire.lag.set('c>a', 3);
      await a.node.spawn(agent, { id: 'r1' });
      a.node.kernel.send('r1', { type: 'inc', by: 7 });
      await until(() => c.remote.locate('r1')?.node === 'a');
      const n = 600;
      const result = await streamDuring(cluster, 'r1', 'c', n, async () => {
        await new Promise((r) => setTimeout(r, 5));
        return a.handoff.migrate('r1', 'b');
      });
      expect(result).toMatchObject({ id: 'r1', from: 'a', to: 'b' });
      expect(a.node.lookup('r1')).toBeUndefined();
      expect(b.node.lookup('r1')).toBeDefined();
      await until(async () => ((await c.node.kernel.ask('r1', { type: 'get' })) as Got).log.c?.length === n);
      const got = (await c.node.kernel.ask('r1', { type: 'get' })) as Got;
      expect(got.count).toBe(7);
      expect(got.log.c).toEqual(Array.from({ length: n }, (_, i) => i));
      // The directory moved with it, with a higher incarnation.
      await until(() => c.remote.locate('r1')?.node === 'b' && a.remote.locate('r1')?.node === 'b');
      expect(c.remote.locate('r1')!.incarnation).toBe(1);
    });

    it('a local sender on the target keeps its order too, and asks queued during the move are answered', async () => {
      const agent = recorderAgent({ persistent });
      cluster = await wiredCluster(['a', 'b'], { agents: [agent] });
      const { a, b } = cluster.nodes as Record<'a' | 'b', NonNullable<WiredCluster['nodes'][string]>>;
      await a.node.spawn(agent, { id: 'r2' });
      await until(() => b.remote.locate('r2')?.node === 'a');
      a.node.lookup('r2')!.pause();
      const asked = b.node.kernel.ask('r2', { type: 'get' }, { timeoutMs: 5000 });
      const n = 300;
      const result = await streamDuring(cluster, 'r2', 'b', n, async () => {
        a.node.lookup('r2')!.resume();
        return a.handoff.migrate('r2', 'b');
      });
      expect(result).toMatchObject({ to: 'b' });
      expect(await asked).toMatchObject({ count: 0 });
      await until(async () => ((await b.node.kernel.ask('r2', { type: 'get' })) as Got).log.b?.length === n);
      expect(((await b.node.kernel.ask('r2', { type: 'get' })) as Got).log.b).toEqual(Array.from({ length: n }, (_, i) => i));
    });
  });
}

describe('per-sender order, whatever the links do', () => {
  it('property: with random delays on every link and senders on every node, each sender\'s messages are handled once, in order, across three moves', async () => {
    const agent = recorderAgent();
    const links = ['a>b', 'a>c', 'b>a', 'b>c', 'c>a', 'c>b'];
    const hops = fc.array(fc.constantFrom<'a' | 'b' | 'c'>('a', 'b', 'c'), { minLength: 3, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 8 }), hops, async (lags, delay, targets) => {
        const c = (cluster = await wiredCluster(['a', 'b', 'c'], { agents: [agent] }));
        links.forEach((l, i) => c.wire.lag.set(l, lags[i]!));
        const { a } = c.nodes as Record<'a' | 'b' | 'c', NonNullable<WiredCluster['nodes'][string]>>;
        await a.node.spawn(agent, { id: 'r' });
        await until(() => Object.values(c.nodes).every((n) => n.name === 'a' || n.remote.locate('r')?.node === 'a'));
        const n = 150;
        const senders = ['a', 'b', 'c'].map(async (from) => {
          for (let i = 0; i < n; i++) {
            c.nodes[from]!.node.kernel.send('r', { type: 'rec', n: i, by: from });
            if (i % 3 === 0) await new Promise((r) => setImmediate(r));
          }
        });
        for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r));
        let here: 'a' | 'b' | 'c' = 'a';
        for (const next of targets) {
          if (next === here) continue;
          // Asked on the node after the target, not necessarily the owner: the owner does it.
          await c.nodes[next === 'a' ? 'b' : 'a']!.handoff.migrate('r', next);
          here = next;
        }
        await Promise.all(senders);
        const all = (got: Got): boolean => ['a', 'b', 'c'].every((s) => got.log[s]?.length === n);
        await until(async () => all((await a.node.kernel.ask('r', { type: 'get' })) as Got));
        const got = (await a.node.kernel.ask('r', { type: 'get' })) as Got;
        for (const s of ['a', 'b', 'c']) expect(got.log[s]).toEqual(Array.from({ length: n }, (_, i) => i));
        await c.stop();
        cluster = undefined;
      }),
      { numRuns: 8 },
    );
  }, 60_000);
});

describe('refusals and bad input', () => {
  it('not migratable, unknown definition on the target, placement: typed errors, the actor stays with its state', async () => {
    const pinned = recorderAgent({ name: 'pinned', contract: { migratable: false } });
    const cloudOnly = recorderAgent({ name: 'cloudy', contract: { placement: 'cloud' } });
    const onlyOnA = recorderAgent({ name: 'only-a' });
    cluster = await wiredCluster(['a', 'b'], { agents: [pinned, cloudOnly] });
    const { a } = cluster.nodes as Record<'a' | 'b', NonNullable<WiredCluster['nodes'][string]>>;
    await a.node.spawn(pinned, { id: 'p' });
    await a.node.spawn(cloudOnly, { id: 'cl' });
    await a.node.spawn(onlyOnA, { id: 'oa' });
    for (const id of ['p', 'cl', 'oa']) a.node.kernel.send(id, { type: 'inc', by: 3 });
    await expect(a.handoff.migrate('p', 'b')).rejects.toMatchObject({ code: 'CLUSTER_NOT_MIGRATABLE', field: 'migratable' });
    await expect(a.handoff.migrate('cl', 'b')).rejects.toMatchObject({ code: 'CLUSTER_MIGRATION_REFUSED', field: 'placement' });
    await expect(a.handoff.migrate('oa', 'b')).rejects.toMatchObject({ code: 'CLUSTER_MIGRATION_REFUSED', field: 'definition' });
    for (const id of ['p', 'cl', 'oa']) {
      a.node.kernel.send(id, { type: 'inc', by: 1 });
      expect(await a.node.kernel.ask(id, { type: 'get' })).toMatchObject({ count: 4 });
    }
  });

  it('unknown node, unknown actor, a kernel service actor, a non-string id: errors name the field', async () => {
    const agent = recorderAgent();
    cluster = await wiredCluster(['a', 'b'], { agents: [agent] });
    const { a } = cluster.nodes as Record<'a' | 'b', NonNullable<WiredCluster['nodes'][string]>>;
    await a.node.spawn(agent, { id: 'r' });
    await expect(a.handoff.migrate('r', 'nowhere')).rejects.toMatchObject({ code: 'CLUSTER_UNKNOWN_NODE', field: 'targetNode' });
    await expect(a.handoff.migrate('ghost', 'b')).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR', field: 'actorId' });
    await expect(a.handoff.migrate('agentos.tools', 'b')).rejects.toMatchObject({ code: 'CLUSTER_NOT_MIGRATABLE', field: 'actorId' });
    await expect(a.handoff.migrate(42 as unknown as string, 'b')).rejects.toMatchObject({ code: 'CLUSTER_INVALID_OPTIONS', field: 'actorId' });
    await expect(a.handoff.migrate('r', 'a')).rejects.toMatchObject({ field: 'targetNode' });
  });

  it('a target that does not answer: CLUSTER_MIGRATION_FAILED, the actor carries on at the source with every message', async () => {
    const agent = recorderAgent();
    cluster = await wiredCluster(['a', 'b'], { agents: [agent], mobility: () => ({ migration: { timeoutMs: 200 } }) });
    const { a, b } = cluster.nodes as Record<'a' | 'b', NonNullable<WiredCluster['nodes'][string]>>;
    await a.node.spawn(agent, { id: 'r' });
    a.node.kernel.send('r', { type: 'inc', by: 2 });
    // b swallows everything from now on (a link that accepts and never delivers)
    b.handoff.close();
    b.remote.close();
    const moving = a.handoff.migrate('r', 'b');
    for (let i = 0; i < 5; i++) a.node.kernel.send('r', { type: 'rec', n: i, by: 'a' });
    await expect(moving).rejects.toMatchObject({ code: 'CLUSTER_MIGRATION_FAILED' });
    expect(await a.node.kernel.ask('r', { type: 'get' })).toMatchObject({ count: 2, log: { a: [0, 1, 2, 3, 4] } });
  });

  it('migrate called on a node that does not own the actor asks its owner', async () => {
    const agent = recorderAgent();
    cluster = await wiredCluster(['a', 'b', 'c'], { agents: [agent] });
    const { a, b, c } = cluster.nodes as Record<'a' | 'b' | 'c', NonNullable<WiredCluster['nodes'][string]>>;
    await a.node.spawn(agent, { id: 'r' });
    await until(() => c.remote.locate('r')?.node === 'a');
    await expect(c.handoff.migrate('r', 'b')).resolves.toMatchObject({ from: 'a', to: 'b' });
    expect(b.node.lookup('r')).toBeDefined();
  });
});
