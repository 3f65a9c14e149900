import fc from 'fast-check';
import { assign, cancel, createActor, raise, sendParent, sendTo, setup, type Actor, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { captureSnapshot, decodeSnapshot, encodeSnapshot, restoreActor, trackDelays } from '../../../src/actors/snapshot/index.js';

// A counter with timers of every kind XState has: `after` (one-shot and
// periodic, on the root and on an invoked child), delayed raise with an id
// (cancellable) and without, delayed sendTo a child, and a child that sends
// back on its own timer. `trace` folds every handled event in order, so any
// reordering, loss or duplicate shows up in the context.

type Ev =
  | { type: 'inc'; by: number }
  | { type: 'arm' }
  | { type: 'disarm' }
  | { type: 'rearm' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'later'; ms: number; by: number }
  | { type: 'cancelLater' }
  | { type: 'soon'; ms: number }
  | { type: 'poke'; ms: number }
  | { type: 'tock' }
  | { type: 'poked' }
  | { type: 'bump' };

const mix = (trace: number, code: string): number => {
  let t = trace;
  for (let i = 0; i < code.length; i++) t = (Math.imul(t, 31) + code.charCodeAt(i)) % 1_000_003;
  return t;
};

const ticker = setup({}).createMachine({
  id: 'ticker',
  context: { pokes: 0, tocks: 0 },
  initial: 'running',
  states: {
    running: {
      after: {
        25: { target: 'running', reenter: true, actions: [assign({ tocks: ({ context }) => context.tocks + 1 }), sendParent({ type: 'tock' })] },
      },
    },
  },
  on: { poke: { actions: [assign({ pokes: ({ context }) => context.pokes + 1 }), sendParent({ type: 'poked' })] } },
});

const counter = setup({
  types: { events: {} as Ev },
  actors: { ticker },
}).createMachine({
  id: 'counter',
  type: 'parallel',
  context: { count: 0, trace: 1, ticks: 0, pulses: 0 },
  invoke: { src: 'ticker', id: 'ticker', systemId: 'ticker' },
  states: {
    main: {
      initial: 'idle',
      states: {
        idle: { on: { arm: 'armed' } },
        armed: {
          after: { 30: { target: 'idle', actions: assign({ ticks: ({ context }) => context.ticks + 1, trace: ({ context }) => mix(context.trace, 'tick') }) } },
          on: { disarm: 'idle', rearm: { target: 'armed', reenter: true } },
        },
      },
    },
    pulse: {
      initial: 'on',
      states: {
        on: {
          after: { 20: { target: 'on', reenter: true, actions: assign({ pulses: ({ context }) => context.pulses + 1, trace: ({ context }) => mix(context.trace, 'pulse') }) } },
          on: { pause: 'off' },
        },
        off: { on: { resume: 'on' } },
      },
    },
  },
  on: {
    inc: { actions: assign({ count: ({ context, event }) => context.count + event.by, trace: ({ context, event }) => mix(context.trace, `inc${event.by}`) }) },
    later: { actions: raise(({ event }) => ({ type: 'inc' as const, by: (event as { by: number }).by }), { delay: ({ event }) => (event as { ms: number }).ms, id: 'later' }) },
    cancelLater: { actions: cancel('later') },
    soon: { actions: raise({ type: 'bump' }, { delay: ({ event }) => (event as { ms: number }).ms }) },
    bump: { actions: assign({ count: ({ context }) => context.count * 2, trace: ({ context }) => mix(context.trace, 'bump') }) },
    poke: { actions: sendTo('ticker', { type: 'poke' }, { delay: ({ event }) => (event as { ms: number }).ms }) },
    tock: { actions: assign({ trace: ({ context }) => mix(context.trace, 'tock') }) },
    poked: { actions: assign({ trace: ({ context }) => mix(context.trace, 'poked') }) },
  },
});

type Op = { send: Ev } | { advance: number } | { checkpoint: { outage: number; sameClock: boolean } };

const eventArb: fc.Arbitrary<Ev> = fc.oneof(
  fc.integer({ min: 1, max: 9 }).map((by) => ({ type: 'inc' as const, by })),
  fc.constantFrom<Ev>({ type: 'arm' }, { type: 'disarm' }, { type: 'rearm' }, { type: 'pause' }, { type: 'resume' }, { type: 'cancelLater' }),
  fc.record({ ms: fc.integer({ min: 0, max: 70 }), by: fc.integer({ min: 1, max: 5 }) }).map((r) => ({ type: 'later' as const, ...r })),
  fc.integer({ min: 0, max: 50 }).map((ms) => ({ type: 'soon' as const, ms })),
  fc.integer({ min: 0, max: 50 }).map((ms) => ({ type: 'poke' as const, ms })),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: eventArb.map((send) => ({ send })) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 60 }).map((advance) => ({ advance })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ outage: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90 })), sameClock: fc.boolean() })
      .map((checkpoint) => ({ checkpoint })),
  },
);

const def = { name: 'counter', version: '1' };

interface Run {
  actor: Actor<typeof counter>;
  clock: VirtualClock;
}

function start(): Run {
  const clock = new VirtualClock(0);
  const actor = createActor(counter, { clock });
  trackDelays(actor, clock);
  actor.start();
  return { actor, clock };
}

/** What an outside observer can see of the actor, timers included (auto ids are not observable). */
function observe({ actor, clock }: Run) {
  const ticker = actor.system.get('ticker') as AnyActorRef;
  const timers = captureSnapshot(actor, { definition: def }).timers.map(({ seq: _seq, ...t }) => ({
    ...t,
    id: t.id.startsWith('agentos.delay.') ? 'auto' : t.id,
  }));
  return {
    now: clock.now(),
    value: actor.getSnapshot().value,
    context: actor.getSnapshot().context,
    ticker: { value: ticker.getSnapshot().value, context: ticker.getSnapshot().context },
    timers,
    clockTimers: clock.pending(),
  };
}

function uninterrupted(ops: Op[]) {
  const run = start();
  for (const op of ops) {
    if ('send' in op) run.actor.send(op.send);
    else if ('advance' in op) run.clock.advance(op.advance);
    // A checkpoint is invisible; an outage is time passing (restore at T catches up as advanceTo(T) would).
    else if (op.checkpoint.outage > 0) run.clock.advance(op.checkpoint.outage);
  }
  return observe(run);
}

function interrupted(ops: Op[]) {
  let run = start();
  for (const op of ops) {
    if ('send' in op) run.actor.send(op.send);
    else if ('advance' in op) run.clock.advance(op.advance);
    else {
      const bytes = encodeSnapshot(captureSnapshot(run.actor, { definition: def }));
      run.actor.stop();
      const { outage, sameClock } = op.checkpoint;
      let clock: VirtualClock;
      if (sameClock) {
        expect(run.clock.pending()).toBe(0); // stop left nothing armed
        run.clock.advance(outage);
        clock = run.clock;
      } else {
        clock = new VirtualClock(run.clock.now() + outage);
      }
      const actor = restoreActor(counter, decodeSnapshot(bytes, { definition: def }), { clock });
      run = { actor, clock };
    }
  }
  return observe(run);
}

describe('persist → encode → decode → restore → continue', () => {
  it('property: ends in the same state, context, child state and armed timers as an uninterrupted run of the same inputs', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        expect(interrupted(ops)).toEqual(uninterrupted(ops));
      }),
      { numRuns: 300 },
    );
  });

  it('the property is not vacuous: timers fire across the checkpoint, where XState alone would lose them', () => {
    const ops: Op[] = [{ send: { type: 'arm' } }, { send: { type: 'later', ms: 40, by: 3 } }, { advance: 10 }, { checkpoint: { outage: 0, sameClock: false } }, { advance: 50 }];
    const final = interrupted(ops);
    expect(final).toEqual(uninterrupted(ops));
    expect(final.context.ticks).toBe(1);
    expect(final.context.count).toBe(3);
    expect(final.context.pulses).toBe(3);
    expect(final.ticker.context.tocks).toBe(2);
    // XState alone (restore from getPersistedSnapshot) loses every one of those timers.
    const { actor } = start();
    actor.send({ type: 'arm' });
    const bare = createActor(counter, { snapshot: actor.getPersistedSnapshot(), clock: new VirtualClock(0) }).start();
    expect(bare.system.getSnapshot()._scheduledEvents).toEqual({});
  });
});
