// Deterministic replay on a real LMDB: a recorded history replays identically,
// stops at a turn, catches a changed definition (other state, other arguments)
// with the turn it first differs at, detects a tampered turn log or effect
// journal by their hash chains, and starts from the replay base after compaction.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { open, type RootDatabase } from 'lmdb';
import { assign, fromPromise, setup } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cellOfSystem } from '../../src/actors/cell.js';
import { decodeSnapshot } from '../../src/actors/snapshot/index.js';
import type { SyscallInput } from '../../src/actors/syscall.js';
import { DURABLE_DBS } from '../../src/kernel/durable/store.js';
import { replayActor, ReplayCodes } from '../../src/kernel/durable/replay.js';
import { readHistory } from '../../src/kernel/durable/replay-log.js';
import { unpack } from '../../src/kernel/durable/records.js';
import { EFFECT_DBS } from '../../src/kernel/effects/index.js';
import { createNode, defineAgent, reply, VirtualClock } from '../../src/index.js';
import { until } from '../support/agents.js';
import { chargeTool, ledgerAgent, orderAgent, orderMachine, orderMessages } from '../support/durable-agents.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('agentos-replay-');
const lmdbOf = (dataDir: string) => join(dataDir, 'r1', 'lmdb');
let db: RootDatabase;
let recordedTurns = 0;

/** Run a real node through a history: orders posted back to back (results arrive between messages), a crash, an ask. */
async function record(dataDir: string, agents = [orderAgent(), ledgerAgent()], script = defaultScript): Promise<void> {
  const clock = new VirtualClock(1_000);
  const effects: string[] = [];
  const node = await createNode({ name: 'r1', dataDir, clock, agents, tools: [chargeTool((c) => effects.push(c.order))] });
  try {
    await node.spawn(ledgerAgent(), { id: 'ledger' });
    const orders = await node.spawn(agents[0]!, { id: 'orders', input: { ledger: 'ledger' } });
    const idle = (n: number) => until(() => effects.length === n && orders.getSnapshot()?.value === 'idle');
    await script({ post: (m) => orders.post(m), ask: (m) => orders.ask(m), send: (m) => orders.send(m), clock, idle });
  } finally {
    await node.stop();
  }
}

type OrderMessage = z.infer<typeof orderMessages>;

interface Script {
  post(m: OrderMessage): Promise<void>;
  ask(m: OrderMessage): Promise<unknown>;
  send(m: OrderMessage): void;
  clock: VirtualClock;
  idle(effects: number): Promise<void>;
}

async function defaultScript({ post, ask, send, clock, idle }: Script): Promise<void> {
  for (let i = 0; i < 3; i++) {
    clock.advance(10);
    await post({ type: 'order', id: `o${i}`, amount: i + 1 }); // turns 1-3, back to back
  }
  await idle(3);
  clock.advance(10);
  await post({ type: 'order', id: 'o3', amount: 4 }); // turn 4
  await idle(4);
  send({ type: 'crash' }); // turn 5: crashes, the supervisor restarts it from its checkpoint
  await until(async () => ((await ask({ type: 'get' })) as { total: number }).total === 10); // turn 6
  clock.advance(10);
  await post({ type: 'order', id: 'o4', amount: 5 }); // turn 7
  await idle(5);
  await ask({ type: 'get' }); // turn 8
}

beforeAll(async () => {
  const dataDir = join(tmp.dir, 'main');
  await record(dataDir);
  db = open({ path: lmdbOf(dataDir), maxDbs: 32, readOnly: true });
  recordedTurns = readHistory(db, 'orders').turns.length;
});
afterAll(async () => {
  await db?.close();
  tmp.cleanup();
});

describe('replay of a recorded history', () => {
  it('replays identically: same states, same calls with the same arguments, every turn counted', async () => {
    const history = readHistory(db, 'orders');
    expect(history.breaks).toEqual([]);
    expect(history.turns.some((t) => t.record.settled.length > 0)).toBe(true); // results arrived between messages
    expect(history.turns.some((t) => t.record.crashed)).toBe(true);

    const report = await replayActor({ db, definition: [orderAgent(), ledgerAgent()], actor: 'orders' });
    expect(report.divergences).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report).toMatchObject({ actor: 'orders', definition: 'orders@1', fromTurn: 0, throughTurn: recordedTurns, turns: recordedTurns, calls: 5 });
    expect(report.log.map((t) => t.turn)).toEqual(history.turns.map((t) => t.record.turn));
    for (const [i, t] of report.log.entries()) if (!t.crashed) expect(t.value).toEqual(history.turns[i]!.record.value);
    expect(report.log.flatMap((t) => t.calls.map((c) => c.name))).toEqual(['charge', 'charge', 'charge', 'charge', 'charge']);

    const ledger = await replayActor({ db, definition: [orderAgent(), ledgerAgent()], actor: 'ledger' });
    expect(ledger).toMatchObject({ ok: true, calls: 0 });
    expect(ledger.turns).toBeGreaterThanOrEqual(5);
  });

  it('--turn N stops after turn N', async () => {
    const report = await replayActor({ db, definition: orderAgent(), actor: 'orders', throughTurn: 3 });
    expect(report).toMatchObject({ ok: true, fromTurn: 0, throughTurn: 3, turns: 3 });
    expect(report.log.map((t) => t.turn)).toEqual([1, 2, 3]);
    // Calls keyed to turns 1-3 only: those the recording made before turn 4.
    expect(report.log.flatMap((t) => t.calls.map((c) => c.key))).toEqual(['ik1/orders/t1/c0', 'ik1/orders/t2/c1', 'ik1/orders/t3/c1']);
  });

  it('a turn outside the log, or an actor with no history, is refused with a typed error', async () => {
    await expect(replayActor({ db, definition: orderAgent(), actor: 'orders', throughTurn: recordedTurns + 1 })).rejects.toMatchObject({ code: ReplayCodes.turnOutOfRange, field: 'turn' });
    await expect(replayActor({ db, definition: orderAgent(), actor: 'nobody' })).rejects.toMatchObject({ code: ReplayCodes.unknownActor });
    await expect(replayActor({ db, definition: ledgerAgent(), actor: 'orders' })).rejects.toMatchObject({ code: ReplayCodes.noDefinition });
  });
});

describe('a changed definition diverges, and the diff names the turn', () => {
  it('a machine that reaches another state: a state divergence at turn 1, and the calls it no longer makes', async () => {
    const lazy = defineAgent({ name: 'orders', machine: orderMachine.provide({ guards: { hasWork: () => false } }), messages: orderMessages, persistent: true });
    const report = await replayActor({ db, definition: lazy, actor: 'orders' });
    expect(report.ok).toBe(false);
    expect(report.divergences[0]).toMatchObject({ turn: 1, kind: 'state', expected: { value: 'charging' }, actual: { value: 'idle' } });
    expect(report.divergences[0]!.message).toMatch(/after turn 1 \(order\): state "idle", recorded "charging"/);
    expect(report.divergences.filter((d) => d.kind === 'missing-call').map((d) => d.expected)).toContain('ik1/orders/t1/c0');
    expect(report.log.find((t) => t.turn === 1)!.ok).toBe(false);
  });

  it('a machine that charges amount * 2: an arguments divergence on each call, from turn 1', async () => {
    const doubling = fromPromise<unknown, SyscallInput>(async ({ input, system, signal, self }) => {
      const cell = cellOfSystem(system)!;
      const args = input.args as { order: string; amount: number };
      return cell.host.call(cell, { ...input, args: { ...args, amount: args.amount * 2 } }, cell.callSignal(signal), self);
    });
    const greedy = defineAgent({ name: 'orders', machine: orderMachine.provide({ actors: { syscall: doubling } }), messages: orderMessages, persistent: true });
    const report = await replayActor({ db, definition: greedy, actor: 'orders' });
    expect(report.ok).toBe(false);
    expect(report.divergences.every((d) => d.kind === 'args')).toBe(true);
    const recorded = await replayActor({ db, definition: orderAgent(), actor: 'orders' });
    expect(report.divergences.map((d) => d.turn)).toEqual(recorded.log.flatMap((t) => t.calls.map((c) => c.turn)));
    expect(report.divergences[0]).toMatchObject({ expected: { key: 'ik1/orders/t1/c0' }, actual: { key: 'ik1/orders/t1/c0' } });
    expect(report.divergences[0]!.message).toMatch(/ik1\/orders\/t1\/c0 \(charge\) was made with other arguments/);
  });
});

describe('a tampered history is caught by its hash chains', () => {
  /** A writable copy of the recorded data dir, changed by `tamper`, then replayed. */
  async function tampered(name: string, tamper: (w: RootDatabase) => void) {
    const dir = join(tmp.dir, name);
    cpSync(join(tmp.dir, 'main'), dir, { recursive: true });
    const w = open({ path: lmdbOf(dir), maxDbs: 32 });
    tamper(w);
    await w.close();
    const r = open({ path: lmdbOf(dir), maxDbs: 32, readOnly: true });
    try {
      return await replayActor({ db: r, definition: orderAgent(), actor: 'orders' });
    } finally {
      await r.close();
    }
  }

  it('a changed byte in a stored turn: chain broken at that turn', async () => {
    const report = await tampered('turn-byte', (w) => {
      const turns = w.openDB<Buffer, [string, number]>({ name: DURABLE_DBS.turns, encoding: 'binary' });
      const bytes = Buffer.from(turns.get(['orders', 3])!);
      const at = bytes.indexOf('o2');
      bytes[at + 1] = '9'.charCodeAt(0); // the order id o2 becomes o9
      turns.putSync(['orders', 3], bytes);
    });
    expect(report.ok).toBe(false);
    expect(report.turns).toBe(0);
    expect(report.divergences).toEqual([expect.objectContaining({ kind: 'chain', code: 'DURABLE_CHAIN_BROKEN', log: 'turns', turn: 3 })]);
    expect(report.divergences[0]!.message).toMatch(/turn 3 of "orders" does not follow the chain/);
  });

  it('a removed turn: chain broken where it is missing', async () => {
    const report = await tampered('turn-gone', (w) => {
      w.openDB<Buffer, [string, number]>({ name: DURABLE_DBS.turns, encoding: 'binary' }).removeSync(['orders', 2]);
    });
    expect(report.divergences).toEqual([expect.objectContaining({ kind: 'chain', log: 'turns', turn: 2 })]);
    expect(report.divergences[0]!.message).toMatch(/turn 2 of "orders" is missing/);
  });

  it('a changed journaled result: the effect journal chain is broken at the turn of that call', async () => {
    const report = await tampered('journal-result', (w) => {
      const entries = w.openDB<Buffer, [string, number]>({ name: EFFECT_DBS.entries, encoding: 'binary' });
      for (const { key, value } of entries.getRange({ start: ['orders', 0], end: ['orders', Infinity] })) {
        const text = Buffer.from(value).toString('latin1');
        if (!text.includes('"key":"ik1/orders/t3/c1"') || !text.includes('"kind":"completed"')) continue;
        const bytes = Buffer.from(value);
        bytes[bytes.length - 1] ^= 0x01; // the last byte of the result payload
        entries.putSync(key, bytes);
      }
    });
    expect(report.ok).toBe(false);
    expect(report.divergences).toEqual([expect.objectContaining({ kind: 'chain', code: 'DURABLE_CHAIN_BROKEN', log: 'effects', turn: 3 })]);
    expect(report.divergences[0]!.message).toMatch(/effect journal of "orders": entry \d+ is damaged: altered/);
  });

  it('property: any changed byte of any stored turn record is reported at that turn, or changes nothing it decodes to', async () => {
    const dir = join(tmp.dir, 'fuzz');
    cpSync(join(tmp.dir, 'main'), dir, { recursive: true });
    const w = open({ path: lmdbOf(dir), maxDbs: 32 });
    const turns = w.openDB<Buffer, [string, number]>({ name: DURABLE_DBS.turns, encoding: 'binary' });
    try {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: recordedTurns }), fc.nat(), fc.integer({ min: 1, max: 255 }), (turn, pos, mask) => {
          const original = Buffer.from(turns.get(['orders', turn])!);
          const bytes = Buffer.from(original);
          bytes[pos % bytes.length] ^= mask;
          turns.putSync(['orders', turn], bytes);
          try {
            const { breaks } = readHistory(w, 'orders');
            // Reported at that turn — unless the bytes still decode to exactly the same record (msgpackr reads
            // `undefined` as the extension d4 00 xx whatever xx is): then nothing changed that anyone reads.
            if (breaks.length === 0) expect(unpack(bytes)).toEqual(unpack(original));
            else {
              expect(breaks).toHaveLength(1);
              expect(breaks[0]).toMatchObject({ log: 'turns', turn });
            }
          } finally {
            turns.putSync(['orders', turn], original);
          }
        }),
        { numRuns: 200 },
      );
    } finally {
      await w.close();
    }
  });
});

describe('replay after compaction', () => {
  it('starts from the moved replay base and replays only the turns after it', async () => {
    const dataDir = join(tmp.dir, 'compacted');
    const compacting = orderAgent({ retainTurns: 3 });
    await record(dataDir, [compacting, ledgerAgent()], async ({ post, ask, clock, idle }) => {
      // Quiet turns (no call in flight) where the base moves, so the base snapshot holds no call.
      for (let i = 0; i < 3; i++) {
        clock.advance(10);
        await post({ type: 'order', id: `c${i}`, amount: 1 });
        await idle(i + 1);
        await ask({ type: 'get' });
      }
      await post({ type: 'order', id: 'c3', amount: 2 });
      await post({ type: 'order', id: 'c4', amount: 3 });
      await idle(5);
    });
    const r = open({ path: lmdbOf(dataDir), maxDbs: 32, readOnly: true });
    try {
      const history = readHistory(r, 'orders');
      const base = history.base!.turn;
      expect(base).toBeGreaterThanOrEqual(3);
      expect(history.turns[0]!.record.turn).toBe(base + 1); // turns up to the base are compacted away
      const last = history.turns.at(-1)!.record.turn;
      const report = await replayActor({ db: r, definition: compacting, actor: 'orders' });
      expect(report.divergences).toEqual([]);
      expect(report).toMatchObject({ ok: true, fromTurn: base, throughTurn: last, turns: last - base });
      await expect(replayActor({ db: r, definition: compacting, actor: 'orders', throughTurn: base - 1 })).rejects.toMatchObject({ code: ReplayCodes.turnOutOfRange });
    } finally {
      await r.close();
    }
  });

  it('a call in flight in the base checkpoint is resumed and settled where the recording got its result', async () => {
    const dataDir = join(tmp.dir, 'inflight');
    const compacting = orderAgent({ retainTurns: 4 });
    await record(dataDir, [compacting, ledgerAgent()], async ({ post, clock, idle }) => {
      for (let i = 0; i < 6; i++) {
        clock.advance(10);
        await post({ type: 'order', id: `f${i}`, amount: i + 1 }); // back to back: the machine is charging when the base moves
      }
      await idle(6);
    });
    const r = open({ path: lmdbOf(dataDir), maxDbs: 32, readOnly: true });
    try {
      const history = readHistory(r, 'orders');
      const held = (decodeSnapshot(history.base!.snapshot).extra as { calls: Array<{ key: string }> }).calls.map((c) => c.key);
      expect(held).toHaveLength(1);
      expect(history.turns.flatMap((t) => t.record.settled)).toContain(held[0]);
      const report = await replayActor({ db: r, definition: compacting, actor: 'orders' });
      expect(report.divergences).toEqual([]);
      expect(report).toMatchObject({ ok: true, fromTurn: history.base!.turn, turns: history.turns.length });
      expect(report.calls).toBeGreaterThan(1); // the held call, then those after it
    } finally {
      await r.close();
    }
  });
});

describe('time', () => {
  const timerMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('arm') }), z.object({ type: z.literal('get') })]);
  const timerAgent = (delay: number) =>
    defineAgent({
      name: 'timer',
      messages: timerMessages,
      persistent: true,
      machine: setup({ types: { events: {} as z.infer<typeof timerMessages>, context: {} as { fired: number } } }).createMachine({
        context: { fired: 0 },
        initial: 'idle',
        on: { get: { actions: reply(({ context }) => context.fired) } },
        states: {
          idle: { on: { arm: 'waiting' } },
          waiting: { after: { [delay]: { target: 'idle', actions: assign({ fired: ({ context }) => context.fired + 1 }) } } },
        },
      }),
    });

  it('delayed events fire on the virtual clock at their recorded times; another delay diverges at the turn that sees it', async () => {
    const dataDir = join(tmp.dir, 'timer');
    const clock = new VirtualClock(1_000);
    const node = await createNode({ name: 'r1', dataDir, clock, agents: [timerAgent(100)] });
    const timer = await node.spawn(timerAgent(100), { id: 'timer' });
    await timer.post({ type: 'arm' }); // turn 1 at 1000: waiting
    clock.advance(150); // fires at 1100
    await timer.ask({ type: 'get' }); // turn 2 at 1150: idle
    await timer.post({ type: 'arm' }); // turn 3 at 1150: waiting
    clock.advance(120); // fires at 1250
    await timer.ask({ type: 'get' }); // turn 4 at 1270: idle
    await node.stop();
    const r = open({ path: lmdbOf(dataDir), maxDbs: 32, readOnly: true });
    try {
      const same = await replayActor({ db: r, definition: timerAgent(100), actor: 'timer' });
      expect(same.divergences).toEqual([]);
      expect(same.log.map((t) => [t.turn, t.at, t.value])).toEqual([
        [1, 1000, 'waiting'],
        [2, 1150, 'idle'],
        [3, 1150, 'waiting'],
        [4, 1270, 'idle'],
      ]);
      const slower = await replayActor({ db: r, definition: timerAgent(200), actor: 'timer' });
      expect(slower.divergences[0]).toMatchObject({ turn: 2, kind: 'state', expected: { value: 'idle' }, actual: { value: 'waiting' } });
    } finally {
      await r.close();
    }
  });
});
