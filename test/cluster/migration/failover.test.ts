// Replication and failover in one process: a persistent agent's checkpoints are
// shipped to its replica holder; when its owner is declared down and removed, the
// holder (on the quorate side) restarts it from the last replicated checkpoint,
// with the messages it had accepted; on a side without quorum nothing is
// restarted; a stale copy published again by the old owner is told it is superseded.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../../src/index.js';
import { callsInCheckpoint } from '../../../src/kernel/durable/transfer.js';
import { tempDir } from '../../support/tmp.js';
import { payerAgent, payTool, recorderAgent, type RecorderState } from './support/agents.js';
import { until } from '../../support/agents.js';
import { wiredCluster, type WiredCluster, type WiredNode } from './support/wire.js';

let cluster: WiredCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});


type Got = { count: number; log: RecorderState['log'] };

/** The node holding the replica of `id` (replicas: 1). */
function holderOf(c: WiredCluster, id: string): WiredNode | undefined {
  return Object.values(c.nodes).find((n) => n.handoff.replicas?.get(id) !== undefined);
}

async function ownerDies(c: WiredCluster, owner: string): Promise<void> {
  c.wire.down.add(owner);
  for (const name of Object.keys(c.nodes)) {
    if (name === owner) continue;
    c.event(name, 'member-down', owner);
    c.event(name, 'member-removed', owner);
  }
}

describe('failover', () => {
  it('the replica holder restarts a persistent agent from its last replicated checkpoint, with its accepted messages', async () => {
    const agent = recorderAgent({ persistent: true });
    cluster = await wiredCluster(['a', 'b', 'c'], { agents: [agent] });
    const c = cluster.nodes.c!;
    await c.node.spawn(agent, { id: 'p1' });
    for (let i = 0; i < 20; i++) await c.node.kernel.post('p1', { type: 'rec', n: i, by: 'c' });
    c.node.kernel.send('p1', { type: 'inc', by: 5 });
    await until(async () => ((await c.node.kernel.ask('p1', { type: 'get' })) as Got).count === 5);
    await until(() => (holderOf(cluster!, 'p1')?.handoff.replicas?.get('p1')?.transfer.durable?.checkpoint.turn ?? 0) >= 21);
    const holder = holderOf(cluster, 'p1')!;
    const other = Object.values(cluster.nodes).find((n) => n !== holder && n !== c)!;
    const events: string[] = [];
    holder.node.kernel.tap((e) => void (e.type.startsWith('@agentos.actor.failed') && events.push(e.type)));
    await ownerDies(cluster, 'c');
    await until(() => events.length > 0);
    expect(events).toEqual(['@agentos.actor.failed-over']);
    expect(holder.node.lookup('p1')).toBeDefined();
    expect(other.node.lookup('p1')).toBeUndefined();
    await until(() => other.remote.locate('p1')?.node === holder.name);
    const got = (await other.node.kernel.ask('p1', { type: 'get' })) as Got;
    expect(got.count).toBe(5);
    expect(got.log.c).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(other.remote.locate('p1')!.incarnation).toBeGreaterThan(0);
    // The replica is gone from the holder (it owns the actor now) and the actor replicates from there.
    expect(holder.handoff.replicas!.get('p1')).toBeUndefined();
    await holder.node.kernel.post('p1', { type: 'inc', by: 1 });
    await until(() => other.handoff.replicas?.get('p1')?.owner === holder.name);
  });

  it('on a side without quorum nothing is restarted', async () => {
    const agent = recorderAgent({ persistent: true });
    cluster = await wiredCluster(['a', 'b', 'c'], { agents: [agent] });
    const c = cluster.nodes.c!;
    await c.node.spawn(agent, { id: 'p2' });
    await c.node.kernel.post('p2', { type: 'inc', by: 2 });
    await until(() => holderOf(cluster!, 'p2') !== undefined);
    const holder = holderOf(cluster, 'p2')!;
    cluster.quorate.set(holder.name, false);
    await ownerDies(cluster, 'c');
    await new Promise((r) => setTimeout(r, 200));
    expect(holder.node.lookup('p2')).toBeUndefined();
    expect(holder.handoff.replicas!.get('p2')).toBeDefined();
  });

  it('a non-persistent actor is not replicated, and a graceful leave (no down) fails nothing over', async () => {
    const plain = recorderAgent();
    const durable = recorderAgent({ persistent: true });
    cluster = await wiredCluster(['a', 'b'], { agents: [plain, durable] });
    const { a, b } = cluster.nodes as Record<'a' | 'b', WiredNode>;
    await a.node.spawn(plain, { id: 'np' });
    await a.node.spawn(durable, { id: 'dp' });
    await a.node.kernel.post('dp', { type: 'inc', by: 1 });
    await until(() => b.handoff.replicas?.get('dp') !== undefined);
    expect(b.handoff.replicas!.get('np')).toBeUndefined();
    cluster.wire.down.add('a');
    cluster.event('b', 'member-removed', 'a');
    await new Promise((r) => setTimeout(r, 100));
    expect(b.node.lookup('dp')).toBeUndefined();
  });

  it('a non-idempotent call in flight at the last replicated checkpoint is in doubt on the new owner: not run again, settled by a person', async () => {
    const files = tempDir('agentos-pay-');
    const file = join(files.dir, 'pay.jsonl');
    try {
      cluster = await wiredCluster(['a', 'b'], { agents: [payerAgent()], tools: (name) => [payTool(file, name, name === 'a' ? 60_000 : 10, false)] });
      const { a, b } = cluster.nodes as Record<'a' | 'b', WiredNode>;
      await a.node.spawn(payerAgent(), { id: 'payer' });
      await a.node.kernel.post('payer', { type: 'pay', order: 'o1' });
      const inFlight = (): number => {
        const cp = b.handoff.replicas?.get('payer')?.transfer.durable?.checkpoint;
        return cp ? cp.turn : -1;
      };
      // The call starts only after the replica holding it is stored (the call barrier): wait for the tool to have started.
      await until(() => inFlight() >= 1 && existsSync(file) && readFileSync(file, 'utf8').includes('"start"'));
      await ownerDies(cluster, 'a');
      await until(() => b.node.durability.inDoubt().length === 1);
      const [call] = b.node.durability.inDoubt();
      expect(call).toMatchObject({ actor: 'payer' });
      expect(readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.includes('"node":"b"'))).toEqual([]);
      await b.node.durability.resolve(call!.key, { result: { ok: true } }, 'ops');
      await until(async () => ((await b.node.kernel.ask('payer', { type: 'get' })) as { paid: string[] }).paid.includes('o1'));
      expect(readFileSync(file, 'utf8')).not.toContain('"node":"b"');
    } finally {
      await cluster?.stop();
      cluster = undefined;
      files.cleanup();
    }
  });

  it("a persistent agent's call is dispatched only once its replica holder stores a checkpoint holding that call in flight (the call barrier)", async () => {
    const seen: Array<{ order: string; inReplica: boolean }> = [];
    const at: { holder?: WiredNode } = {};
    // The tool runs on the owner and looks at the holder's store at the moment it is dispatched.
    const probe = defineTool({
      name: 'pay',
      description: 'notes whether its call is in the replica when it runs',
      input: z.object({ order: z.string() }),
      idempotent: 'key',
      execute: async (args, ctx) => {
        const stored = at.holder?.handoff.replicas?.get('payer')?.transfer.durable;
        seen.push({ order: args.order, inReplica: stored !== undefined && callsInCheckpoint(stored).some((c) => c.key === ctx.key) });
        return { ok: true };
      },
    });
    cluster = await wiredCluster(['a', 'b'], { agents: [payerAgent()], tools: () => [probe] });
    const { a, b } = cluster.nodes as Record<'a' | 'b', WiredNode>;
    at.holder = b;
    await a.node.spawn(payerAgent(), { id: 'payer' });
    for (let i = 0; i < 5; i++) await a.node.kernel.post('payer', { type: 'pay', order: `o${i}` });
    await until(async () => ((await a.node.kernel.ask('payer', { type: 'get' })) as { paid: string[] }).paid.length === 5);
    expect(seen.map((s) => s.order)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
    expect(seen.filter((s) => !s.inReplica), 'calls dispatched before their replica was stored').toEqual([]);
  });

  it('an old owner that publishes a failed-over actor again is told its copy is superseded, and stops it', async () => {
    const agent = recorderAgent({ persistent: true });
    cluster = await wiredCluster(['a', 'b'], { agents: [agent] });
    const { a, b } = cluster.nodes as Record<'a' | 'b', WiredNode>;
    await a.node.spawn(agent, { id: 'p3' });
    await a.node.kernel.post('p3', { type: 'inc', by: 4 });
    await until(() => (b.handoff.replicas?.get('p3')?.transfer.durable?.checkpoint.turn ?? 0) >= 1);
    await ownerDies(cluster, 'a');
    await until(() => b.node.lookup('p3') !== undefined);
    // a comes back (its copy still running) and publishes its actors to b.
    cluster.wire.down.delete('a');
    const superseded: unknown[] = [];
    a.node.kernel.tap((e) => void (e.type === '@agentos.actor.superseded' && superseded.push(e)));
    a.remote.memberUp('b');
    await until(() => a.node.lookup('p3') === undefined);
    expect(superseded).toEqual([expect.objectContaining({ id: 'p3', by: 'b' })]);
    expect(await b.node.kernel.ask('p3', { type: 'get' })).toMatchObject({ count: 4 });
  });
});
