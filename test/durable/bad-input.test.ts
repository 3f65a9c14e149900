// Bad stored state: records damaged on disk (truncated, bit-flipped, garbage),
// a registration naming a definition the node lacks, a broken hash chain. The
// affected actor is held (down, its messages kept), reported with its id and
// what is wrong under a stable code, and every other actor runs; nothing is
// restored from state that does not check out.
import { afterEach, describe, expect, it } from 'vitest';
import { AgentOsError, StorageError, supervisor, type AgentOsNode } from '../../src/index.js';
import { decodeSnapshot } from '../../src/actors/snapshot/index.js';
import { pack, seal, unpack } from '../../src/kernel/durable/records.js';
import { DurableStore } from '../../src/kernel/durable/store.js';
import { EffectJournal, idempotencyKey } from '../../src/kernel/effects/index.js';
import { settle, until } from '../support/agents.js';
import { ledgerAgent, orderAgent } from '../support/durable-agents.js';
import { ChargeGate } from './support/agents.js';
import { NodeHarness } from './support/harness.js';

let h: NodeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const orders = orderAgent({ checkpoint: 'manual' });

/** A stored record's value (its msgpack, without the 8-byte seal after it). */
const opened = <T>(bytes: Uint8Array): T => unpack(bytes.subarray(0, bytes.length - 8)) as T;
/** What the store would write for `value`: a consistent forgery, seal and all. */
const forged = (value: unknown): Buffer => seal(pack(value));

/** Two persistent actors with some history: 'orders' (3 orders, 2 of them after its checkpoint) and 'ledger'. */
async function history(gate = new ChargeGate()): Promise<ChargeGate> {
  h = new NodeHarness({ agents: [orders, ledgerAgent()], tools: [gate.tool()] });
  const n = await h.start();
  await n.spawn(ledgerAgent(), { id: 'ledger' });
  const ref = await n.spawn(orders, { id: 'orders', input: { ledger: 'ledger' } });
  const order = async (id: string): Promise<void> => {
    await ref.post({ type: 'order', id, amount: 1 });
    await until(() => gate.calls.some((c) => c.order === id) && ref.getSnapshot()?.value === 'idle');
    await settle(3);
  };
  await order('a');
  await ref.checkpoint();
  await order('b');
  await order('c');
  await h.crash(); // turns 2 and 3 are in the turn log only
  return gate;
}

/** The node came up with `orders` held (code, reason naming it) and `ledger` running. */
async function expectHeld(n: AgentOsNode, code: string, reason: RegExp, cell = true): Promise<void> {
  expect(n.durability.recovery.held).toEqual([{ id: 'orders', code, reason: expect.stringMatching(reason) }]);
  expect(n.durability.recovery.restored).toContain('ledger');
  expect(h!.events).toContainEqual(expect.objectContaining({ type: '@agentos.actor.held', id: 'orders', code }));
  await n.audit.flushed();
  const audit = Array.from({ length: n.audit.size }, (_, i) => n.audit.record(i) as { kind: string; decision: string; actor?: string; subject?: string });
  expect(audit).toContainEqual(expect.objectContaining({ kind: 'durability', decision: 'held', actor: 'orders', subject: code }));
  expect(await n.lookup('ledger')!.ask({ type: 'get' })).toEqual(['a', 'b', 'c']);
  if (!cell) return; // nothing to start it from: no actor, only the report
  expect(n.kernel.describe('orders')).toMatchObject({ status: 'held', heldReason: expect.stringMatching(reason) });
  // the held actor's messages are kept, not run
  await n.lookup('orders')!.post({ type: 'order', id: 'late', amount: 1 });
  await settle(5);
  expect(n.lookup('orders')!.getSnapshot()).toBeUndefined();
}

describe('a damaged checkpoint record', () => {
  it('truncated: held with DURABLE_CORRUPT', async () => {
    await history();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, [string, string]>({ name: 'durable-checkpoints', encoding: 'binary' }).get(['orders', 'latest']));
    await h!.poke('durable-checkpoints', ['orders', 'latest'], bytes!.subarray(0, Math.floor(bytes!.length / 2)));
    const n = await h!.start();
    await expectHeld(n, 'DURABLE_CORRUPT', /"orders".*latest checkpoint/);
  });

  it('a bit flipped in its snapshot: held with SNAPSHOT_CORRUPT', async () => {
    await history();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, [string, string]>({ name: 'durable-checkpoints', encoding: 'binary' }).get(['orders', 'latest']));
    const record = opened<{ snapshot: Uint8Array }>(bytes!);
    const snapshot = Buffer.from(record.snapshot);
    snapshot[snapshot.length - 10]! ^= 0x04;
    await h!.poke('durable-checkpoints', ['orders', 'latest'], forged({ ...record, snapshot }));
    const n = await h!.start();
    await expectHeld(n, 'SNAPSHOT_CORRUPT', /checksum|snapshot/);
  });

  it('any single bit flipped anywhere in it: held with a stable code, or (a harmless bit) restored exactly', async () => {
    await history();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, [string, string]>({ name: 'durable-checkpoints', encoding: 'binary' }).get(['orders', 'latest']));
    const original = Buffer.from(bytes!);
    // every byte of the record's own fields (the snapshot inside is checked by its SHA-256, above) and its seal, and a spread of the rest
    const positions = new Set<number>();
    const snapshotAt = original.indexOf(Buffer.from(opened<{ snapshot: Uint8Array }>(original).snapshot).subarray(0, 16));
    for (let i = 0; i < original.length; i++) if (i < snapshotAt + 8 || i >= original.length - 8 || i % 97 === 0) positions.add(i);
    const outcomes = new Map<string, number>();
    for (const at of positions) {
      const bit = 1 << (at % 8);
      const flipped = Buffer.from(original);
      flipped[at]! ^= bit;
      await h!.poke('durable-checkpoints', ['orders', 'latest'], flipped);
      const n = await h!.start();
      const held = n.durability.recovery.held;
      if (held.length > 0) {
        expect(held).toEqual([expect.objectContaining({ id: 'orders', code: expect.stringMatching(/^(DURABLE_CORRUPT|DURABLE_CHAIN_BROKEN|SNAPSHOT_CORRUPT|SNAPSHOT_INCOMPATIBLE)$/) })]);
        outcomes.set(held[0]!.code, (outcomes.get(held[0]!.code) ?? 0) + 1);
      } else {
        await until(() => n.kernel.describe('orders')?.turn === 3 && n.lookup('orders')?.getSnapshot()?.value === 'idle');
        const state = await n.lookup('orders')!.ask({ type: 'get' });
        expect({ at, bit, state }).toEqual({ at, bit, state: { charged: ['a', 'b', 'c'], total: 3 } });
        outcomes.set('restored', (outcomes.get('restored') ?? 0) + 1);
      }
      await h!.crash(); // leave the stored state as it was (a clean stop would checkpoint over it)
      await h!.poke('durable-checkpoints', ['orders', 'latest'], original);
    }
    expect(outcomes.get('DURABLE_CORRUPT')).toBeGreaterThan(0);
  }, 60_000);
});

describe('a damaged inbox or turn record', () => {
  it('an inbox record that is garbage: held with DURABLE_CORRUPT naming the message', async () => {
    await history();
    const n0 = await h!.start();
    n0.lookup('orders')!.pause();
    await n0.lookup('orders')!.post({ type: 'order', id: 'queued', amount: 1 });
    await h!.crash();
    await h!.poke('durable-inbox', ['orders', 4], Buffer.from([0xc1, 0xff, 0x00]));
    const n = await h!.start();
    await expectHeld(n, 'DURABLE_CORRUPT', /"orders".*inbox message 4/);
  });

  it('an inbox record with a bit flipped in its message: held, not delivered changed', async () => {
    await history();
    const n0 = await h!.start();
    n0.lookup('orders')!.pause();
    await n0.lookup('orders')!.post({ type: 'order', id: 'queued', amount: 1 });
    await h!.crash();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, [string, number]>({ name: 'durable-inbox', encoding: 'binary' }).get(['orders', 4]));
    const flipped = Buffer.from(bytes!);
    const at = flipped.indexOf(Buffer.from('queued'));
    flipped[at]! ^= 0x01; // 'queued' → 'pueued'
    await h!.poke('durable-inbox', ['orders', 4], flipped);
    const n = await h!.start();
    await expectHeld(n, 'DURABLE_CORRUPT', /"orders".*inbox message 4/);
  });

  it('a turn record that is garbage: held with DURABLE_CORRUPT naming the turn', async () => {
    await history();
    await h!.poke('durable-turns', ['orders', 2], Buffer.from('not msgpack at all'));
    const n = await h!.start();
    await expectHeld(n, 'DURABLE_CORRUPT', /"orders".*turn 2/);
  });

  it('a turn record with a bit flipped in its message: held with DURABLE_CHAIN_BROKEN, the turn not run changed', async () => {
    const gate = await history();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, [string, number]>({ name: 'durable-turns', encoding: 'binary' }).get(['orders', 3]));
    const flipped = Buffer.from(bytes!);
    flipped[flipped.indexOf(Buffer.from('c'), flipped.indexOf(Buffer.from('body')))]! ^= 0x01; // order 'c' → 'b'
    await h!.poke('durable-turns', ['orders', 3], flipped);
    const n = await h!.start();
    await expectHeld(n, 'DURABLE_CHAIN_BROKEN', /"orders".*turn 3/);
    expect(gate.calls.map((c) => c.order)).toEqual(['a', 'b', 'c']);
  });

  it('a turn record rewritten whole (valid, with another amount): held with DURABLE_CHAIN_BROKEN', async () => {
    const gate = await history();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, [string, number]>({ name: 'durable-turns', encoding: 'binary' }).get(['orders', 2]));
    const record = unpack(bytes!) as { body: { inline: { amount: number } } };
    record.body.inline.amount = 1000;
    await h!.poke('durable-turns', ['orders', 2], pack(record));
    const n = await h!.start();
    await expectHeld(n, 'DURABLE_CHAIN_BROKEN', /"orders".*turn 2.*hash chain/);
    expect(gate.calls.map((c) => c.amount)).toEqual([1, 1, 1]);
  });

  it('a turn removed from the log: held with DURABLE_CHAIN_BROKEN', async () => {
    await history();
    await h!.poke('durable-turns', ['orders', 2], undefined);
    const n = await h!.start();
    await expectHeld(n, 'DURABLE_CHAIN_BROKEN', /"orders".*turn 2/);
  });
});

describe('the errors behind these reports', () => {
  it('are AgentOsError subclasses with a stable code, a field, and the actor in their details', async () => {
    await history();
    await h!.poke('durable-checkpoints', ['orders', 'latest'], Buffer.from('garbage!!'));
    await h!.poke('durable-inbox', ['orders', 9], Buffer.from('garbage!!'));
    await h!.offline((db) => {
      const store = new DurableStore(db);
      const thrown = (f: () => unknown): AgentOsError => {
        try {
          f();
        } catch (err) {
          expect(err).toBeInstanceOf(StorageError);
          return err as AgentOsError;
        }
        throw new Error('expected a throw');
      };
      expect(thrown(() => store.checkpointOf('orders')).toJSON()).toMatchObject({ code: 'DURABLE_CORRUPT', field: 'latest checkpoint', details: { actor: 'orders' } });
      expect(thrown(() => store.inbox('orders')).toJSON()).toMatchObject({ code: 'DURABLE_CORRUPT', field: 'inbox message 9', details: { actor: 'orders' } });
      const record = opened<{ snapshot: Uint8Array }>(db.openDB<Uint8Array, [string, string]>({ name: 'durable-checkpoints', encoding: 'binary' }).get(['orders', 'base'])!);
      const snapshot = Buffer.from(record.snapshot);
      snapshot[snapshot.length - 1]! ^= 0x80;
      expect(thrown(() => decodeSnapshot(snapshot)).toJSON()).toMatchObject({ code: 'SNAPSHOT_CORRUPT', field: 'record' });
    });
  });
});

describe('registrations', () => {
  it('one naming a definition the node does not have: held with DURABLE_UNKNOWN_DEFINITION naming it', async () => {
    await history();
    const n = await h!.start({ agents: [ledgerAgent()], tools: [] });
    await expectHeld(n, 'DURABLE_UNKNOWN_DEFINITION', /orders@1/, false);
  });

  it('one that is garbage: held with DURABLE_CORRUPT', async () => {
    await history();
    await h!.poke('durable-actors', 'orders', Buffer.from([0x93, 0x01]));
    const n = await h!.start();
    expect(n.durability.recovery.held).toEqual([{ id: 'orders', code: 'DURABLE_CORRUPT', reason: expect.stringMatching(/"orders".*registration/) }]);
    expect(await n.lookup('ledger')!.ask({ type: 'get' })).toEqual(['a', 'b', 'c']);
  });

  it('one with a bit flipped in its spawn input: held, not started with other input', async () => {
    await history();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, string>({ name: 'durable-actors', encoding: 'binary' }).get('orders'));
    const flipped = Buffer.from(bytes!);
    flipped[flipped.lastIndexOf(Buffer.from('ledger'))]! ^= 0x20; // input.ledger 'ledger' → 'Ledger'
    await h!.poke('durable-actors', 'orders', flipped);
    const n = await h!.start();
    expect(n.durability.recovery.held).toEqual([{ id: 'orders', code: 'DURABLE_CORRUPT', reason: expect.stringMatching(/"orders".*registration/) }]);
  });
});

describe('broken hash chains', () => {
  it('a turn-log record rewritten: the durability verify() reports the actor and the turn; other actors verify', async () => {
    await history();
    const bytes = await h!.offline((db) => db.openDB<Uint8Array, [string, number]>({ name: 'durable-turns', encoding: 'binary' }).get(['orders', 2]));
    const record = unpack(bytes!) as { at: number };
    await h!.poke('durable-turns', ['orders', 2], pack({ ...record, at: record.at + 1 }));
    const n = await h!.start();
    // (node.durability.verify() still checks the effect journal only; the kernel's covers both logs)
    expect(n.kernel.durability!.verify()).toEqual({ ok: false, actor: 'orders', problem: expect.stringMatching(/turn 2 of "orders" does not follow the chain/) });
    expect(n.kernel.durability!.verify('ledger')).toMatchObject({ ok: true });
    expect(n.durability.recovery.held).toEqual([expect.objectContaining({ id: 'orders', code: 'DURABLE_CHAIN_BROKEN' })]);
  });

  it('an effect-journal entry altered on disk: verify() reports the actor, the entry and the key', async () => {
    await history();
    const n0 = await h!.start();
    expect(n0.durability.verify()).toMatchObject({ ok: true });
    await h!.stop();
    const key = idempotencyKey({ actor: 'orders', turn: 2, call: 0 });
    await h!.offline(async (db) => {
      const entries = db.openDB<Uint8Array, [string, number]>({ name: 'effects-entries', encoding: 'binary' });
      const seq = Number(Buffer.from(db.openDB<Uint8Array, string>({ name: 'effects-keys', encoding: 'binary' }).get(key)!).toString());
      const bytes = Buffer.from(entries.get(['orders', seq])!);
      bytes[bytes.length - 1]! ^= 0x01;
      await entries.put(['orders', seq], bytes);
    });
    const n = await h!.start();
    expect(n.durability.verify()).toMatchObject({ ok: false, actor: 'orders', problem: expect.stringMatching(/damaged|altered/) });
    expect(n.durability.verify('ledger')).toMatchObject({ ok: true });
  });

  it('a call whose journal entry is unreadable fails with EFFECT_CORRUPT, an AgentOsError; the node keeps running', async () => {
    const gate = await history();
    // Run turn 3's call again against a journal whose entry for it is garbage.
    const key = idempotencyKey({ actor: 'orders', turn: 3, call: 0 });
    await h!.offline(async (db) => {
      const seq = Number(Buffer.from(db.openDB<Uint8Array, string>({ name: 'effects-keys', encoding: 'binary' }).get(key)!).toString());
      await db.openDB<Uint8Array, [string, number]>({ name: 'effects-entries', encoding: 'binary' }).put(['orders', seq], Buffer.from('garbage'));
      const journal = EffectJournal.open({ db, clock: h!.clock });
      expect(() => journal.lookup(key)).toThrow(expect.objectContaining({ code: 'EFFECT_CORRUPT' }));
      try {
        journal.lookup(key);
      } catch (err) {
        expect(err).toBeInstanceOf(AgentOsError);
      }
    });
    const n = await h!.start();
    expect(n.durability.verify()).toMatchObject({ ok: false, actor: 'orders' });
    // turn 3 runs again; its call fails on the unreadable entry instead of charging twice
    await until(() => n.kernel.describe('orders')?.turn === 3);
    await settle(10);
    expect(gate.calls.map((c) => c.order)).toEqual(['a', 'b', 'c']);
    expect(await n.lookup('ledger')!.ask({ type: 'get' })).toEqual(['a', 'b', 'c']);
  });
});

describe('node.durability.verify covers every actor with stored state', () => {
  it('a persistent child inside a supervisor tree: a rewritten turn of it is reported, naming it', async () => {
    h = new NodeHarness({ agents: [orders, ledgerAgent()] });
    const n = await h.start();
    await n.spawn(supervisor({ id: 'shop', strategy: 'one_for_one', children: [{ id: 'ledger-in-tree', start: ledgerAgent() }] }), { id: 'shop' });
    const ledger = n.lookup('ledger-in-tree')!;
    for (const order of ['a', 'b', 'c']) await ledger.post({ type: 'entry', order, amount: 1 });
    await until(async () => ((await ledger.ask({ type: 'get' })) as string[]).length === 3);
    expect(n.durability.verify()).toMatchObject({ ok: true });
    await h.stop();
    const bytes = await h.offline((db) => db.openDB<Uint8Array, [string, number]>({ name: 'durable-turns', encoding: 'binary' }).get(['ledger-in-tree', 2]));
    const record = unpack(bytes!) as { body: { inline: { order: string } } };
    record.body.inline.order = 'forged';
    await h.poke('durable-turns', ['ledger-in-tree', 2], pack(record));
    const n2 = await h.start();
    expect(n2.durability.verify()).toMatchObject({ ok: false, actor: 'ledger-in-tree' });
  });
});
