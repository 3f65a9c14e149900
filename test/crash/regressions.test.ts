// Minimal reproductions of durability bugs the kill -9 campaign found, kept as
// small in-process tests on a real LMDB.
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { VirtualClock } from '../../src/base/clock.js';
import { createNode, defineTool } from '../../src/index.js';
import { EffectFailed, EffectJournal, idempotencyKey } from '../../src/kernel/effects/index.js';
import { until } from '../support/agents.js';
import { chargeTool, orderAgent } from '../support/durable-agents.js';
import { tempDir } from '../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let db: RootDatabase;

beforeEach(() => {
  tmp = tempDir();
  db = open({ path: tmp.dir });
});
afterEach(async () => {
  await db.close();
  tmp.cleanup();
});

describe('durability regressions found by the crash campaign', () => {
  it('a call made while an operator is resolving its key gets the resolution, not the resolve() promise', async () => {
    const key = idempotencyKey({ actor: 'orders', turn: 3, call: 1 });
    const args = { order: 'o1' };
    // A process dispatches the call and dies before its outcome: the key is in doubt.
    const before = EffectJournal.open({ db, clock: new VirtualClock(0) });
    void before.run(key, { args }, () => new Promise<never>(() => undefined));
    await before.flushed();
    // After the restart an operator resolves it (nothing ran) while the restored actor makes the call again.
    const after = EffectJournal.open({ db, clock: new VirtualClock(0) });
    expect(after.lookup(key).state).toBe('in-doubt');
    const resolving = after.resolve(key, { failure: { name: 'NotShipped', message: 'nothing left' } }, 'operator');
    let ran = 0;
    const call = after.run(key, { args }, () => ++ran);
    await resolving;
    await expect(call).rejects.toBeInstanceOf(EffectFailed);
    expect(ran).toBe(0);
  });

  it('the recovery report counts the in-flight calls it resumed', async () => {
    const dataDir = join(tmp.dir, 'nodes');
    let calls = 0;
    // First life: the charge starts and never finishes; the node stops with it in flight.
    const stalls = defineTool({ name: 'charge', description: 'stalls', input: z.object({ order: z.string(), amount: z.number() }), idempotent: true, execute: () => (calls++, new Promise<never>(() => undefined)) });
    const first = await createNode({ name: 'r2', dataDir, clock: new VirtualClock(0), agents: [orderAgent()], tools: [stalls] });
    const orders = await first.spawn(orderAgent(), { id: 'orders' });
    await orders.post({ type: 'order', id: 'a', amount: 1 });
    await until(() => calls === 1);
    await first.stop(); // its last checkpoint holds the call in flight
    const second = await createNode({ name: 'r2', dataDir, clock: new VirtualClock(0), agents: [orderAgent()], tools: [chargeTool(() => void calls++, true)] });
    try {
      expect(second.durability.recovery).toMatchObject({ restored: ['orders'], resumedCalls: 1 });
      await until(async () => ((await second.lookup('orders')!.ask({ type: 'get' })) as { total: number }).total === 1);
      expect(calls).toBe(2); // idempotent: run again once, with the same key
    } finally {
      await second.stop();
    }
  });
});
