// A persistent actor's stored state as it leaves one node and arrives on another:
// the dedupe marks it keeps travel with it; forgetting an actor that moved away
// keeps the marks other actors hold of it (it lives on, its sends still count);
// forgetting one that is gone for good drops them.
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type AgentOsNode } from '../../src/index.js';
import { replicaState } from '../../src/kernel/durable/transfer.js';
import { recorderAgent } from '../cluster/migration/support/agents.js';
import { tempDir } from '../support/tmp.js';

const open: Array<{ node: AgentOsNode; cleanup: () => void }> = [];
afterEach(async () => {
  for (const { node, cleanup } of open.splice(0)) {
    await node.stop();
    cleanup();
  }
});

async function node(name: string): Promise<AgentOsNode> {
  const t = tempDir(`agentos-transfer-${name}-`);
  const n = await createNode({ name, dataDir: t.dir, memory: false, blackboard: false, agents: [recorderAgent({ persistent: true })] });
  open.push({ node: n, cleanup: t.cleanup });
  return n;
}

describe('durable transfer', () => {
  it('marks an actor keeps travel with it; marks others keep of a moved actor stay, of a forgotten one go', async () => {
    const a = await node('a');
    const b = await node('b');
    const store = a.kernel.durability!.store;
    await a.spawn(recorderAgent({ persistent: true }), { id: 'p' });
    await a.spawn(recorderAgent({ persistent: true }), { id: 'q' });
    await a.kernel.post('p', { type: 'inc', by: 3 });
    // p has seen persistent senders s1 and s2; q has seen p.
    await store.accept('p', { seq: 900, at: 0, body: { inline: { type: 'inc', by: 0 } }, from: 's1', origin: [4, 1] });
    await store.accept('p', { seq: 901, at: 0, body: { inline: { type: 'inc', by: 0 } }, from: 's2', origin: [7, 0] });
    await store.accept('q', { seq: 900, at: 0, body: { inline: { type: 'inc', by: 0 } }, from: 'p', origin: [2, 0] });
    expect(store.marks('p')).toEqual([
      ['s1', [4, 1]],
      ['s2', [7, 0]],
    ]);
    await a.lookup('p')!.checkpoint();
    const state = replicaState(store, 'p')!;
    expect(state.checkpoint.turn).toBeGreaterThanOrEqual(1);
    expect(Object.keys(state.checkpoint).sort()).toEqual(['at', 'chain', 'snapshot', 'turn', 'v']);
    expect(state.inbox.map((m) => m.from)).toEqual(['s1', 's2']);

    // Arrives on b (as a migration imports it): the checkpoint restores, the marks are there.
    const bDur = b.kernel.durability!;
    await bDur.store.importState({ v: 1, kind: 'agent', id: 'p', order: bDur.nextOrder(), agent: 'precorder@1', spawn: state.spawn }, state.checkpoint, state.marks);
    expect(bDur.store.marks('p')).toEqual(state.marks);
    expect(bDur.store.checkpointOf('p')!.chain).toBe(state.checkpoint.chain);

    // Leaving a: q's mark of p stays; then a forget for good drops it.
    a.kernel.durability!.movingAway('p');
    await a.kernel.durability!.forget('p');
    expect(store.registration('p')).toBeUndefined();
    expect(store.marks('p')).toEqual([]);
    expect(store.origin('q', 'p')).toEqual([2, 0]);
    await a.kernel.durability!.forget('p');
    expect(store.origin('q', 'p')).toBeUndefined();
  });
});
