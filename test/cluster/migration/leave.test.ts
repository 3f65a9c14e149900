// A node that leaves gracefully hands its agents off first: three nodes in this
// process over real loopback links; n3 holds a non-persistent and a persistent
// recorder and a `migratable: false` one; `node.stop()` on n3 moves the first two
// (with their state) to the others, the pinned one stays and stops with n3, and
// the others never see n3 down (nothing fails over). With `handOffOnLeave:
// false` nothing moves.
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type AgentOsNode, type SystemEvent } from '../../../src/index.js';
import { until } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { recorderAgent, type RecorderState } from './support/agents.js';

const SECRET = 'leave test cluster secret, 32 b.';
const recorder = recorderAgent();
const precorder = recorderAgent({ persistent: true });
const pinned = recorderAgent({ name: 'pinned', contract: { migratable: false } });

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function member(name: string, seeds: string[], events: SystemEvent[] = [], handOffOnLeave?: boolean): Promise<AgentOsNode> {
  const t = tempDir(`agentos-leave-${name}-`);
  cleanups.push(t.cleanup);
  const node = await createNode({
    name,
    dataDir: t.dir,
    memory: false,
    blackboard: false,
    agents: [recorder, precorder, pinned],
    inspect: (e) => {
      if (e.type.startsWith('@agentos.cluster')) events.push(e as SystemEvent);
    },
    cluster: { secret: SECRET, seeds, ...(handOffOnLeave === undefined ? {} : { handOffOnLeave }) },
  });
  cleanups.push(() => node.stop());
  return node;
}

const up = (n: AgentOsNode): number => n.cluster!.members().filter((m) => m.status === 'up').length;

async function three(handOffOnLeave?: boolean): Promise<{ n1: AgentOsNode; n2: AgentOsNode; n3: AgentOsNode; events: SystemEvent[] }> {
  const events: SystemEvent[] = [];
  const n1 = await member('n1', []);
  const n2 = await member('n2', [n1.cluster!.url]);
  const n3 = await member('n3', [n1.cluster!.url], events, handOffOnLeave);
  await until(() => [n1, n2, n3].every((n) => up(n) === 3), 10_000);
  await n3.spawn(recorder, { id: 'r' });
  await n3.spawn(precorder, { id: 'p' });
  await n3.spawn(pinned, { id: 'pin' });
  for (const id of ['r', 'p', 'pin']) n3.kernel.send(id, { type: 'inc', by: 5 });
  await until(() => ['r', 'p', 'pin'].every((id) => n1.cluster!.remote.locate(id)?.node === 'n3'), 10_000);
  return { n1, n2, n3, events };
}

describe('graceful leave', () => {
  it('hands the agents that may move to the other members, with their state; the pinned one stops with the node', async () => {
    const { n1, n2, n3, events } = await three();
    const downs: string[] = [];
    n1.cluster!.on((e) => {
      if (e.type === 'member-down') downs.push(e.member.nodeId);
    });
    await n3.stop();
    const handed = events.find((e) => e.type === '@agentos.cluster.handed-off') as { moved: number; stayed: { id: string; reason: string }[] } | undefined;
    expect(handed?.moved).toBe(2);
    expect(handed?.stayed.map((s) => s.id)).toEqual(['pin']);
    expect(handed?.stayed[0]!.reason).toMatch(/migratable: false/);
    for (const id of ['r', 'p']) {
      const host = [n1, n2].find((n) => n.lookup(id) !== undefined);
      expect(host, id).toBeDefined();
      const got = (await n1.kernel.ask(id, { type: 'get' }, { timeoutMs: 5000 })) as RecorderState;
      expect(got.count).toBe(5);
    }
    expect(n1.lookup('pin') ?? n2.lookup('pin')).toBeUndefined();
    expect(downs).toEqual([]);
  });

  it('moves nothing with handOffOnLeave: false', async () => {
    const { n1, n2, n3, events } = await three(false);
    await n3.stop();
    expect(events.find((e) => e.type === '@agentos.cluster.handed-off')).toBeUndefined();
    for (const id of ['r', 'p', 'pin']) expect(n1.lookup(id) ?? n2.lookup(id)).toBeUndefined();
  });
});
