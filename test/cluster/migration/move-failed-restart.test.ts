// A persistent actor's move writes no checkpoint on its source (the target stores
// the one it carries before it answers). When the move fails, the actor carries on
// at the source from its capture; when the source node then restarts, the actor
// comes back from what it had stored before the move (checkpoint, turns logged
// since, inbox): every message once, in order, nothing lost.
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, defineAgent, type AgentOsNode } from '../../../src/index.js';
import { recorderMachine, recorderMessages } from './support/agents.js';
import { wiredCluster, type WiredCluster } from './support/wire.js';

/** Checkpoints rarely: what happened since the stored checkpoint is in the turn log only. */
const lazy = defineAgent({ name: 'lazy', machine: recorderMachine, messages: recorderMessages, persistent: { checkpoint: { everyMessages: 1000 } } });

let cluster: WiredCluster | undefined;
let restarted: AgentOsNode | undefined;
afterEach(async () => {
  await restarted?.stop();
  restarted = undefined;
  await cluster?.stop();
  cluster = undefined;
});

describe('a failed move of a persistent actor', () => {
  it('leaves the source store as it was; the actor carries on there, and after a restart recovers every message once, in order', async () => {
    cluster = await wiredCluster(['a', 'b'], { agents: [lazy], mobility: () => ({ migration: { timeoutMs: 200 } }) });
    const { a, b } = cluster.nodes as Record<'a' | 'b', NonNullable<WiredCluster['nodes'][string]>>;
    await a.node.spawn(lazy, { id: 'r' });
    for (let i = 0; i < 5; i++) a.node.kernel.send('r', { type: 'rec', n: i, by: 'a' });
    a.node.kernel.send('r', { type: 'inc', by: 2 });
    await a.node.kernel.ask('r', { type: 'get' });
    const store = a.node.kernel.durability!.store;
    await store.flushed();
    const before = store.checkpointOf('r')!;

    // b swallows everything from now on: the move times out after the capture.
    b.handoff.close();
    b.remote.close();
    const moving = a.handoff.migrate('r', 'b');
    for (let i = 5; i < 10; i++) a.node.kernel.send('r', { type: 'rec', n: i, by: 'a' });
    await expect(moving).rejects.toMatchObject({ code: 'CLUSTER_MIGRATION_FAILED' });
    await store.flushed();
    expect(store.checkpointOf('r')).toEqual(before);
    const expected = { count: 2, log: { a: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } };
    expect(await a.node.kernel.ask('r', { type: 'get' })).toMatchObject(expected);

    // It carries on after the failed move, then the node goes down and comes back.
    for (let i = 10; i < 13; i++) a.node.kernel.send('r', { type: 'rec', n: i, by: 'a' });
    expect(await a.node.kernel.ask('r', { type: 'get' })).toMatchObject({ count: 2, log: { a: [...expected.log.a, 10, 11, 12] } });
    a.handoff.close();
    a.remote.close();
    await a.node.stop();
    restarted = await createNode({ name: 'a', dataDir: a.node.dataDir, memory: false, blackboard: false, agents: [lazy] });
    expect(await restarted.kernel.ask('r', { type: 'get' })).toMatchObject({ count: 2, log: { a: [...expected.log.a, 10, 11, 12] } });
  });
});
