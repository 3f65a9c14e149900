// A persistent manager and persistent bidders across a node restart in the
// middle of a round: the proposals received, the open round, its deadline timer
// and a bidder's pending (delayed) answer are all in their checkpoints, so the
// round finishes after the restart as if nothing happened.
import { expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { contractNetManager, type ManagerState } from '../../../src/services/market/index.js';
import { settle } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { fixedBidder } from './support.js';

it('a round interrupted by a restart of the node completes after it, from the checkpoints', async () => {
  const tmp = tempDir('agentos-market-persist-');
  const clock = new VirtualClock(0);
  const manager = contractNetManager({ name: 'p-manager', bidders: ['a', 'b'], deadlineMs: 100, persistent: true });
  const a = fixedBidder('p-bidder-a', { price: 5, etaMs: 1, quality: 0.5 }, { replyAfterMs: 10, persistent: true });
  const b = fixedBidder('p-bidder-b', { price: 3, etaMs: 1, quality: 0.5 }, { replyAfterMs: 40, persistent: true });
  const start = () => createNode({ name: 'p', dataDir: tmp.dir, clock, memory: false, agents: [manager, a, b] });
  const state = (node: AgentOsNode) => node.lookup('mgr')!.getSnapshot()!.context as ManagerState;
  let node = await start();
  try {
    await node.spawn(a, { id: 'a' });
    await node.spawn(b, { id: 'b' });
    const mgr = await node.spawn(manager, { id: 'mgr' });
    await mgr.post({ type: 'announce', taskId: 't1', maxPrice: 10 });
    await settle();
    clock.advance(15); // a has proposed; b's answer is still due at t=40
    await settle();
    expect(state(node).tasks.t1).toMatchObject({ phase: 'collecting', proposals: [{ bidder: 'a', price: 5 }] });
    await node.stop();

    node = await start();
    expect(node.durability.recovery).toMatchObject({ restored: ['a', 'b', 'mgr'], held: [] });
    expect(state(node).tasks.t1).toMatchObject({ phase: 'collecting', proposals: [{ bidder: 'a' }] });
    clock.advance(30); // b's delayed answer fires at t=40 after the restart: every bidder answered, the round closes
    await settle();
    expect(state(node).outcomes).toEqual([expect.objectContaining({ status: 'done', taskId: 't1', winner: 'b', price: 3, attempts: 1, awardedAt: 45, completedAt: 45 })]);
    expect(state(node).ledger.charged).toBe(3_000_000);
  } finally {
    await node.stop();
    tmp.cleanup();
  }
});
