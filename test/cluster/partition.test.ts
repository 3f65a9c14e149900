// Network partitions between real node processes. Four nodes on 127.0.0.1, each
// behind a link switch (support/link-switch.ts) that can hold back every
// directed link; each node hosts the persistent `ledger` agent, whose every turn
// charges an order at a provider honouring idempotency keys (support/ledger.ts),
// so the checker sees which node carried out which charge, and whether a key
// ever named two charges.
//
// A: one node cut off from the other three. It fences itself before they down
// it; its agent is failed over to one of them from its replica and runs there;
// the cut-off copy runs nothing more; once the partition heals the node rejoins
// as a new incarnation, its copy is superseded, and the agent lives on one node.
// B: an even split 2|2 under keep-majority: the side holding the lowest address
// keeps running (its agents never pause), the other side fences itself and its
// agent is failed over to the winning side; after healing, one copy of each.
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { readAttempts, type Attempt } from './support/ledger.js';
import { startPartitionCluster, until, type PartitionCluster, type PartitionNode } from './support/partition-cluster.js';

let cluster: PartitionCluster;
let nodes: PartitionNode[];

beforeAll(async () => {
  // Two replicas per agent: with 4 nodes, at least one holder is on the other side of any 2|2 split.
  cluster = await startPartitionCluster(['a', 'b', 'c', 'd'], { replicas: 2 });
  nodes = cluster.nodes;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

// On failure, every node's membership, quorum and failover events in time order (links and charges left out).
beforeEach(() => {
  const from = Date.now();
  onTestFailed(() => {
    const lines = nodes.flatMap((n) => n.events.filter((e) => e.at >= from && !e.event.startsWith('link-')).map((e) => ({ at: e.at, line: `${n.name}: ${e.event} ${e.node ?? e.id ?? ''}${e.incarnation === undefined ? '' : `@${String(e.incarnation)}`}` })));
    console.log(lines.sort((x, y) => x.at - y.at).map((l) => `+${l.at - from} ms ${l.line}`).join('\n'));
  });
});

type Ledger = { done: string[]; failed: string[]; queue: string[] };
const ledger = (via: PartitionNode, id: string): Promise<Ledger> => via.call<Ledger>({ cmd: 'ask', to: id, message: { type: 'get' }, timeoutMs: 2000 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Charges `id` has done, asked through `via`; none while it cannot be reached (not started, or moving). */
const doneVia = (via: PartitionNode, id: string): Promise<string[]> => ledger(via, id).then((l) => l.done, () => []);

/** The nodes running `id` now. */
async function hostsOf(id: string, among: readonly PartitionNode[] = nodes): Promise<string[]> {
  const found = await Promise.all(among.map(async (n) => ((await n.status(id)) ? n.name : undefined)));
  return found.filter((n): n is string => n !== undefined);
}

/** Nothing queued or in flight for `id` on `owner`, and its last stored checkpoint on `holders` of the others. */
async function quiesced(id: string, owner: PartitionNode, holders: number): Promise<void> {
  await until(async () => {
    if ((await ledger(owner, id).then((l) => l.queue.length, () => 1)) > 0) return false; // (asking is a turn: first)
    const s = await owner.status(id);
    if (!s?.checkpoint || s.mailbox > 0) return false;
    const replicas = await Promise.all(nodes.filter((n) => n !== owner).map((n) => n.call<{ checkpoint?: string } | null>({ cmd: 'replica', id })));
    const again = await owner.status(id); // nothing checkpointed meanwhile
    return again?.checkpoint === s.checkpoint && replicas.filter((r) => r?.checkpoint === s.checkpoint).length === holders;
  }, 15_000, `${id} quiet and replicated`);
}

async function allUp(): Promise<boolean> {
  for (const n of nodes) if ((await n.members()).filter((m) => m.status === 'up').length !== nodes.length) return false;
  return true;
}

/** The charges of agent `id`: each carried out at most once, and no key ever named two charges. */
function charges(id: string): Attempt[] {
  const mine = readAttempts(cluster.effectsDir).filter((a) => a.key.startsWith(`ik1/${id}/`));
  const applied = new Map<string, number>();
  for (const a of mine) if (a.outcome === 'applied') applied.set(a.id, (applied.get(a.id) ?? 0) + 1);
  expect([...applied].filter(([, n]) => n > 1), `${id}: charges carried out twice`).toEqual([]);
  expect(mine.filter((a) => a.outcome === 'conflict'), `${id}: keys naming two charges`).toEqual([]);
  return mine;
}

describe('partition between real node processes', () => {
  it('A: a node cut off from the others fences itself, its agent fails over and runs on one of them only; healed, it rejoins and its copy is superseded', async () => {
    const [a, , , d] = nodes as [PartitionNode, PartitionNode, PartitionNode, PartitionNode];
    const majority = nodes.filter((n) => n !== d);
    await d.call({ cmd: 'spawn', id: 'acct' });
    // The directory reaches a a moment after the spawn on d: drive only once a knows where acct lives.
    await until(async () => (await a.call<{ node: string } | null>({ cmd: 'locate', id: 'acct' }))?.node === 'd', 10_000, 'a locating acct');
    await a.call({ cmd: 'drive', to: 'acct', by: 'a1', everyMs: 30 });
    await until(async () => (await doneVia(a, 'acct')).length >= 8);
    await a.call({ cmd: 'undrive' });
    await quiesced('acct', d, 2);
    const before = await ledger(d, 'acct');
    const incarnation = (await a.members()).find((m) => m.nodeId === 'd')!.incarnation;

    const cut = Date.now();
    cluster.links.isolate('d', ['a', 'b', 'c']);
    await until(() => d.firstAt('quorum-lost', { since: cut }) !== undefined, 10_000, 'd fencing itself');
    await d.call({ cmd: 'drive', to: 'acct', by: 'd', everyMs: 40 }); // d's own senders: their messages queue on the fenced copy
    const failedOver = (): string[] => majority.flatMap((n) => n.events.filter((e) => e.event === '@agentos.actor.failed-over' && e.id === 'acct' && e.at >= cut).map(() => n.name));
    await until(() => failedOver().length > 0, 15_000, 'the failover');
    const [takerName] = failedOver();
    const taker = nodes.find((n) => n.name === takerName)!;
    expect(await hostsOf('acct', majority)).toEqual([takerName]);
    const fencedAt = d.firstAt('quorum-lost', { since: cut })!;
    await until(() => majority.every((n) => n.firstAt('member-removed', { node: 'd', since: cut }) !== undefined), 10_000, 'd removed everywhere');
    for (const n of majority) {
      // The minority stopped hosting before anyone downed it.
      expect(fencedAt, `d fenced before ${n.name} downed it`).toBeLessThan(n.firstAt('member-down', { node: 'd', since: cut })!);
      expect(n.firstAt('quorum-lost', { since: cut })).toBeUndefined();
    }
    expect(failedOver()).toEqual([takerName]);
    // It goes on from the replicated state, and serves the majority (once a's directory names the new owner).
    await until(() => ledger(a, 'acct').then(() => true, () => false), 10_000, 'a reaching acct on its new owner');
    // A charge the replica holds in flight is resumed under its key (the provider answers it once): wait for it to land.
    await until(async () => (await ledger(a, 'acct')).done.length >= before.done.length, 10_000, 'the resumed charges');
    expect((await ledger(a, 'acct')).done).toEqual(before.done);
    await a.call({ cmd: 'drive', to: 'acct', by: 'a2', everyMs: 30 });
    await until(async () => (await doneVia(a, 'acct')).filter((x) => x.startsWith('a2-')).length >= 5, 10_000, 'the majority charging');
    // The cut-off copy is paused, holding d's messages, running none.
    await sleep(300);
    const held = await d.status('acct');
    expect(held).toMatchObject({ status: 'paused', quorate: false });
    expect(held!.mailbox).toBeGreaterThan(0);

    const heal = Date.now();
    cluster.links.heal();
    await until(allUp, 20_000, 'every node up again');
    for (const n of majority) expect((await n.members()).find((m) => m.nodeId === 'd')!.incarnation).toBeGreaterThan(incarnation);
    await until(() => d.firstAt('@agentos.actor.superseded', { id: 'acct', since: heal }) !== undefined, 10_000, "d's copy superseded");
    expect(await hostsOf('acct')).toEqual([takerName]);
    for (const n of nodes) if (n !== taker) await until(async () => (await n.call<{ node: string } | null>({ cmd: 'locate', id: 'acct' }))?.node === takerName, 5_000, `${n.name} locating acct`);
    // d's senders reach the agent where it lives now.
    await until(async () => (await doneVia(d, 'acct')).some((x) => x.startsWith('d-')), 10_000, "d's charges after healing");
    await a.call({ cmd: 'undrive' });
    await d.call({ cmd: 'undrive' });

    const all = charges('acct');
    expect(all.filter((x) => x.node === 'd' && x.at >= cut), 'charges made by the cut-off copy').toEqual([]);
    // What d's senders queued on the fenced copy was dropped with it; what they sent later ran on the new owner.
    expect(all.filter((x) => x.id.startsWith('d-') && (x.node !== takerName || x.at < heal))).toEqual([]);
    expect(all.filter((x) => x.id.startsWith('a2-')).every((x) => x.node === takerName)).toBe(true);
  }, 60_000);

  it('B: an even split 2|2 (keep-majority): the side holding the lowest address keeps running, the other fences itself and its agent fails over; healed, one copy of each', async () => {
    cluster.links.heal(); // (whatever A left behind)
    for (const n of nodes) await n.call({ cmd: 'undrive' });
    await until(allUp, 20_000, 'every node up');
    const byAddress = [...nodes].sort((x, y) => (x.config.advertise < y.config.advertise ? -1 : x.config.advertise > y.config.advertise ? 1 : 0));
    const winners = [byAddress[0]!, byAddress[3]!];
    const losers = [byAddress[1]!, byAddress[2]!];
    const [w0, w1] = winners as [PartitionNode, PartitionNode];
    const [l0] = losers as [PartitionNode, PartitionNode];
    await w1.call({ cmd: 'spawn', id: 'wacct' });
    await l0.call({ cmd: 'spawn', id: 'lacct' });
    await until(async () => (await w0.call<{ node: string } | null>({ cmd: 'locate', id: 'wacct' }))?.node === w1.name, 10_000, 'w0 locating wacct');
    for (const w of winners) await until(async () => (await w.call<{ node: string } | null>({ cmd: 'locate', id: 'lacct' }))?.node === l0.name, 10_000, `${w.name} locating lacct`);
    await w0.call({ cmd: 'drive', to: 'wacct', by: 'w', everyMs: 30 });
    await w1.call({ cmd: 'drive', to: 'lacct', by: 'l', everyMs: 30 });
    await until(async () => (await doneVia(w0, 'wacct')).length >= 5 && (await doneVia(w0, 'lacct')).length >= 5);
    await w0.call({ cmd: 'undrive' });
    await w1.call({ cmd: 'undrive' });
    await quiesced('wacct', w1, 2);
    await quiesced('lacct', l0, 2);
    const lBefore = await ledger(w0, 'lacct');

    const cut = Date.now();
    for (const w of winners) for (const l of losers) cluster.links.isolate(w.name, [l.name]);
    await w0.call({ cmd: 'drive', to: 'wacct', by: 'w2', everyMs: 30 }); // the winning side's agent serves on through the split
    await until(async () => (await hostsOf('lacct', winners)).length === 1, 15_000, 'the failover of lacct');
    for (const l of losers) expect(l.firstAt('quorum-lost', { since: cut }), `${l.name} fenced`).toBeDefined();
    for (const w of winners) {
      expect(w.firstAt('quorum-lost', { since: cut }), `${w.name} kept quorum`).toBeUndefined();
      for (const l of losers) expect(l.firstAt('quorum-lost', { since: cut })!).toBeLessThan(w.firstAt('member-down', { node: l.name, since: cut })!);
    }
    await until(() => ledger(w0, 'lacct').then(() => true, () => false), 10_000, 'w0 reaching lacct on its new owner');
    await until(async () => (await ledger(w0, 'lacct')).done.length >= lBefore.done.length, 10_000, 'the resumed charges');
    expect((await ledger(w0, 'lacct')).done).toEqual(lBefore.done);
    expect(await l0.status('lacct')).toMatchObject({ status: 'paused', quorate: false });
    expect(await w1.status('wacct')).toMatchObject({ status: 'running', quorate: true });
    await until(async () => (await doneVia(w0, 'wacct')).filter((x) => x.startsWith('w2-')).length >= 5, 10_000, 'wacct charging during the split');

    const heal = Date.now();
    cluster.links.heal();
    await until(allUp, 20_000, 'every node up again');
    await until(() => l0.firstAt('@agentos.actor.superseded', { id: 'lacct', since: heal }) !== undefined, 10_000, "the loser's copy superseded");
    await w0.call({ cmd: 'undrive' });
    const [lHost] = await hostsOf('lacct');
    expect(await hostsOf('lacct')).toHaveLength(1);
    expect(winners.map((w) => w.name)).toContain(lHost);
    expect(await hostsOf('wacct')).toEqual([w1.name]);
    // wacct never paused: no quorum loss on its node, and its charges ran there only, throughout.
    expect(w1.firstAt('quorum-lost', { since: cut })).toBeUndefined();
    expect(charges('wacct').every((x) => x.node === w1.name)).toBe(true);
    expect(charges('lacct').filter((x) => losers.some((l) => l.name === x.node) && x.at >= cut)).toEqual([]);
  }, 60_000);
});
