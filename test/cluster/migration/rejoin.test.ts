// A node back from a partition, in one process over in-memory links. Its side
// lost quorum (its persistent agents were paused), the others downed and removed
// it and may have failed its agents over; it rejoins as a new incarnation. None
// of its paused agents resumes until every up member has shown it its directory:
// an agent restarted elsewhere is stopped here (superseded) without handling
// another message, one nobody took over resumes. A restart still in progress when
// the old owner shows up counts as taken over, and a replica the old owner
// shipped before the partition ended is refused by the new owner.
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import type { MembershipEvent } from '../../../src/cluster/membership/index.js';
import { ReplicaStore } from '../../../src/cluster/migration/replicas.js';
import type { ReplicaBody } from '../../../src/cluster/migration/protocol.js';
import { tempDir } from '../../support/tmp.js';
import { recorderAgent, type RecorderState } from './support/agents.js';
import { until } from '../../support/agents.js';
import { wiredCluster, type WiredCluster, type WiredNode } from './support/wire.js';

let cluster: WiredCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});


type Got = { count: number; log: RecorderState['log'] };
const agent = recorderAgent({ persistent: true });

function quorum(c: WiredCluster, node: string, type: 'quorum-lost' | 'quorum-gained' | 'rejoining'): void {
  c.quorate.set(node, type === 'quorum-gained');
  const event = type === 'rejoining' ? { type, previousIncarnation: 1, incarnation: 2, at: 0 } : { type, decision: { keep: type === 'quorum-gained', reason: 'majority', reachable: 1, members: 2 }, memberStatus: 'up', at: 0 };
  c.nodes[node]!.handoff.onMembership(event as MembershipEvent);
}

/** `a` hosts p1 with one replicated turn, then is cut off: fenced, with `queued` messages waiting in its mailbox. */
async function fencedOwner(queued: number): Promise<{ a: WiredNode; b: WiredNode; c: WiredCluster }> {
  const c = (cluster = await wiredCluster(['a', 'b'], { agents: [agent] }));
  const { a, b } = c.nodes as Record<'a' | 'b', WiredNode>;
  await a.node.spawn(agent, { id: 'p1' });
  await a.node.kernel.post('p1', { type: 'inc', by: 1 });
  await until(() => (b.handoff.replicas?.get('p1')?.transfer.durable?.checkpoint.turn ?? 0) >= 1);
  c.wire.down.add('a');
  quorum(c, 'a', 'quorum-lost');
  expect(a.node.kernel.describe('p1')?.status).toBe('paused');
  for (let i = 0; i < queued; i++) a.node.kernel.send('p1', { type: 'inc', by: 100 });
  return { a, b, c };
}

/** `a` is back: the others downed it, it rejoins and its side is quorate again. */
function backAsNewIncarnation(c: WiredCluster): void {
  c.wire.down.delete('a');
  quorum(c, 'a', 'rejoining');
  quorum(c, 'a', 'quorum-gained');
}

describe('a node the others downed while it was cut off', () => {
  it('keeps its agents paused until every member has synced; one failed over meanwhile is stopped here without handling another message', async () => {
    const { a, b, c } = await fencedOwner(3);
    c.event('b', 'member-down', 'a');
    c.event('b', 'member-removed', 'a');
    await until(() => b.node.lookup('p1') !== undefined);
    const superseded: unknown[] = [];
    a.node.kernel.tap((e) => void (e.type === '@agentos.actor.superseded' && superseded.push(e)));
    backAsNewIncarnation(c);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.node.kernel.describe('p1')).toMatchObject({ status: 'paused', delivered: 1 });
    b.remote.memberUp('a'); // b sees a's new incarnation up: a gets b's directory, p1 in it
    await until(() => a.node.lookup('p1') === undefined);
    expect(superseded).toEqual([expect.objectContaining({ id: 'p1', by: 'b' })]);
    // The three messages a held were never handled anywhere; b answers from the replicated turn.
    expect(((await b.node.kernel.ask('p1', { type: 'get' })) as Got).count).toBe(1);
  });

  it('resumes an agent nobody took over once every member has synced, with the messages it held', async () => {
    const { a, b, c } = await fencedOwner(2);
    c.quorate.set('b', false); // b's side had no quorum either: nothing was failed over
    c.event('b', 'member-down', 'a');
    c.event('b', 'member-removed', 'a');
    c.quorate.set('b', true);
    backAsNewIncarnation(c);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.node.kernel.describe('p1')?.status).toBe('paused');
    b.remote.memberUp('a');
    await until(() => a.node.kernel.describe('p1')?.status === 'running');
    expect(b.node.lookup('p1')).toBeUndefined();
    await until(async () => ((await a.node.kernel.ask('p1', { type: 'get' })) as Got).count === 201);
  });

  it('an old owner that shows its directory while the restart is still in progress is told its copy is superseded once it is done', async () => {
    const { a, b, c } = await fencedOwner(0);
    c.event('b', 'member-down', 'a');
    c.event('b', 'member-removed', 'a'); // the restart starts; it takes a few event-loop turns
    c.wire.down.delete('a');
    a.remote.memberUp('b'); // a's directory (p1 in it) reaches b before the restart is done
    expect(b.node.lookup('p1')).toBeUndefined();
    await until(() => a.node.lookup('p1') === undefined);
    expect(b.node.lookup('p1')).toBeDefined();
  });

  it('a replica of the old copy, shipped once the links are back, is refused by the node that took the agent over', async () => {
    const { a, b, c } = await fencedOwner(0);
    c.event('b', 'member-down', 'a');
    c.event('b', 'member-removed', 'a');
    await until(() => b.node.lookup('p1') !== undefined && b.handoff.replicas!.get('p1') === undefined); // restarted, its replica used up
    c.wire.down.delete('a');
    await a.node.kernel.checkpointActor('p1'); // the old copy ships its state to its replica set: b
    await new Promise((r) => setTimeout(r, 100));
    expect(b.handoff.replicas!.get('p1')).toBeUndefined();
  });
});

describe('the replica store', () => {
  it('a drop that arrives right behind its replica removes it (writes apply in arrival order)', async () => {
    const tmp = tempDir('agentos-replicas-');
    const root = open({ path: tmp.dir });
    try {
      const store = new ReplicaStore(root);
      const body = { owner: 'a', seq: 1, replicaSet: ['b'], transfer: { id: 'p1', agent: 'x', version: '1', tenant: 'default', incarnation: 0, paused: false, mailbox: [] } } as ReplicaBody;
      const put = store.put(body);
      const drop = store.dropFrom('a', 'p1'); // not awaiting the put: the link delivered both at once
      const foreign = store.dropFrom('c', 'p1');
      await Promise.all([put, drop, foreign]);
      expect(store.get('p1')).toBeUndefined();
      await store.put(body);
      await store.dropFrom('c', 'p1'); // only the owner that shipped it can drop it
      expect(store.ownerOf('p1')).toBe('a');
    } finally {
      await root.close();
      tmp.cleanup();
    }
  });
});
