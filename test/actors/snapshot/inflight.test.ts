import { assign, createActor, fromPromise, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import {
  captureSnapshot,
  decodeSnapshot,
  encodeSnapshot,
  heldInFlight,
  reissueInFlight,
  restoreActor,
  settleInFlight,
  trackDelays,
  type ActorSnapshot,
} from '../../../src/actors/snapshot/index.js';

const def = { name: 'fetcher', version: '1' };

/** A machine that invokes a promise; `calls` counts real invocations of the promise creator. */
function fetcher() {
  const calls: Array<{ id: number }> = [];
  let resolveNext: ((name: string) => void) | undefined;
  const fetchUser = fromPromise<string, { id: number }>(({ input }) => {
    calls.push(input);
    return new Promise<string>((resolve) => (resolveNext = resolve));
  });
  const machine = setup({ actors: { fetchUser } }).createMachine({
    id: 'fetcher',
    initial: 'loading',
    context: { user: undefined as string | undefined, failure: undefined as string | undefined },
    states: {
      loading: {
        invoke: {
          src: 'fetchUser',
          id: 'fetch',
          input: { id: 7 },
          onDone: { target: 'ready', actions: assign({ user: ({ event }) => event.output }) },
          onError: { target: 'failed', actions: assign({ failure: ({ event }) => String(event.error) }) },
        },
        on: { abandon: 'idle' },
      },
      ready: {},
      failed: {},
      idle: {},
    },
  });
  return { machine, calls, resolve: (name: string) => resolveNext?.(name) };
}

function midFlight(f: ReturnType<typeof fetcher>): ActorSnapshot {
  const clock = new VirtualClock(0);
  const actor = createActor(f.machine, { clock });
  trackDelays(actor, clock);
  actor.start();
  const snapshot = captureSnapshot(actor, { definition: def });
  actor.stop();
  return decodeSnapshot(encodeSnapshot(snapshot), { definition: def });
}

describe('in-flight promise actors across a snapshot', () => {
  it('lists the unsettled promise with its path, src and input', () => {
    const snapshot = midFlight(fetcher());
    expect(snapshot.inFlight).toEqual([{ path: ['fetch'], src: 'fetchUser', input: { id: 7 } }]);
  });

  it('holds it on restore by default: the promise creator does not run again', () => {
    const f = fetcher();
    const actor = restoreActor(f.machine, midFlight(f), { clock: new VirtualClock(0) });
    expect(f.calls).toHaveLength(1);
    expect(actor.getSnapshot().value).toBe('loading');
    expect(heldInFlight(actor)).toEqual([['fetch']]);
  });

  it('settleInFlight delivers the journaled output as the promise would have (onDone)', () => {
    const f = fetcher();
    const actor = restoreActor(f.machine, midFlight(f), { clock: new VirtualClock(0) });
    settleInFlight(actor, ['fetch'], { output: 'ada' });
    expect(actor.getSnapshot().value).toBe('ready');
    expect(actor.getSnapshot().context.user).toBe('ada');
    expect(heldInFlight(actor)).toEqual([]);
    expect(f.calls).toHaveLength(1);
  });

  it('settleInFlight with an error takes the onError path', () => {
    const f = fetcher();
    const actor = restoreActor(f.machine, midFlight(f), { clock: new VirtualClock(0) });
    settleInFlight(actor, ['fetch'], { error: 'timeout' });
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.failure).toBe('timeout');
  });

  it('reissueInFlight runs the creator again with the persisted input, once', async () => {
    const f = fetcher();
    const actor = restoreActor(f.machine, midFlight(f), { clock: new VirtualClock(0) });
    reissueInFlight(actor, ['fetch']);
    expect(f.calls).toEqual([{ id: 7 }, { id: 7 }]);
    expect(() => reissueInFlight(actor, ['fetch'])).toThrow(expect.objectContaining({ code: 'NOT_IN_FLIGHT' }));
    f.resolve('grace');
    await Promise.resolve();
    await Promise.resolve();
    expect(actor.getSnapshot().value).toBe('ready');
    expect(actor.getSnapshot().context.user).toBe('grace');
  });

  it("inFlight: 'rerun' is XState's own behaviour: the creator runs again during restore", () => {
    const f = fetcher();
    const actor = restoreActor(f.machine, midFlight(f), { clock: new VirtualClock(0), inFlight: 'rerun' });
    expect(f.calls).toHaveLength(2);
    expect(heldInFlight(actor)).toEqual([]);
  });

  it('a held promise is still in flight in the next snapshot, and can be settled after a second restore', () => {
    const f = fetcher();
    const once = restoreActor(f.machine, midFlight(f), { clock: new VirtualClock(0) });
    const again = captureSnapshot(once, { definition: def });
    once.stop();
    expect(again.inFlight).toEqual([{ path: ['fetch'], src: 'fetchUser', input: { id: 7 } }]);
    const twice = restoreActor(f.machine, decodeSnapshot(encodeSnapshot(again)), { clock: new VirtualClock(0) });
    settleInFlight(twice, ['fetch'], { output: 'lin' });
    expect(twice.getSnapshot().context.user).toBe('lin');
    expect(f.calls).toHaveLength(1);
  });

  it('leaving the invoking state stops a held promise; settling it afterwards is refused', () => {
    const f = fetcher();
    const actor = restoreActor(f.machine, midFlight(f), { clock: new VirtualClock(0) });
    actor.send({ type: 'abandon' });
    expect(heldInFlight(actor)).toEqual([]);
    expect(() => settleInFlight(actor, ['fetch'], { output: 'late' })).toThrow(
      expect.objectContaining({ code: 'NOT_IN_FLIGHT', field: 'path' }),
    );
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('a settled promise is not in flight', async () => {
    const f = fetcher();
    const clock = new VirtualClock(0);
    const actor = createActor(f.machine, { clock });
    trackDelays(actor, clock);
    actor.start();
    f.resolve('bo');
    await Promise.resolve();
    await Promise.resolve();
    expect(actor.getSnapshot().value).toBe('ready');
    expect(captureSnapshot(actor, { definition: def }).inFlight).toEqual([]);
  });
});
