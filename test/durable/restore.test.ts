// Restore is complete across a node restart (stop, then createNode on the same
// dataDir): children the machine spawned or invoked come back running and
// addressable by id, delayed transitions fire at their original due times on the
// node's clock, and a call in flight resumes through the effect journal.
import { afterEach, describe, expect, it } from 'vitest';
import { settle, until } from '../support/agents.js';
import { defineAgent, idempotencyKey, supervisor } from '../../src/index.js';
import { ledgerAgent, orderAgent, orderMachine, orderMessages } from '../support/durable-agents.js';
import { ChargeGate, childCount, parentAgent, timerAgent } from './support/agents.js';
import { NodeHarness } from './support/harness.js';

let h: NodeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('children across a node restart', () => {
  it('spawned and invoked child machines come back running, with their state, addressable by id', async () => {
    h = new NodeHarness({ agents: [parentAgent()] });
    const n = await h.start();
    const parent = await n.spawn(parentAgent(), { id: 'parent' });
    await parent.post({ type: 'spawn', id: 'x' });
    await parent.post({ type: 'spawn', id: 'y' });
    await parent.post({ type: 'work' });
    for (const id of ['x', 'x', 'y', 'inv']) await parent.post({ type: 'poke', id });
    await until(() => childCount(parent.getSnapshot(), 'x') === 2 && childCount(parent.getSnapshot(), 'inv') === 1);

    const n2 = await h.restart();
    expect(n2.durability.recovery).toMatchObject({ restored: ['parent'], held: [] });
    const again = n2.lookup('parent')!;
    const snap = again.getSnapshot()!;
    expect(snap.value).toBe('working');
    expect(childCount(snap, 'x')).toBe(2);
    expect(childCount(snap, 'y')).toBe(1);
    expect(childCount(snap, 'inv')).toBe(1);
    // addressable: messages routed to them by id reach the restored children
    for (const id of ['x', 'y', 'inv']) await again.post({ type: 'poke', id });
    await until(() => childCount(again.getSnapshot(), 'inv') === 2);
    expect([childCount(again.getSnapshot(), 'x'), childCount(again.getSnapshot(), 'y')]).toEqual([3, 2]);
    // and the invoked child is still tied to its state
    await again.post({ type: 'rest' });
    await until(() => again.getSnapshot()?.value === 'resting');
    expect(childCount(again.getSnapshot(), 'inv')).toBeUndefined();
    expect(childCount(again.getSnapshot(), 'x')).toBe(3);
  });
});

describe('supervised persistent actors across a node restart', () => {
  it('a tree and the dynamic children started under it come back with their state, by id', async () => {
    const ledger = ledgerAgent();
    h = new NodeHarness({ agents: [ledger] });
    const n = await h.start();
    await n.spawn(supervisor({ id: 'books', strategy: 'one_for_one', children: [{ id: 'main', start: ledger }] }), { id: 'books' });
    await n.spawn(supervisor({ id: 'pool', strategy: 'simple_one_for_one', children: [{ id: 'tmpl', start: ledger }] }), { id: 'pool' });
    const d1 = await n.startChild('pool', { id: 'd1' });
    const d2 = await n.startChild('pool', { id: 'd2' });
    await n.lookup('main')!.post({ type: 'entry', order: 'm', amount: 1 });
    await d1.post({ type: 'entry', order: 'a', amount: 1 });
    await d2.post({ type: 'entry', order: 'b', amount: 1 });
    await d2.post({ type: 'entry', order: 'c', amount: 1 });
    await settle(10);

    const n2 = await h.restart();
    expect(n2.durability.recovery.held).toEqual([]);
    expect(n2.durability.recovery.restored.sort()).toEqual(['d1', 'd2', 'main']);
    expect(await n2.lookup('main')!.ask({ type: 'get' })).toEqual(['m']);
    expect(await n2.lookup('d1')!.ask({ type: 'get' })).toEqual(['a']);
    expect(await n2.lookup('d2')!.ask({ type: 'get' })).toEqual(['b', 'c']);
    expect(n2.lookup('d2')!.path).toBe('/pool/d2');
  });
});

describe('delayed transitions across a node restart', () => {
  it('a timer due at t=100, captured at t=40, fires when the clock reaches 100 and not before', async () => {
    h = new NodeHarness({ agents: [timerAgent()] });
    const n = await h.start();
    const timer = await n.spawn(timerAgent(), { id: 'timer' });
    await timer.post({ type: 'arm' });
    await until(() => timer.getSnapshot()?.value === 'waiting');
    h.clock.advanceTo(40);
    const n2 = await h.restart(); // last checkpoint at t=40
    const again = n2.lookup('timer')!;
    expect(again.getSnapshot()?.value).toBe('waiting');
    h.clock.advanceTo(99);
    await settle(5);
    expect(again.getSnapshot()?.value).toBe('waiting');
    h.clock.advanceTo(100);
    await settle(5);
    expect(again.getSnapshot()?.value).toBe('idle');
    expect(await again.ask({ type: 'get' })).toBe(1);
  });

  it('a timer whose due time passed while the node was down fires at once on recovery', async () => {
    h = new NodeHarness({ agents: [timerAgent()] });
    const n = await h.start();
    const timer = await n.spawn(timerAgent(), { id: 'timer' });
    await timer.post({ type: 'arm' });
    await until(() => timer.getSnapshot()?.value === 'waiting');
    h.clock.advanceTo(40);
    await h.stop();
    h.clock.advanceTo(150); // downtime
    const n2 = await h.start();
    const again = n2.lookup('timer')!;
    expect(again.getSnapshot()?.value).toBe('idle');
    expect(await again.ask({ type: 'get' })).toBe(1);
    // and it fired once: re-arming it waits a full 100 from now
    await again.post({ type: 'arm' });
    await until(() => again.getSnapshot()?.value === 'waiting');
    h.clock.advanceTo(249);
    await settle(5);
    expect(again.getSnapshot()?.value).toBe('waiting');
    h.clock.advanceTo(250);
    await settle(5);
    expect(await again.ask({ type: 'get' })).toBe(2);
  });
});

describe('a call in flight across a node restart', () => {
  it('is not run again when its outcome was journaled before the restart', async () => {
    // The actor is checkpointed mid-call (manual policy), the call completes and is
    // journaled, then the node goes down with that mid-call checkpoint as the latest.
    const gate = new ChargeGate();
    const def = orderAgent({ checkpoint: 'manual' });
    h = new NodeHarness({ agents: [def], tools: [gate.tool()] });
    const n = await h.start();
    const orders = await n.spawn(def, { id: 'orders' });
    gate.holding = true;
    await orders.post({ type: 'order', id: 'a', amount: 5 });
    await until(() => gate.calls.length === 1);
    await orders.checkpoint(); // captured with the call in flight
    const midCall = h.raw('durable-checkpoints', ['orders', 'latest']);
    gate.release();
    await until(() => orders.getSnapshot()?.value === 'idle');
    await h.stop();
    // Put the mid-call checkpoint back as the latest: as if the node had died right after the outcome was journaled.
    await h.poke('durable-checkpoints', ['orders', 'latest'], midCall);
    const n2 = await h.start();
    expect(n2.durability.recovery.resumedCalls).toBe(1);
    const again = n2.lookup('orders')!;
    await until(() => again.getSnapshot()?.value === 'idle');
    expect(await again.ask({ type: 'get' })).toEqual({ charged: ['a'], total: 5 });
    expect(gate.calls).toHaveLength(1);
  });

  it('runs once when it was never dispatched (it was waiting for consent when the node stopped)', async () => {
    const gate = new ChargeGate();
    const def = defineAgent({
      name: 'orders',
      machine: orderMachine,
      messages: orderMessages,
      persistent: true,
      contract: { capabilities: ['charge'], security: { consent_for: ['charge'] } },
    });
    h = new NodeHarness({ agents: [def], tools: [gate.tool()] });
    const n = await h.start();
    const orders = await n.spawn(def, { id: 'orders' });
    await orders.post({ type: 'order', id: 'a', amount: 5 });
    await until(() => n.approvals.list().length === 1);
    const key = idempotencyKey({ actor: 'orders', turn: 1, call: 0 });
    expect(n.durability.inDoubt()).toEqual([]);

    const n2 = await h.restart();
    expect(n2.durability.recovery.resumedCalls).toBe(1);
    expect(n2.kernel.durability!.journal.lookup(key).state).toBe('new'); // never dispatched
    // the resumed call asks for consent again, and runs once when given
    await until(() => n2.approvals.list().length === 1);
    expect(gate.calls).toEqual([]);
    n2.approvals.approve(n2.approvals.list()[0]!.id, { by: 'alice' });
    const again = n2.lookup('orders')!;
    await until(() => again.getSnapshot()?.value === 'idle');
    expect(gate.calls).toEqual([{ order: 'a', amount: 5, key, attempt: 1 }]);
    expect(await again.ask({ type: 'get' })).toEqual({ charged: ['a'], total: 5 });
    expect(n2.kernel.durability!.journal.lookup(key).state).toBe('completed');
  });
});
