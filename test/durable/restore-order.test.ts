// A crash makes a persistent actor run its logged turns again. What happened
// between those turns must happen between them again, or the side effects that
// follow move to other idempotency keys and run a second time: a delayed event
// fires at its original due time relative to the turns, and a call result
// reaches the actor before the turn it first preceded, never earlier.
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, type AgentOsNode } from '../../src/index.js';
import { settle, until } from '../support/agents.js';
import { ChargeGate, shopAgent, type ShopContext } from './support/agents.js';
import { NodeHarness } from './support/harness.js';

let h: NodeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const def = shopAgent({ checkpoint: 'manual' }); // the crash goes back to the first checkpoint: every turn runs again

async function start(gate: ChargeGate, agent = def): Promise<AgentOsNode> {
  h = new NodeHarness({ agents: [agent], tools: [gate.tool({ idempotent: 'key' })] });
  const n = await h.start();
  await n.spawn(agent, { id: 'shop' });
  return n;
}

const context = (n: AgentOsNode): ShopContext => n.lookup('shop')!.getSnapshot()!.context as ShopContext;
const calls = (gate: ChargeGate): Array<[string, string | undefined]> => gate.calls.map((c) => [c.order, c.key]);

/** Crash, recover; `turns` handled in all, `redelivered` of them run again from the turn log. */
async function crashAndRecover(gate: ChargeGate, turns: number, redelivered = turns): Promise<AgentOsNode> {
  await h!.crash();
  const n = await h!.start();
  expect(n.durability.recovery.redelivered).toBe(redelivered);
  await until(() => n.kernel.describe('shop')?.turn === turns && n.kernel.describe('shop')?.state !== 'charging' && n.kernel.describe('shop')?.mailbox === 0);
  await settle(10);
  expect(gate.calls.every((c) => c.attempt === 1)).toBe(true);
  return n;
}

describe('turns run again after a crash', () => {
  it('a delayed event fires between the turns it first fell between', async () => {
    const gate = new ChargeGate();
    const n = await start(gate);
    await n.lookup('shop')!.post({ type: 'arm', ms: 10 }); // turn 1 at t=0: a tick due at t=10, which orders tick1
    h!.clock.advanceTo(10); // the tick, and its call ik1/shop/t1/c0, back at t=10: cooldown until t=30
    await until(() => gate.calls.length === 1 && n.lookup('shop')!.getSnapshot()!.value === 'cooldown');
    h!.clock.advanceTo(15);
    await n.lookup('shop')!.post({ type: 'add', by: 1 }); // turn 2 at t=15
    await settle(5);
    expect(calls(gate)).toEqual([['tick1', 'ik1/shop/t1/c0']]);

    const n2 = await crashAndRecover(gate, 2);
    expect(calls(gate)).toEqual([['tick1', 'ik1/shop/t1/c0']]); // replayed, not run again under t2
    expect(context(n2)).toMatchObject({ ticks: 1, count: 1, charged: ['tick1'] });
    expect(n2.lookup('shop')!.getSnapshot()!.value).toBe('cooldown'); // until t=10+20
    h!.clock.advanceTo(29);
    await settle(5);
    expect(n2.lookup('shop')!.getSnapshot()!.value).toBe('cooldown');
    h!.clock.advanceTo(30);
    await settle(5);
    expect(n2.lookup('shop')!.getSnapshot()!.value).toBe('idle');
  });

  it('a delayed event overdue at recovery that makes a call: its result lands at its journaled time, not at recovery', async () => {
    const gate = new ChargeGate();
    const n = await start(gate, shopAgent({ checkpoint: { everyMessages: 2 } }));
    await n.lookup('shop')!.post({ type: 'order', id: 'o0', amount: 1 }); // charged at t=0, cooldown until 20
    await n.lookup('shop')!.post({ type: 'order', id: 'o1', amount: 1 }); // queued; checkpoint after this turn
    await until(() => gate.calls.length === 1 && context(n).queue.length === 1);
    await settle(5);
    h!.clock.advanceTo(20); // o1 charged at t=20: cooldown until 40
    await until(() => gate.calls.length === 2 && n.lookup('shop')!.getSnapshot()!.value === 'cooldown');
    h!.clock.advanceTo(31);
    const n2 = await crashAndRecover(gate, 2, 0); // from the checkpoint at t=0: o1's call happens again (replayed) at t=20
    expect(calls(gate)).toEqual([
      ['o0', 'ik1/shop/t1/c0'],
      ['o1', 'ik1/shop/t2/c0'],
    ]);
    h!.clock.advanceTo(39);
    await settle(5);
    expect(n2.lookup('shop')!.getSnapshot()!.value).toBe('cooldown');
    h!.clock.advanceTo(40);
    await settle(5);
    expect(n2.lookup('shop')!.getSnapshot()!.value).toBe('idle');
  });

  it('a call result that first came after a turn does not overtake it (the call it leads to keeps its key)', async () => {
    const gate = new ChargeGate();
    const n = await start(gate);
    gate.holding = true;
    await n.lookup('shop')!.post({ type: 'order', id: 'big', amount: 7 }); // turn 1: charge big (t1/c0), held
    await until(() => gate.waiting === 1);
    await n.lookup('shop')!.post({ type: 'add', by: 2 }); // turn 2, while the charge is out
    await settle(5);
    gate.release(); // the charge is back after turn 2: its receipt is t2/c0
    await until(() => gate.calls.length === 2 && n.lookup('shop')!.getSnapshot()!.value === 'cooldown');
    expect(calls(gate)).toEqual([
      ['big', 'ik1/shop/t1/c0'],
      ['big/receipt', 'ik1/shop/t2/c0'],
    ]);

    const n2 = await crashAndRecover(gate, 2);
    expect(calls(gate)).toHaveLength(2); // both replayed from the journal
    expect(context(n2)).toMatchObject({ count: 2, charged: ['big'], total: 7 });
  });

  it('a call result that first came before a turn reaches the actor before it', async () => {
    const gate = new ChargeGate();
    const n = await start(gate);
    await n.lookup('shop')!.post({ type: 'order', id: 'big', amount: 7 }); // turn 1: charge, then receipt, at once
    await until(() => gate.calls.length === 2 && n.lookup('shop')!.getSnapshot()!.value === 'cooldown');
    await n.lookup('shop')!.post({ type: 'add', by: 2 }); // turn 2
    await settle(5);
    expect(calls(gate)).toEqual([
      ['big', 'ik1/shop/t1/c0'],
      ['big/receipt', 'ik1/shop/t1/c1'],
    ]);
    const n2 = await crashAndRecover(gate, 2);
    expect(calls(gate)).toHaveLength(2);
    expect(context(n2)).toMatchObject({ count: 2, charged: ['big'], total: 7 });
  });
});

describe('a node stopped while it runs logged turns again', () => {
  it('checkpoints where the re-run got to, and the next start carries on from there', async () => {
    const gate = new ChargeGate();
    const n = await start(gate);
    for (let i = 0; i < 6; i++) await n.lookup('shop')!.post({ type: 'add', by: i });
    await until(() => n.kernel.describe('shop')?.turn === 6);
    await settle(5);
    await h!.crash(); // 6 turns to run again
    const n2 = await h!.start();
    expect(n2.durability.recovery.redelivered).toBe(6);
    await h!.stop(); // at once: the re-run has only begun, and the stop takes a checkpoint
    const n3 = await h!.start();
    expect(n3.durability.recovery.held).toEqual([]);
    await until(() => n3.kernel.describe('shop')?.turn === 6);
    await settle(10);
    expect(context(n3)).toMatchObject({ count: 15 });
    await h!.restart();
    expect(h!.running.durability.recovery).toMatchObject({ held: [], redelivered: 0 });
    expect(context(h!.running)).toMatchObject({ count: 15 });
  });
});

describe('a paused persistent actor that crashes', () => {
  it('comes back with every logged turn run again, still paused', async () => {
    let blowUps = 1;
    const fuse = defineAgent({
      name: 'fuse',
      persistent: { checkpoint: 'manual' },
      messages: z.discriminatedUnion('type', [z.object({ type: z.literal('add'), by: z.number() }), z.object({ type: z.literal('arm') })]),
      machine: setup({
        types: { context: {} as { count: number }, events: {} as { type: 'add'; by: number } | { type: 'arm' } },
        actions: {
          blow: () => {
            if (blowUps-- > 0) throw new Error('the fuse blew (once)');
          },
        },
      }).createMachine({
        context: { count: 0 },
        initial: 'calm',
        on: { add: { actions: assign({ count: ({ context, event }) => context.count + event.by }) } },
        states: { calm: { on: { arm: 'armed' } }, armed: { after: { 10: { target: 'calm', actions: 'blow' } } } },
      }),
    });
    h = new NodeHarness({ agents: [fuse] });
    const n = await h.start();
    const ref = await n.spawn(fuse, { id: 'fuse', restart: 'permanent' });
    for (const by of [1, 2, 3]) await ref.post({ type: 'add', by });
    await ref.post({ type: 'arm' });
    await until(() => n.kernel.describe('fuse')?.turn === 4);
    ref.pause();
    h.clock.advanceTo(10); // the timer's action throws: a crash while paused
    await until(() => h!.events.some((e) => e.type === '@agentos.supervisor.restart'));
    await settle(10);
    expect(n.kernel.describe('fuse')).toMatchObject({ status: 'paused', turn: 4, incarnation: 1 });
    expect(ref.getSnapshot()?.context).toEqual({ count: 6 });
    expect(ref.getSnapshot()?.value).toBe('calm'); // the timer came due again in the re-run, and did not blow twice
  });
});
