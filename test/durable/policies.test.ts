// Checkpoint policies and definition versions. 'turn' checkpoints after every
// turn, { everyMessages: n } after every n, 'manual' only on ref.checkpoint();
// whichever it is, a crash loses nothing: the turns after the last checkpoint are
// run again from the turn log (their calls replayed from the effect journal, not
// run again). A new definition version restores through its `migrate` hook, or
// is held with SNAPSHOT_INCOMPATIBLE while the rest of the node runs.
import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent, type AgentOsNode, type PersistenceOptions } from '../../src/index.js';
import { settle, until } from '../support/agents.js';
import { ledgerAgent, orderMachine, orderMessages } from '../support/durable-agents.js';
import { ChargeGate } from './support/agents.js';
import { NodeHarness } from './support/harness.js';

let h: NodeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function orders(persistent: PersistenceOptions, version = '1', migrate?: PersistenceOptions['migrate']) {
  return defineAgent({
    name: 'orders',
    version,
    machine: orderMachine,
    messages: orderMessages,
    persistent: migrate ? { ...persistent, migrate } : persistent,
    contract: { capabilities: ['charge'] },
  });
}

/** Turn of the latest stored checkpoint of `id`. */
const checkpointTurn = (n: AgentOsNode, id: string): number | undefined => n.kernel.durability!.store.checkpointOf(id)?.turn;

/** Post one order and wait until it is charged and the actor is idle again. */
async function order(n: AgentOsNode, gate: ChargeGate, i: number): Promise<void> {
  const before = gate.calls.length;
  await n.lookup('orders')!.post({ type: 'order', id: `o${i}`, amount: i });
  await until(() => gate.calls.length === before + 1 && n.lookup('orders')!.getSnapshot()?.value === 'idle');
  await settle(3); // the turn's checkpoint, if the policy takes one, is deferred
  await n.durability.flushed();
}

async function setup(persistent: PersistenceOptions): Promise<{ n: AgentOsNode; gate: ChargeGate }> {
  const gate = new ChargeGate();
  const def = orders(persistent);
  h = new NodeHarness({ agents: [def, ledgerAgent()], tools: [gate.tool()] });
  const n = await h.start();
  await n.spawn(ledgerAgent(), { id: 'ledger' });
  await n.spawn(def, { id: 'orders', input: { ledger: 'ledger' } });
  await settle(3); // the first checkpoint (turn 0) is written after the start
  await n.durability.flushed();
  return { n, gate };
}

/** After a crash, the node has every order charged once, and the ledger every entry once. */
async function expectNothingLost(n: AgentOsNode, gate: ChargeGate, count: number): Promise<void> {
  const ids = Array.from({ length: count }, (_, i) => `o${i}`);
  const total = ids.reduce((sum, _, i) => sum + i, 0);
  await until(() => n.lookup('orders')!.getSnapshot()?.value === 'idle');
  await settle(10);
  expect(await n.lookup('orders')!.ask({ type: 'get' })).toEqual({ charged: ids, total });
  expect(await n.lookup('ledger')!.ask({ type: 'get' })).toEqual(ids);
  expect(gate.calls.map((c) => c.order)).toEqual(ids);
  expect(new Set(gate.calls.map((c) => c.key)).size).toBe(count);
}

describe('checkpoint policies', () => {
  it("'turn' writes a checkpoint after every turn; a crash re-runs nothing", async () => {
    const { n, gate } = await setup({ checkpoint: 'turn' });
    expect(checkpointTurn(n, 'orders')).toBe(0);
    for (let i = 0; i < 3; i++) {
      await order(n, gate, i);
      expect(checkpointTurn(n, 'orders')).toBe(i + 1);
    }
    await h!.crash();
    const n2 = await h!.start();
    expect(n2.durability.recovery).toMatchObject({ held: [], redelivered: 0 });
    await expectNothingLost(n2, gate, 3);
  });

  it('{ everyMessages: 5 } checkpoints only every 5th turn; a crash re-runs the turns since from the turn log', async () => {
    const { n, gate } = await setup({ checkpoint: { everyMessages: 5 } });
    const seen: Array<number | undefined> = [];
    for (let i = 0; i < 7; i++) {
      await order(n, gate, i);
      seen.push(checkpointTurn(n, 'orders'));
    }
    expect(seen).toEqual([0, 0, 0, 0, 5, 5, 5]);
    await h!.crash();
    const n2 = await h!.start();
    expect(n2.durability.recovery).toMatchObject({ held: [], redelivered: 2, requeued: 0 });
    await expectNothingLost(n2, gate, 7);
    // and it carries on from there
    await order(n2, gate, 7);
    await expectNothingLost(n2, gate, 8);
  });

  it("'manual' checkpoints only on ref.checkpoint(); a crash re-runs the turns since from the turn log", async () => {
    const { n, gate } = await setup({ checkpoint: 'manual' });
    for (let i = 0; i < 3; i++) await order(n, gate, i);
    expect(checkpointTurn(n, 'orders')).toBe(0);
    await n.lookup('orders')!.checkpoint();
    expect(checkpointTurn(n, 'orders')).toBe(3);
    for (let i = 3; i < 5; i++) await order(n, gate, i);
    expect(checkpointTurn(n, 'orders')).toBe(3);
    await h!.crash();
    const n2 = await h!.start();
    expect(n2.durability.recovery).toMatchObject({ held: [], redelivered: 2 });
    await expectNothingLost(n2, gate, 5);
  });

  it("'manual' with no checkpoint since the first: a crash re-runs every turn from the initial state", async () => {
    const { n, gate } = await setup({ checkpoint: 'manual' });
    for (let i = 0; i < 4; i++) await order(n, gate, i);
    expect(checkpointTurn(n, 'orders')).toBe(0);
    await h!.crash();
    const n2 = await h!.start();
    expect(n2.durability.recovery.redelivered).toBe(4);
    await expectNothingLost(n2, gate, 4);
  });
});

describe('definition versions', () => {
  async function runV1(): Promise<ChargeGate> {
    const gate = new ChargeGate();
    h = new NodeHarness({ agents: [orders({}), ledgerAgent()], tools: [gate.tool()] });
    const n = await h.start();
    await n.spawn(ledgerAgent(), { id: 'ledger' });
    await n.spawn(orders({}), { id: 'orders', input: { ledger: 'ledger' } });
    for (let i = 0; i < 3; i++) await order(n, gate, i);
    await h.stop();
    return gate;
  }

  it('a new version with a migrate hook restores the migrated state', async () => {
    const gate = await runV1();
    const migrations: string[] = [];
    const v2 = orders({}, '2', (snapshot, from) => {
      migrations.push(from);
      // v2 keeps totals in cents
      const context = snapshot.xstate.context as { total: number };
      return { ...snapshot, xstate: { ...snapshot.xstate, context: { ...context, total: context.total * 100 } } };
    });
    const n2 = await h!.start({ agents: [v2, ledgerAgent()], tools: [gate.tool()] });
    expect(n2.durability.recovery).toMatchObject({ held: [] });
    expect(n2.durability.recovery.restored.sort()).toEqual(['ledger', 'orders']);
    expect(migrations).toEqual(['1']);
    expect(await n2.lookup('orders')!.ask({ type: 'get' })).toEqual({ charged: ['o0', 'o1', 'o2'], total: 300 });
    await order(n2, gate, 3);
    expect(await n2.lookup('orders')!.ask({ type: 'get' })).toEqual({ charged: ['o0', 'o1', 'o2', 'o3'], total: 303 });
    // the next start finds a version-2 checkpoint: nothing to migrate
    const n3 = await h!.restart();
    expect(migrations).toEqual(['1']);
    expect(await n3.lookup('orders')!.ask({ type: 'get' })).toEqual({ charged: ['o0', 'o1', 'o2', 'o3'], total: 303 });
  });

  it('a new version without migrate is held with SNAPSHOT_INCOMPATIBLE while the other actors run', async () => {
    const gate = await runV1();
    const n2 = await h!.start({ agents: [orders({}, '2'), ledgerAgent()], tools: [gate.tool()] });
    expect(n2.durability.recovery.restored).toContain('ledger');
    expect(n2.durability.recovery.held).toEqual([{ id: 'orders', code: 'SNAPSHOT_INCOMPATIBLE', reason: expect.stringMatching(/version 1 cannot restore version 2/) }]);
    expect(n2.kernel.describe('orders')).toMatchObject({ status: 'held' });
    expect(h!.events).toContainEqual(expect.objectContaining({ type: '@agentos.actor.held', id: 'orders', code: 'SNAPSHOT_INCOMPATIBLE' }));
    expect(await n2.lookup('ledger')!.ask({ type: 'get' })).toEqual(['o0', 'o1', 'o2']);
    // a message to the held actor is kept (journaled), not run
    await n2.lookup('orders')!.post({ type: 'order', id: 'late', amount: 1 });
    await settle(10);
    expect(gate.calls).toHaveLength(3);
    await expect(n2.lookup('orders')!.checkpoint()).rejects.toMatchObject({ code: 'ACTOR_HELD' });
    // with the old version back, nothing was lost, the late message included
    const n3 = await h!.restart({ agents: [orders({}), ledgerAgent()], tools: [gate.tool()] });
    expect(n3.durability.recovery.held).toEqual([]);
    await until(() => gate.calls.length === 4);
    await until(() => n3.lookup('orders')!.getSnapshot()?.value === 'idle');
    expect(await n3.lookup('orders')!.ask({ type: 'get' })).toEqual({ charged: ['o0', 'o1', 'o2', 'late'], total: 4 });
  });
});
