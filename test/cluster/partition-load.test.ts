// KNOWN GAP, reproduced on demand (AGENTOS_PARTITION_UNDER_LOAD=1): a node cut off
// while its persistent agent is busy. The cluster layer fences and fails over as in
// partition.test.ts, and a fenced agent makes no new call (kernel fences: the first
// assertion below holds since they exist), but one thing below it still lets a
// charge run twice or get lost: the new owner re-runs the turns made after the last
// replicated checkpoint, and an idempotency key names a turn number, not what the
// turn does — re-run in another interleaving, the same charge gets another key
// (charged twice) and another charge the same key (deduplicated away, never
// charged). Fixing it needs keys derived from the message a turn handles (or keys
// replicated before each call): see the README's "Partitions". This test states the
// promise and fails today on the second assertion; it is not part of the default run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttempts } from './support/ledger.js';
import { startPartitionCluster, until, type PartitionCluster, type PartitionNode } from './support/partition-cluster.js';

const enabled = process.env.AGENTOS_PARTITION_UNDER_LOAD === '1';
let cluster: PartitionCluster | undefined;

beforeAll(async () => {
  if (enabled) cluster = await startPartitionCluster(['a', 'b', 'c']);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe.runIf(enabled)('a partition under load (known gap)', () => {
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
    expect(attempts.filter((x) => x.node === 'c' && x.at >= failedOverAt()!), 'charges by the cut-off copy after the failover').toEqual([]);
    expect([...applied].filter(([, n]) => n > 1), 'charges carried out twice').toEqual([]);
    expect(attempts.filter((x) => x.outcome === 'conflict'), 'keys naming two charges').toEqual([]);
  }, 90_000);
});
