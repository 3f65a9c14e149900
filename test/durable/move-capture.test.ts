// What a persistent actor's move takes on its source (checkpointForTransfer): the
// checkpoint record captured and encoded once, written nowhere here (the target
// stores it), the dedupe marks as of the capture, committed or not, and the
// checkpoint write in flight at the capture, which the move waits for before the
// actor leaves.
import { afterEach, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../src/actors/snapshot/index.js';
import type { Envelope } from '../../src/actors/envelope.js';
import { createNode, defineAgent, type AgentOsNode } from '../../src/index.js';
import { checkpointForTransfer, sourceSettled } from '../../src/kernel/durable/transfer.js';
import { recorderMachine, recorderMessages } from '../cluster/migration/support/agents.js';
import { tempDir } from '../support/tmp.js';

/** Checkpoints rarely: the turns after the stored checkpoint live in the turn log only. */
const lazy = defineAgent({ name: 'lazy', machine: recorderMachine, messages: recorderMessages, persistent: { checkpoint: { everyMessages: 1000 } } });

const open: Array<{ node: AgentOsNode; cleanup: () => void }> = [];
afterEach(async () => {
  for (const { node, cleanup } of open.splice(0)) {
    await node.stop();
    cleanup();
  }
});

async function node(): Promise<AgentOsNode> {
  const t = tempDir('agentos-move-capture-');
  const n = await createNode({ name: 'n', dataDir: t.dir, memory: false, blackboard: false, agents: [lazy] });
  open.push({ node: n, cleanup: t.cleanup });
  return n;
}

/** An envelope from persistent sender `from`, as the router would hand it to the actor. */
function fromSender(to: string, from: string): Envelope {
  return { id: `${from}-1`, from, to, type: 'inc', payload: { type: 'inc', by: 0 }, class: 'DT', sentAt: 0 } as unknown as Envelope;
}

describe('a move’s capture on its source', () => {
  it('carries the current state, encoded once; writes no checkpoint here', async () => {
    const n = await node();
    await n.spawn(lazy, { id: 'p' });
    for (let i = 0; i < 4; i++) n.kernel.send('p', { type: 'rec', n: i, by: 'x' });
    await n.kernel.ask('p', { type: 'get' });
    const { store } = n.kernel.durability!;
    await store.flushed();
    const stored = store.checkpointOf('p')!;
    const cell = n.kernel.durability!.actorOf('p')!.cell;
    cell.pause();
    let captured = 0;
    const { transfer, snapshot } = await checkpointForTransfer(n.kernel.durability!, cell, () => captured++);
    expect(captured).toBe(1);
    expect(transfer.checkpoint.turn).toBe(cell.turn);
    expect(transfer.checkpoint.turn).toBeGreaterThanOrEqual(stored.turn + 5);
    const carried = decodeSnapshot(transfer.checkpoint.snapshot);
    expect((carried.xstate as { context: { log: unknown } }).context.log).toEqual({ x: [0, 1, 2, 3] });
    expect(carried.xstate).toEqual(snapshot.xstate);
    // Nothing was written for it on this node: the stored checkpoint is the one before.
    await store.flushed();
    expect(store.checkpointOf('p')).toEqual(stored);
    cell.resume();
  });

  it('marks: accepts not yet committed are in, senders whose forgetting is not yet committed are out', async () => {
    const n = await node();
    await n.spawn(lazy, { id: 'p' });
    const durability = n.kernel.durability!;
    const d = durability.actorOf('p')!;
    // s2 committed a mark; s1's accept is queued, not committed.
    await d.accept(fromSender('p', 's2'), [7, 0]);
    const accepting = d.accept(fromSender('p', 's1'), [4, 1]);
    expect(durability.store.marks('p')).toEqual([['s2', [7, 0]]]);
    expect(new Map(d.currentMarks())).toEqual(
      new Map([
        ['s1', [4, 1]],
        ['s2', [7, 0]],
      ]),
    );
    await accepting;
    // s2 is gone for good: its mark goes at once for a move, though the store still holds it until the commit.
    const forgetting = durability.forget('s2');
    expect(durability.store.isForgetting('s2')).toBe(true);
    expect(durability.store.marks('p').map(([from]) => from)).toContain('s2');
    expect(d.currentMarks()).toEqual([['s1', [4, 1]]]);
    await forgetting;
    expect(durability.store.isForgetting('s2')).toBe(false);
    expect(durability.store.marks('p')).toEqual([['s1', [4, 1]]]);
    expect(d.currentMarks()).toEqual([['s1', [4, 1]]]);
  });

  it('waits for a checkpoint write in flight at the capture without capturing behind it', async () => {
    const n = await node();
    await n.spawn(lazy, { id: 'p' });
    n.kernel.send('p', { type: 'pad', kb: 512 });
    await n.kernel.ask('p', { type: 'get' });
    const d = n.kernel.durability!.actorOf('p')!;
    const cell = d.cell;
    await d.checkpoint(); // nothing in flight before the one below
    const committed: number[] = [];
    const off = n.kernel.durability!.onCheckpoint((_id, turn) => committed.push(turn));
    const writing = d.checkpoint(); // captures and queues its write now
    cell.pause();
    const { transfer } = await checkpointForTransfer(n.kernel.durability!, cell, () => cell.kill());
    // Captured at once: the write in flight (the same turn) has not committed yet.
    expect(committed).toEqual([]);
    expect(transfer.checkpoint.turn).toBe(cell.turn);
    await sourceSettled(transfer);
    expect(committed).toEqual([cell.turn]);
    await writing;
    off();
  });
});
