// Sends from a persistent actor whose turns run again (after a crash restart from
// its checkpoint, or a node crash): a persistent receiver drops the copies by the
// sender's dedupe mark [turn, call], so it sees each message once; a receiver that
// is not persistent keeps no marks and gets them again (at-least-once).
import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent, supervisor, type AgentOsNode } from '../../src/index.js';
import { settle, until } from '../support/agents.js';
import { ledgerAgent, orderMachine, orderMessages } from '../support/durable-agents.js';
import { ChargeGate } from './support/agents.js';
import { NodeHarness } from './support/harness.js';

let h: NodeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Checkpoints only on request, so turns since the last one run again after a crash. */
const orders = defineAgent({ name: 'orders', machine: orderMachine, messages: orderMessages, persistent: { checkpoint: 'manual' }, contract: { capabilities: ['charge'] } });

async function placeOrders(n: AgentOsNode, gate: ChargeGate, ids: string[]): Promise<void> {
  for (const id of ids) {
    const before = gate.calls.length;
    await n.lookup('orders')!.post({ type: 'order', id, amount: 1 });
    await until(() => gate.calls.length === before + 1 && n.lookup('orders')!.getSnapshot()?.value === 'idle');
  }
  await settle(5);
}

const entries = (n: AgentOsNode): Promise<unknown> => n.lookup('ledger')!.ask({ type: 'get' });

describe('sends of a persistent actor whose turns run again', () => {
  it('after a crash restart (from its checkpoint): a persistent receiver gets each message once', async () => {
    const gate = new ChargeGate();
    h = new NodeHarness({ agents: [orders, ledgerAgent()], tools: [gate.tool()] });
    const n = await h.start();
    await n.spawn(ledgerAgent(), { id: 'ledger' });
    await n.spawn(orders, { id: 'orders', input: { ledger: 'ledger' }, restart: 'permanent' });
    await placeOrders(n, gate, ['a', 'b', 'c']);
    n.lookup('orders')!.send({ type: 'crash' }); // turns 1-3 run again from the initial checkpoint
    await settle(20);
    await until(async () => ((await n.lookup('orders')!.ask({ type: 'get' })) as { total: number }).total === 3);
    expect(await entries(n)).toEqual(['a', 'b', 'c']);
    expect(h.events.filter((e) => e.type === '@agentos.message.duplicate')).toHaveLength(3);
    expect(gate.calls).toHaveLength(3);
  });

  it('after a node crash: a persistent receiver gets each message once', async () => {
    const gate = new ChargeGate();
    h = new NodeHarness({ agents: [orders, ledgerAgent()], tools: [gate.tool()] });
    const n = await h.start();
    await n.spawn(ledgerAgent(), { id: 'ledger' });
    await n.spawn(orders, { id: 'orders', input: { ledger: 'ledger' } });
    await placeOrders(n, gate, ['a', 'b']);
    await n.lookup('orders')!.checkpoint();
    await placeOrders(n, gate, ['c', 'd']);
    await h.crash();
    const n2 = await h.start();
    expect(n2.durability.recovery.redelivered).toBe(2);
    await until(async () => ((await n2.lookup('orders')!.ask({ type: 'get' })) as { total: number }).total === 4);
    await settle(10);
    expect(await entries(n2)).toEqual(['a', 'b', 'c', 'd']);
    expect(h.events.filter((e) => e.type === '@agentos.message.duplicate').map((e) => (e as { to?: string }).to)).toEqual(['ledger', 'ledger']);
    expect(gate.calls).toHaveLength(4);
  });

  it('at-least-once: a receiver that is not persistent gets a second copy of each message of a turn that runs again', async () => {
    const gate = new ChargeGate();
    const plainLedger = ledgerAgent(false);
    h = new NodeHarness({ agents: [orders, plainLedger], tools: [gate.tool()] });
    const n = await h.start();
    await n.spawn(plainLedger, { id: 'ledger' });
    await n.spawn(orders, { id: 'orders', input: { ledger: 'ledger' }, restart: 'permanent' });
    await placeOrders(n, gate, ['a', 'b']);
    n.lookup('orders')!.send({ type: 'crash' });
    await settle(20);
    await until(async () => ((await entries(n)) as string[]).length === 4);
    expect(await entries(n)).toEqual(['a', 'b', 'a', 'b']);
    expect(gate.calls).toHaveLength(2); // the calls themselves are replayed from the journal, not run again
  });

  it('at-least-once across a node crash: a plain receiver in a persistent tree gets the re-run turns\' messages again', async () => {
    const gate = new ChargeGate();
    const plainLedger = ledgerAgent(false);
    const tree = supervisor({
      id: 'shop',
      strategy: 'one_for_one',
      children: [
        { id: 'ledger', start: plainLedger },
        { id: 'orders', start: { agent: orders, input: { ledger: 'ledger' } } },
      ],
    });
    h = new NodeHarness({ agents: [orders, plainLedger], tools: [gate.tool()] });
    const n = await h.start();
    await n.spawn(tree, { id: 'shop' });
    await placeOrders(n, gate, ['a']);
    await n.lookup('orders')!.checkpoint();
    await placeOrders(n, gate, ['b', 'c']);
    expect(await entries(n)).toEqual(['a', 'b', 'c']);
    await h.crash();
    const n2 = await h.start();
    // the ledger starts empty (not persistent); the two turns after the checkpoint send again
    await until(async () => ((await entries(n2)) as string[]).length === 2);
    await settle(10);
    expect(await entries(n2)).toEqual(['b', 'c']);
    expect(gate.calls).toHaveLength(3);
  });
});
