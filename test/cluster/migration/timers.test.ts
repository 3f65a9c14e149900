// A non-persistent actor waiting on an `after` timer moves with the timer: it
// fires on the target at its original due time (not restarted, not lost).
import { setup } from 'xstate';
import { z } from 'zod';
import { afterEach, expect, it } from 'vitest';
import { defineAgent, reply } from '../../../src/index.js';
import { wiredCluster, type WiredCluster } from './support/wire.js';

let cluster: WiredCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const alarm = defineAgent({
  name: 'alarm',
  messages: z.object({ type: z.literal('get') }),
  machine: setup({ types: { events: {} as { type: 'get' } } }).createMachine({
    id: 'alarm',
    initial: 'waiting',
    states: {
      waiting: { after: { 400: 'rang' } },
      rang: {},
    },
    on: { get: { actions: reply(({ self }) => ({ state: self.getSnapshot().value })) } },
  }),
});

it('a pending after-timer moves with a non-persistent actor and fires on the target at its due time', async () => {
  cluster = await wiredCluster(['a', 'b'], { agents: [alarm] });
  const { a, b } = cluster.nodes as Record<'a' | 'b', NonNullable<WiredCluster['nodes'][string]>>;
  const started = Date.now();
  await a.node.spawn(alarm, { id: 'clock1' });
  await a.handoff.migrate('clock1', 'b');
  expect(a.node.lookup('clock1')).toBeUndefined();
  const moved = (await b.node.kernel.ask('clock1', { type: 'get' })) as { state: string };
  // Moved well before its due time, still waiting (the timer was not fired early on the way).
  if (Date.now() - started < 350) expect(moved.state).toBe('waiting');
  const end = Date.now() + 5000;
  let state = moved.state;
  while (state !== 'rang' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    state = ((await b.node.kernel.ask('clock1', { type: 'get' })) as { state: string }).state;
  }
  expect(state).toBe('rang');
  expect(Date.now() - started).toBeGreaterThanOrEqual(390);
});
