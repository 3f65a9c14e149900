// A node cut off while its persistent agent is busy charging: two drivers (one on
// the agent's node, one elsewhere) stream charges to it; the agent's node is cut off,
// fences itself, and the agent fails over to the majority. Every charge runs at most
// once: the fenced copy makes no new call (kernel fences), and the new owner never
// runs a charge under a key the old owner used for another charge, nor the same charge
// under a new key — a call is dispatched only once a checkpoint holding it in flight
// is stored by the replica holders (the replicator's call barrier), so the new owner
// resumes exactly the calls the old one may have made, under their own keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttempts } from './support/ledger.js';
import { startPartitionCluster, until, type PartitionCluster, type PartitionNode } from './support/partition-cluster.js';

let cluster: PartitionCluster | undefined;

beforeAll(async () => {
  cluster = await startPartitionCluster(['a', 'b', 'c']);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a partition under load', () => {
  it('every charge runs at most once, no key names two charges, and the cut-off node charges nothing once its agent is failed over', async () => {
    const [a, b, c] = cluster!.nodes as [PartitionNode, PartitionNode, PartitionNode];
    await c.call({ cmd: 'spawn', id: 'acct' });
    await a.call({ cmd: 'drive', to: 'acct', by: 'a', everyMs: 25 });
    await c.call({ cmd: 'drive', to: 'acct', by: 'c', everyMs: 25 });
    await new Promise((r) => setTimeout(r, 1500));
    const cut = Date.now();
    cluster!.links.isolate('c', ['a', 'b']);
    const failedOverAt = (): number | undefined => [a, b].map((n) => n.firstAt('@agentos.actor.failed-over', { id: 'acct', since: cut })).find((t) => t !== undefined);
    await until(() => failedOverAt() !== undefined, 15_000, 'the failover');
    await new Promise((r) => setTimeout(r, 1000));
    cluster!.links.heal();
    await until(() => c.firstAt('@agentos.actor.superseded', { id: 'acct', since: cut }) !== undefined, 15_000, "c's copy superseded");
    await a.call({ cmd: 'undrive' });
    await c.call({ cmd: 'undrive' });

    const attempts = readAttempts(cluster!.effectsDir).filter((x) => x.key.startsWith('ik1/acct/'));
    const applied = new Map<string, number>();
    for (const x of attempts) if (x.outcome === 'applied') applied.set(x.id, (applied.get(x.id) ?? 0) + 1);
    expect(applied.size, 'charges applied (the load was real)').toBeGreaterThanOrEqual(10);
    expect(new Set(attempts.filter((x) => x.node !== 'c').map((x) => x.node)).size, 'charges made by the new owner').toBe(1);
    expect(attempts.filter((x) => x.node === 'c' && x.at >= failedOverAt()!), 'charges by the cut-off copy after the failover').toEqual([]);
    expect([...applied].filter(([, n]) => n > 1), 'charges carried out twice').toEqual([]);
    expect(attempts.filter((x) => x.outcome === 'conflict'), 'keys naming two charges').toEqual([]);
  }, 90_000);
});
