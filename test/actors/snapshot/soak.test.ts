import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { assign, createActor, fromCallback, sendTo, setup, spawnChild } from 'xstate';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { captureSnapshot, decodeSnapshot, encodeSnapshot, restoreActor, trackDelays } from '../../../src/actors/snapshot/index.js';

// 1,000 capture → encode → decode → stop → restore cycles of an actor with a
// spawned child machine, an invoked callback and periodic timers, all on one
// clock. Reports heap after forced GC, record size and armed timers; asserts
// only that they stay bounded (timing is measured in bench/, never asserted).

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const beat = setup({}).createMachine({
  id: 'beat',
  context: { beats: 0 },
  initial: 'on',
  states: { on: { after: { 15: { target: 'on', reenter: true, actions: assign({ beats: ({ context }) => context.beats + 1 }) } } } },
});
const listener = fromCallback(({ receive }) => {
  const seen: unknown[] = [];
  receive((e) => seen.push(e));
  return () => (seen.length = 0);
});
const agent = setup({ actors: { beat, listener } }).createMachine({
  id: 'agent',
  context: { turns: 0, notes: [] as string[] },
  entry: spawnChild('beat', { id: 'beat', systemId: 'beat' }),
  invoke: { src: 'listener', id: 'ears' },
  initial: 'thinking',
  states: { thinking: { after: { 40: 'idle' } }, idle: { after: { 25: 'thinking' } } },
  on: {
    turn: {
      actions: [
        assign({ turns: ({ context }) => context.turns + 1, notes: ({ context }) => [...context.notes, `t${context.turns}`].slice(-8) }),
        sendTo('ears', { type: 'heard' }),
      ],
    },
  },
});

const def = { name: 'agent', version: '3' };

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

describe('soak', () => {
  it('1,000 capture/encode/decode/restore cycles keep heap, record size and armed timers flat', () => {
    const clock = new VirtualClock(0);
    let actor = createActor(agent, { clock });
    trackDelays(actor, clock);
    actor.start();
    const heap: Array<[number, number]> = [];
    const sizes: number[] = [];
    const started = performance.now();
    for (let i = 0; i <= 1000; i++) {
      if (i % 250 === 0) heap.push([i, heapMb()]);
      if (i === 1000) break;
      actor.send({ type: 'turn' });
      clock.advance(7 + (i % 13));
      const bytes = encodeSnapshot(captureSnapshot(actor, { definition: def, extra: { rng: i, tokens: i * 10 } }));
      sizes.push(bytes.length);
      actor.stop();
      expect(clock.pending()).toBe(0);
      actor = restoreActor(agent, decodeSnapshot(bytes, { definition: def }), { clock });
      expect(clock.pending()).toBeLessThanOrEqual(2);
    }
    const perCycleUs = ((performance.now() - started) * 1000) / 1000; // ms → µs, over 1,000 cycles
    expect(actor.getSnapshot().context.turns).toBe(1000);
    expect(actor.system.get('beat').getSnapshot().context.beats).toBeGreaterThan(800);
    const growth = heap[heap.length - 1][1] - heap[1][1];
    console.log(
      `soak: heap MB after GC ${heap.map(([i, mb]) => `@${i}=${mb.toFixed(2)}`).join(' ')}; ` +
        `growth 250→1000 ${growth.toFixed(2)} MB; record ${Math.min(...sizes)}–${Math.max(...sizes)} B; ~${perCycleUs.toFixed(0)} µs/cycle (not asserted)`,
    );
    expect(growth).toBeLessThan(4);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(64);
  });
});
