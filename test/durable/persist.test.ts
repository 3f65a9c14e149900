// Persistent actors on a real LMDB: state, inbox and side effects survive a node
// restart; a crash restart comes back from the checkpoint; sends from persistent
// senders are not duplicated; a tool runs once per call, not once per run.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, syscall, VirtualClock, type AgentDefinition, type AgentOsNode } from '../../src/index.js';
import { settle, until } from '../support/agents.js';
import { chargeTool, ledgerAgent, orderAgent } from '../support/durable-agents.js';
import { tempDir } from '../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode | undefined;
let effects: Array<{ order: string; key: string | undefined }>;
const clock = new VirtualClock(0);

async function start(agents: AgentDefinition<any, any>[] = [orderAgent(), ledgerAgent()]): Promise<AgentOsNode> {
  node = await createNode({ name: 'd1', dataDir: tmp.dir, clock, agents, tools: [chargeTool((c) => effects.push(c))] });
  return node;
}

beforeEach(() => {
  tmp = tempDir();
  effects = [];
});
afterEach(async () => {
  await node?.stop();
  node = undefined;
  tmp.cleanup();
});

describe('persistent actors across a node restart', () => {
  it('come back with their state, and a tool is not called again for work already done', async () => {
    const n = await start();
    await n.spawn(ledgerAgent(), { id: 'ledger' });
    const orders = await n.spawn(orderAgent(), { id: 'orders', input: { ledger: 'ledger' } });
    for (let i = 0; i < 5; i++) await orders.post({ type: 'order', id: `o${i}`, amount: i + 1 });
    await until(() => effects.length === 5 && (orders.getSnapshot()?.value === 'idle'));
    expect(await orders.ask({ type: 'get' })).toEqual({ charged: ['o0', 'o1', 'o2', 'o3', 'o4'], total: 15 });
    expect(effects.map((e) => e.order)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
    await n.stop();

    const n2 = await start();
    expect(n2.durability.recovery.restored.sort()).toEqual(['ledger', 'orders']);
    expect(n2.durability.recovery.held).toEqual([]);
    await settle(20);
    const again = n2.lookup('orders')!;
    expect(await again.ask({ type: 'get' })).toEqual({ charged: ['o0', 'o1', 'o2', 'o3', 'o4'], total: 15 });
    expect(await n2.lookup('ledger')!.ask({ type: 'get' })).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
    expect(effects).toHaveLength(5);
    // and it carries on
    await again.post({ type: 'order', id: 'o5', amount: 10 });
    await until(() => effects.length === 6 && again.getSnapshot()?.value === 'idle');
    expect(await again.ask({ type: 'get' })).toMatchObject({ total: 25 });
    expect(effects.map((e) => e.order)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4', 'o5']);
    expect(new Set(effects.map((e) => e.key)).size).toBe(6);
  });

  it('messages accepted but not handled are delivered after the restart', async () => {
    const n = await start();
    const orders = await n.spawn(orderAgent(), { id: 'orders' });
    orders.pause();
    await orders.post({ type: 'order', id: 'a', amount: 1 });
    await orders.post({ type: 'order', id: 'b', amount: 2 });
    await n.stop();
    const n2 = await start();
    expect(n2.durability.recovery.requeued).toBe(2);
    await until(() => effects.length === 2 && n2.lookup('orders')!.getSnapshot()?.value === 'idle');
    expect(await n2.lookup('orders')!.ask({ type: 'get' })).toEqual({ charged: ['a', 'b'], total: 3 });
  });

  it('an actor stopped for good is not recovered, and its id is free again', async () => {
    const n = await start();
    const orders = await n.spawn(orderAgent(), { id: 'orders' });
    await orders.post({ type: 'order', id: 'a', amount: 1 });
    await settle(10);
    await orders.stop();
    await n.durability.flushed();
    await n.stop();
    const n2 = await start();
    expect(n2.durability.recovery.restored).toEqual([]);
    expect(n2.lookup('orders')).toBeUndefined();
    const fresh = await n2.spawn(orderAgent(), { id: 'orders' });
    expect(await fresh.ask({ type: 'get' })).toEqual({ charged: [], total: 0 });
  });

  it('a crash restart resumes from the last checkpoint, not from scratch', async () => {
    const n = await start();
    const orders = await n.spawn(orderAgent(), { id: 'orders', restart: 'permanent' });
    await orders.post({ type: 'order', id: 'a', amount: 1 });
    await orders.post({ type: 'order', id: 'b', amount: 2 });
    await until(() => effects.length === 2 && orders.getSnapshot()?.value === 'idle');
    await settle(5);
    orders.send({ type: 'crash' });
    await settle(20);
    expect(await orders.ask({ type: 'get' })).toEqual({ charged: ['a', 'b'], total: 3 });
    expect(effects).toHaveLength(2);
    await orders.post({ type: 'order', id: 'c', amount: 3 });
    await until(() => effects.length === 3 && orders.getSnapshot()?.value === 'idle');
    expect(await orders.ask({ type: 'get' })).toEqual({ charged: ['a', 'b', 'c'], total: 6 });
  });

  it("with restart: 'initial' a crash restart starts from the initial state", async () => {
    const def = orderAgent({ restart: 'initial' });
    const n = await start([def]);
    const orders = await n.spawn(def, { id: 'orders', restart: 'permanent' });
    await orders.post({ type: 'order', id: 'a', amount: 1 });
    await settle(20);
    orders.send({ type: 'crash' });
    await settle(20);
    expect(await orders.ask({ type: 'get' })).toEqual({ charged: [], total: 0 });
  });

  it('a persistent id that is stored but not running cannot be spawned over', async () => {
    const n = await start([ledgerAgent()]); // no orders definition: held at recovery
    const orders = await n.spawn(orderAgent(), { id: 'orders' });
    await orders.post({ type: 'order', id: 'a', amount: 1 });
    await n.stop();
    const n2 = await start([ledgerAgent()]);
    expect(n2.durability.recovery.held).toEqual([expect.objectContaining({ id: 'orders', code: 'DURABLE_UNKNOWN_DEFINITION' })]);
    await expect(n2.spawn(orderAgent(), { id: 'orders' })).rejects.toMatchObject({ code: 'DUPLICATE_ACTOR' });
    await n2.durability.discard('orders');
    await expect(n2.spawn(orderAgent(), { id: 'orders' })).resolves.toBeDefined();
  });
});

describe('an id used again after a persistent actor is gone', () => {
  it('starts a new history: its calls run (no replay of the old actor journal) and its sends are not taken for repeats', async () => {
    const n = await start();
    const ledger = await n.spawn(ledgerAgent(), { id: 'ledger' });
    let orders = await n.spawn(orderAgent(), { id: 'orders', input: { ledger: 'ledger' } });
    await orders.post({ type: 'order', id: 'a', amount: 1 });
    await until(() => effects.length === 1 && orders.getSnapshot()?.value === 'idle');
    await orders.stop();
    await n.durability.flushed();
    orders = await n.spawn(orderAgent(), { id: 'orders', input: { ledger: 'ledger' } });
    await orders.post({ type: 'order', id: 'b', amount: 2 });
    await until(() => effects.length === 2 && orders.getSnapshot()?.value === 'idle');
    expect(effects.map((e) => e.order)).toEqual(['a', 'b']);
    expect(effects[1]!.key).toBe(effects[0]!.key); // same position in a new history
    expect(await orders.ask({ type: 'get' })).toEqual({ charged: ['b'], total: 2 });
    await until(async () => ((await ledger.ask({ type: 'get' })) as string[]).length === 2);
    expect(await ledger.ask({ type: 'get' })).toEqual(['a', 'b']);
  });
});

describe('durability from the contract', () => {
  it("the contract's durability overrides the definition's, and an unknown value is refused naming the field", async () => {
    const n = await start();
    const def = defineAgent({ ...orderAgent(), name: 'orders-async', contract: { capabilities: ['charge'], durability: 'async' } });
    const ref = await n.spawn(def, { id: 'fast' });
    expect(n.kernel.describe('fast')).toMatchObject({ persistent: true, durability: 'async' });
    await n.spawn(orderAgent(), { id: 'default' });
    expect(n.kernel.describe('default')).toMatchObject({ persistent: true, durability: 'sync' });
    await ref.post({ type: 'order', id: 'x', amount: 1 });
    await until(() => effects.length === 1);
    const bad = defineAgent({ ...orderAgent(), name: 'orders-bad', contract: { durability: 'later' } as never });
    await expect(n.spawn(bad, { id: 'bad' })).rejects.toMatchObject({ code: 'CONTRACT_INVALID', field: 'durability' });
  });
});

describe('token spending of a persistent actor', () => {
  const talkMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('talk'), tokens: z.number().int() })]);
  const talker = defineAgent({
    name: 'talker',
    messages: talkMessages,
    persistent: true,
    contract: { modelPolicy: { allow: ['local/*'], max_context_tokens: 4000 }, budgets: { tokens: 100 } },
    machine: setup({ types: { context: {} as { ok: number; error?: string }, events: {} as z.infer<typeof talkMessages> }, actors: { syscall } }).createMachine({
      context: { ok: 0 },
      initial: 'idle',
      states: {
        idle: { on: { talk: 'talking' } },
        talking: {
          invoke: {
            src: 'syscall',
            input: ({ event }) => ({ kind: 'model' as const, name: 'local/echo', args: null, tokens: (event as { tokens: number }).tokens }),
            onDone: { target: 'idle', actions: assign({ ok: ({ context }) => context.ok + 1, error: undefined }) },
            onError: { target: 'idle', actions: assign({ error: ({ event }) => (event.error as { code?: string }).code }) },
          },
        },
      },
    }),
  });

  it('is kept in its checkpoints: an absolute token cap stays spent across a restart', async () => {
    let n = await start([talker]);
    n.kernel.syscalls.unregister('model', 'local/echo');
    n.kernel.syscalls.register('model', 'local/echo', () => 'echo');
    let ref = await n.spawn(talker, { id: 'talker' });
    await ref.post({ type: 'talk', tokens: 60 });
    await until(() => ref.getSnapshot()?.context.ok === 1);
    await n.stop();
    n = await start([talker]);
    n.kernel.syscalls.unregister('model', 'local/echo');
    n.kernel.syscalls.register('model', 'local/echo', () => 'echo');
    ref = n.lookup('talker')!;
    await ref.post({ type: 'talk', tokens: 60 });
    await until(() => ref.getSnapshot()?.context.error !== undefined);
    expect(ref.getSnapshot()?.context).toMatchObject({ ok: 1, error: 'BUDGET_EXCEEDED' });
    await ref.post({ type: 'talk', tokens: 40 });
    await until(() => ref.getSnapshot()?.context.ok === 2);
  });
});
