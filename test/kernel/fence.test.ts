// A fenced actor (its node lost quorum) makes no new sensitive call: a call its
// turn starts waits at the gate, before anything runs or is journaled; the
// fence lifted, it runs once; the actor stopped instead, it never runs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNode, defineTool, type AgentOsNode } from '../../src/index.js';
import { until } from '../support/agents.js';
import { caller } from '../support/caller.js';
import { tempDir } from '../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
const ran: string[] = [];
const charge = defineTool({ name: 'charge', description: 'a side effect', input: z.object({ id: z.string() }), execute: ({ id }) => (ran.push(id), { ok: true }) });
const payer = caller({ capabilities: ['charge'] }, 'payer');

beforeEach(async () => {
  ran.length = 0;
  tmp = tempDir();
  node = await createNode({ name: 'fence', dataDir: tmp.dir, tools: [charge], memory: false, blackboard: false });
});
afterEach(async () => {
  await node.stop();
  tmp.cleanup();
});

const context = (id: string) => node.lookup(id)?.getSnapshot()?.context as { calls: number; error?: string } | undefined;

describe('fences', () => {
  it('holds a fenced actor’s new call until the fence lifts, then runs it once', async () => {
    const ref = await node.spawn(payer, { id: 'p1' });
    node.kernel.fences.fence('p1');
    ref.send({ type: 'call', tool: 'charge', args: { id: 'a' } });
    await until(() => node.lookup('p1')!.getSnapshot()!.value === 'calling');
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toEqual([]);
    node.kernel.fences.lift('p1');
    await until(() => context('p1')?.calls === 1);
    expect(ran).toEqual(['a']);
    // Not fenced: calls run at once.
    ref.send({ type: 'call', tool: 'charge', args: { id: 'b' } });
    await until(() => context('p1')?.calls === 2);
    expect(ran).toEqual(['a', 'b']);
  });

  it('a fenced actor stopped for good never makes the call it was holding', async () => {
    const ref = await node.spawn(payer, { id: 'p2' });
    node.kernel.fences.fence('p2');
    ref.send({ type: 'call', tool: 'charge', args: { id: 'never' } });
    await until(() => node.lookup('p2')!.getSnapshot()!.value === 'calling');
    await node.kernel.stopActor('p2');
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toEqual([]);
    expect(node.kernel.fences.isFenced('p2')).toBe(false);
  });
});
