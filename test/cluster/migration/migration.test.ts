// Live migration across three real node processes on 127.0.0.1: while a sender on
// a third node streams numbered messages, the actor moves n1 → n2; afterwards its
// record holds every number exactly once, in order, and its counter came along —
// for a non-persistent and a persistent actor. Refusals (contract says not
// migratable, the target lacks the definition, the target's admission refuses an
// HRT actor) leave the actor running on its source with its state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, until, type MobileNode } from './support/processes.js';

let cluster: Awaited<ReturnType<typeof startCluster>>;
let n1: MobileNode, n2: MobileNode, n3: MobileNode;

beforeAll(async () => {
  cluster = await startCluster([{ name: 'n1', solo: true }, { name: 'n2' }, { name: 'n3' }]);
  [n1, n2, n3] = cluster.nodes as [MobileNode, MobileNode, MobileNode];
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

type Got = { count: number; log: Record<string, number[]> };

for (const agent of ['recorder', 'precorder'] as const) {
  it(`${agent === 'precorder' ? 'a persistent' : 'a non-persistent'} actor moves n1 → n2 under load from n3: every message once, in order, state carried`, async () => {
    const id = `${agent}-1`;
    await n1.call({ cmd: 'spawn', agent, id });
    await n1.call({ cmd: 'send', to: id, message: { type: 'inc', by: 9 } });
    await until(async () => (await n3.call<{ node: string } | null>({ cmd: 'locate', id }))?.node === 'n1');
    const count = 1500;
    const streaming = n3.call<{ sent: number; errors: string[] }>({ cmd: 'stream', to: id, by: 'n3', count, everyMs: 0 });
    await new Promise((r) => setTimeout(r, 150));
    const moved = await n1.call<{ from: string; to: string; incarnation: number; ms: number }>({ cmd: 'migrate', id, to: 'n2' });
    expect(moved).toMatchObject({ from: 'n1', to: 'n2', incarnation: 1 });
    const sent = await streaming;
    expect(sent).toEqual({ sent: count, errors: [] });
    expect(await n2.call({ cmd: 'here', id })).toBe(true);
    expect(await n1.call({ cmd: 'here', id })).toBe(false);
    await until(async () => ((await n3.call<Got>({ cmd: 'ask', to: id, message: { type: 'get' } })).log.n3?.length ?? 0) >= count);
    const got = await n3.call<Got>({ cmd: 'ask', to: id, message: { type: 'get' } });
    expect(got.count).toBe(9);
    expect(got.log.n3).toEqual(Array.from({ length: count }, (_, i) => i));
    await until(async () => (await n3.call<{ node: string } | null>({ cmd: 'locate', id }))?.node === 'n2');
  }, 40_000);
}

describe('refusals leave the actor on its source, running, with its state', () => {
  it('migratable: false', async () => {
    await n1.call({ cmd: 'spawn', agent: 'pinned', id: 'pin' });
    await n1.call({ cmd: 'send', to: 'pin', message: { type: 'inc', by: 2 } });
    await expect(n1.call({ cmd: 'migrate', id: 'pin', to: 'n2' })).rejects.toMatchObject({ code: 'CLUSTER_NOT_MIGRATABLE', field: 'migratable' });
    expect(await n1.call({ cmd: 'ask', to: 'pin', message: { type: 'get' } })).toMatchObject({ count: 2 });
  });

  it('the target lacks the definition', async () => {
    await n1.call({ cmd: 'spawn', agent: 'solo', id: 'solo-1' });
    await n1.call({ cmd: 'send', to: 'solo-1', message: { type: 'inc', by: 3 } });
    await expect(n1.call({ cmd: 'migrate', id: 'solo-1', to: 'n2' })).rejects.toMatchObject({ code: 'CLUSTER_MIGRATION_REFUSED', field: 'definition' });
    await n1.call({ cmd: 'send', to: 'solo-1', message: { type: 'inc', by: 1 } });
    expect(await n1.call({ cmd: 'ask', to: 'solo-1', message: { type: 'get' } })).toMatchObject({ count: 4 });
    expect(await n2.call({ cmd: 'here', id: 'solo-1' })).toBe(false);
  });

  it("the target's admission refuses an HRT actor that does not fit beside its own", async () => {
    await n2.call({ cmd: 'spawn', agent: 'hrt', id: 'guard' });
    await n1.call({ cmd: 'spawn', agent: 'hrt', id: 'loop' });
    await n1.call({ cmd: 'send', to: 'loop', message: { type: 'inc', by: 5 } });
    await expect(n1.call({ cmd: 'migrate', id: 'loop', to: 'n2' })).rejects.toMatchObject({ code: 'CLUSTER_MIGRATION_REFUSED' });
    expect(await n1.call({ cmd: 'ask', to: 'loop', message: { type: 'get' } })).toMatchObject({ count: 5 });
    expect(await n2.call({ cmd: 'here', id: 'loop' })).toBe(false);
  });

  it('bad input: an unknown node, an unknown actor', async () => {
    await expect(n3.call({ cmd: 'migrate', id: 'pin', to: 'n9' })).rejects.toMatchObject({ code: 'CLUSTER_UNKNOWN_NODE', field: 'targetNode' });
    await expect(n3.call({ cmd: 'migrate', id: 'nobody', to: 'n2' })).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR', field: 'actorId' });
  });
});
