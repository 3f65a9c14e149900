import { assign, cancel, createActor, raise, setup, spawnChild, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import {
  captureSnapshot,
  decodeSnapshot,
  encodeSnapshot,
  restoreActor,
  trackDelays,
  type ActorSnapshot,
} from '../../../src/actors/snapshot/index.js';

const def = { name: 'timers', version: '1' };

function startTracked(machine: AnyStateMachine, clock: VirtualClock) {
  const actor = createActor(machine, { clock });
  trackDelays(actor, clock);
  return actor.start();
}

/** Capture, stop the original, and carry the snapshot through bytes. */
function persist(actor: { stop(): unknown }, clockNow?: number): ActorSnapshot {
  const snapshot = captureSnapshot(actor as never, { definition: def });
  if (clockNow !== undefined) expect(snapshot.capturedAt).toBe(clockNow);
  actor.stop();
  return decodeSnapshot(encodeSnapshot(snapshot), { definition: def });
}

// idle --arm--> waiting --after 50--> fired --after 30--> settled --after 30--> done
const chain = setup({}).createMachine({
  id: 'chain',
  initial: 'idle',
  context: { hops: 0 },
  states: {
    idle: { on: { arm: 'waiting' } },
    waiting: { after: { 50: { target: 'fired', actions: assign({ hops: ({ context }) => context.hops + 1 }) } }, on: { leave: 'idle' } },
    fired: { after: { 30: 'settled' } },
    settled: { after: { 30: 'done' } },
    done: {},
  },
});

function armedAt100(): ActorSnapshot {
  const clock = new VirtualClock(0);
  const actor = startTracked(chain, clock);
  clock.advanceTo(100);
  actor.send({ type: 'arm' });
  return persist(actor, 100);
}

describe('delayed events across a snapshot', () => {
  it('captures an after timer with its due time on the injected clock', () => {
    const snapshot = armedAt100();
    expect(snapshot.timers).toEqual([
      expect.objectContaining({ id: 'xstate.after.50.chain.waiting', source: [], target: [], dueAt: 150 }),
    ]);
  });

  it('a timer due at t=150 captured at t=100 and restored at t=120 fires at t=150, not before', () => {
    const clock = new VirtualClock(120);
    const actor = restoreActor(chain, armedAt100(), { clock });
    clock.advanceTo(149);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advanceTo(150);
    expect(actor.getSnapshot().value).toBe('fired');
    expect(actor.getSnapshot().context.hops).toBe(1);
  });

  it('a timer already due when restored (t=200) fires during restore, before restoreActor returns', () => {
    const clock = new VirtualClock(200);
    const actor = restoreActor(chain, armedAt100(), { clock });
    // 150: waiting -> fired (arms 180); 180: fired -> settled (arms 210, still pending).
    expect(actor.getSnapshot().value).toBe('settled');
    expect(actor.getSnapshot().context.hops).toBe(1);
    expect(clock.pending()).toBe(1);
  });

  it('restoring at T equals advancing to T: timers armed by caught-up events keep their virtual due times', () => {
    // waiting fires at 150 -> fired arms 30 (due 180) -> settled arms 30 (due 210).
    const clock = new VirtualClock(190);
    const actor = restoreActor(chain, armedAt100(), { clock });
    expect(actor.getSnapshot().value).toBe('settled');
    clock.advanceTo(209);
    expect(actor.getSnapshot().value).toBe('settled');
    clock.advanceTo(210);
    expect(actor.getSnapshot().value).toBe('done');
  });

  it('restoring at exactly the capture time fires nothing early', () => {
    const clock = new VirtualClock(100);
    const actor = restoreActor(chain, armedAt100(), { clock });
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advanceTo(150);
    expect(actor.getSnapshot().value).toBe('fired');
  });

  it('leaving the state cancels a re-armed after timer, as it would the original', () => {
    const clock = new VirtualClock(120);
    const actor = restoreActor(chain, armedAt100(), { clock });
    expect(clock.pending()).toBe(1);
    actor.send({ type: 'leave' });
    expect(clock.pending()).toBe(0);
    clock.advanceTo(500);
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('a restored actor can be captured again with the same due times (restore installs tracking)', () => {
    const clock = new VirtualClock(120);
    const once = restoreActor(chain, armedAt100(), { clock });
    const again = persist(once, 120);
    expect(again.timers.map((t) => [t.id, t.dueAt])).toEqual([['xstate.after.50.chain.waiting', 150]]);
  });

  const delayed = setup({}).createMachine({
    id: 'delayed',
    context: { pings: [] as string[] },
    on: {
      later: { actions: raise({ type: 'ping', from: 'later' }, { delay: 40, id: 'later' }) },
      anon: { actions: raise({ type: 'ping', from: 'anon' }, { delay: 10 }) },
      abort: { actions: cancel('later') },
      ping: { actions: assign({ pings: ({ context, event }) => [...context.pings, (event as { from?: string }).from ?? '?'] }) },
    },
  });

  it('a delayed raise with an id is re-armed under that id, so cancel(id) still reaches it', () => {
    const clock = new VirtualClock(0);
    const actor = startTracked(delayed, clock);
    actor.send({ type: 'later' });
    clock.advance(10);
    const restoredClock = new VirtualClock(10);
    const restored = restoreActor(delayed, persist(actor), { clock: restoredClock });
    restored.send({ type: 'abort' });
    restoredClock.advance(100);
    expect(restored.getSnapshot().context.pings).toEqual([]);
  });

  it('arming an id that is still armed replaces the earlier event (XState alone would fire both and cancel only one)', () => {
    const clock = new VirtualClock(0);
    const actor = startTracked(delayed, clock);
    actor.send({ type: 'later' });
    clock.advance(20);
    actor.send({ type: 'later' });
    expect(clock.pending()).toBe(1);
    const snapshot = persist(actor);
    expect(snapshot.timers.map((t) => [t.id, t.dueAt])).toEqual([['later', 60]]);
    const restoredClock = new VirtualClock(20);
    const restored = restoreActor(delayed, snapshot, { clock: restoredClock });
    restoredClock.advanceTo(59);
    expect(restored.getSnapshot().context.pings).toEqual([]);
    restoredClock.advanceTo(60);
    expect(restored.getSnapshot().context.pings).toEqual(['later']);
  });

  it('delayed events without an id get deterministic ids that do not collide after restore', () => {
    const clock = new VirtualClock(0);
    const actor = startTracked(delayed, clock);
    actor.send({ type: 'anon' });
    actor.send({ type: 'anon' });
    const snapshot = persist(actor);
    expect(snapshot.timers.map((t) => t.id)).toEqual(['agentos.delay.1', 'agentos.delay.2']);
    const restoredClock = new VirtualClock(0);
    const restored = restoreActor(delayed, snapshot, { clock: restoredClock });
    restored.send({ type: 'anon' });
    expect(restoredClock.pending()).toBe(3);
    restoredClock.advance(10);
    expect(restored.getSnapshot().context.pings).toEqual(['anon', 'anon', 'anon']);
  });

  const kid = setup({}).createMachine({
    id: 'kid',
    initial: 'napping',
    states: { napping: { after: { 70: 'awake' } }, awake: {} },
  });
  const parent = setup({ actors: { kid } }).createMachine({
    id: 'parent',
    entry: spawnChild('kid', { id: 'k', systemId: 'kid' }),
  });

  it("a spawned child's own timers come back on the child, at their due times", () => {
    const clock = new VirtualClock(0);
    const actor = startTracked(parent, clock);
    clock.advance(20);
    const snapshot = persist(actor);
    expect(snapshot.timers).toEqual([expect.objectContaining({ source: ['k'], target: ['k'], dueAt: 70 })]);
    const restoredClock = new VirtualClock(20);
    const restored = restoreActor(parent, snapshot, { clock: restoredClock });
    const child = restored.system.get('kid');
    restoredClock.advanceTo(69);
    expect(child.getSnapshot().value).toBe('napping');
    restoredClock.advanceTo(70);
    expect(child.getSnapshot().value).toBe('awake');
  });

  it('refuses to capture a timer armed before trackDelays, rather than guess its due time', () => {
    const clock = new VirtualClock(0);
    const actor = createActor(chain, { clock }).start();
    actor.send({ type: 'arm' });
    expect(() => captureSnapshot(actor, { definition: def, clock })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_UNCAPTURABLE', field: 'timers' }),
    );
    actor.send({ type: 'leave' });
    expect(captureSnapshot(actor, { definition: def, clock }).timers).toEqual([]);
  });
});
