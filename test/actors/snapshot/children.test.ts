import {
  assign,
  createActor,
  fromCallback,
  fromPromise,
  fromTransition,
  sendTo,
  setup,
  spawnChild,
  type AnyActorRef,
  type AnyStateMachine,
} from 'xstate';
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

const def = { name: 'family', version: '1' };

function run(machine: AnyStateMachine, clock = new VirtualClock(0)) {
  const actor = createActor(machine, { clock });
  trackDelays(actor, clock);
  return actor.start();
}

function throughBytes(actor: AnyActorRef & { stop(): unknown }): ActorSnapshot {
  const snapshot = captureSnapshot(actor, { definition: def });
  actor.stop();
  return decodeSnapshot(encodeSnapshot(snapshot), { definition: def });
}

/** `spawn(logic)` with a logic object; setup()'s typings only admit registered names. */
const spawnInline = (spawn: unknown, logic: unknown, id: string): unknown =>
  (spawn as (logic: unknown, options: { id: string }) => unknown)(logic, { id });

const worker = setup({}).createMachine({
  id: 'worker',
  context: { done: 0 },
  on: { work: { actions: assign({ done: ({ context }) => context.done + 1 }) } },
});

describe('children across a snapshot', () => {
  const boss = setup({ actors: { worker } }).createMachine({
    id: 'boss',
    initial: 'idle',
    states: { idle: { on: { hire: { target: 'staffed', actions: spawnChild('worker', { id: 'w1', systemId: 'worker-1' }) } } }, staffed: {} },
  });

  it('a child spawned by systemId comes back running, with its state, and system.get finds it (statelyai/xstate#4873)', () => {
    const actor = run(boss);
    actor.send({ type: 'hire' });
    actor.system.get('worker-1').send({ type: 'work' });
    actor.system.get('worker-1').send({ type: 'work' });
    const restored = restoreActor(boss, throughBytes(actor), { clock: new VirtualClock(0) });
    const w = restored.system.get('worker-1');
    expect(w).toBeDefined();
    expect(w.getSnapshot().context.done).toBe(2);
    w.send({ type: 'work' });
    expect(w.getSnapshot().context.done).toBe(3);
    expect(restored.getSnapshot().children.w1).toBe(w);
  });

  it('an invoked callback actor is started again: it receives events and sends back, with fresh closure state', () => {
    const starts: number[] = [];
    const echo = fromCallback<{ type: string }, { label: string }>(({ receive, sendBack, input }) => {
      let seen = 0; // closure state: not in any snapshot
      starts.push(starts.length + 1);
      receive(() => sendBack({ type: 'pong', seen: ++seen, label: input.label }));
    });
    const pinger = setup({ actors: { echo } }).createMachine({
      id: 'pinger',
      context: { pongs: [] as number[] },
      invoke: { src: 'echo', id: 'echo', input: { label: 'e' } },
      on: {
        ping: { actions: sendTo('echo', { type: 'ping' }) },
        pong: { actions: assign({ pongs: ({ context, event }) => [...context.pongs, (event as unknown as { seen: number }).seen] }) },
      },
    });
    const actor = run(pinger);
    actor.send({ type: 'ping' });
    actor.send({ type: 'ping' });
    const snapshot = throughBytes(actor);
    expect(snapshot.children).toEqual([expect.objectContaining({ path: ['echo'], src: 'echo', kind: 'restartable' })]);
    const restored = restoreActor(pinger, snapshot, { clock: new VirtualClock(0) });
    restored.send({ type: 'ping' });
    expect(starts).toEqual([1, 2]);
    expect(restored.getSnapshot().context.pongs).toEqual([1, 2, 1]);
  });

  it('an invoked child machine with its own spawned grandchild comes back, state for state', () => {
    const team = setup({ actors: { worker } }).createMachine({
      id: 'team',
      entry: spawnChild('worker', { id: 'lead', systemId: 'lead' }),
      on: { delegate: { actions: sendTo('lead', { type: 'work' }) } },
    });
    const org = setup({ actors: { team } }).createMachine({
      id: 'org',
      invoke: { src: 'team', id: 'team' },
      on: { delegate: { actions: sendTo('team', { type: 'delegate' }) } },
    });
    const actor = run(org);
    actor.send({ type: 'delegate' });
    const snapshot = throughBytes(actor);
    expect(snapshot.children.map((c) => [c.path.join('/'), c.kind])).toEqual([
      ['team', 'machine'],
      ['team/lead', 'machine'],
    ]);
    const restored = restoreActor(org, snapshot, { clock: new VirtualClock(0) });
    restored.send({ type: 'delegate' });
    expect(restored.system.get('lead').getSnapshot().context.done).toBe(2);
  });

  it('a child held in context (assign + spawn) is revived as a live ref', () => {
    const holder = setup({ actors: { worker } }).createMachine({
      id: 'holder',
      context: { ref: undefined as AnyActorRef | undefined },
      entry: assign({ ref: ({ spawn }) => spawn('worker', { id: 'held' }) }),
      on: { work: { actions: sendTo(({ context }) => context.ref as AnyActorRef, { type: 'work' }) } },
    });
    const actor = run(holder);
    actor.send({ type: 'work' });
    const restored = restoreActor(holder, throughBytes(actor), { clock: new VirtualClock(0) });
    restored.send({ type: 'work' });
    const ref = restored.getSnapshot().context.ref as AnyActorRef;
    expect(ref).toBe(restored.getSnapshot().children.held);
    expect(ref.getSnapshot().context.done).toBe(2);
  });

  it('reports each child kind: machine, stateful (transition), restartable (callback), promise', () => {
    const tally = fromTransition((n: number) => n + 1, 0);
    const cb = fromCallback(() => undefined);
    const slow = fromPromise(() => new Promise<number>(() => undefined));
    const zoo = setup({ actors: { worker, tally, cb, slow } }).createMachine({
      id: 'zoo',
      invoke: [
        { src: 'worker', id: 'm' },
        { src: 'tally', id: 't' },
        { src: 'cb', id: 'c' },
        { src: 'slow', id: 'p', input: { q: 1 } },
      ],
    });
    const snapshot = throughBytes(run(zoo));
    expect(snapshot.children.map((c) => [c.path[0], c.kind])).toEqual([
      ['m', 'machine'],
      ['t', 'stateful'],
      ['c', 'restartable'],
      ['p', 'promise'],
    ]);
    expect(snapshot.inFlight).toEqual([{ path: ['p'], src: 'slow', input: { q: 1 } }]);
  });

  it('names an inline-spawned child by its registered name, so it restores from bytes', () => {
    const inline = setup({ actors: { worker } }).createMachine({
      id: 'inline',
      entry: assign(({ spawn }) => {
        spawnInline(spawn, worker, 'w'); // the logic object, not its registered name
        return {};
      }),
    });
    const actor = run(inline);
    const snapshot = throughBytes(actor);
    expect(snapshot.xstate.children.w.src).toBe('worker');
    const restored = restoreActor(inline, snapshot, { clock: new VirtualClock(0) });
    expect(restored.getSnapshot().children.w?.getSnapshot().status).toBe('active');
  });

  it('refuses to capture a child spawned from unregistered inline logic', () => {
    const stray = setup({}).createMachine({
      id: 'stray',
      entry: assign(({ spawn }) => {
        spawnInline(spawn, worker, 'w');
        return {};
      }),
    });
    expect(() => captureSnapshot(run(stray), { definition: def })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_UNCAPTURABLE', field: 'root/w' }),
    );
  });

  it('refuses to capture a child spawned without an id (its XState session id would collide after restore)', () => {
    const anonymous = setup({ actors: { worker } }).createMachine({
      id: 'anonymous',
      context: { ref: undefined as AnyActorRef | undefined },
      entry: assign({ ref: ({ spawn }) => spawn('worker') }),
    });
    expect(() => captureSnapshot(run(anonymous), { definition: def })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_UNCAPTURABLE', message: expect.stringContaining('without an id') }),
    );
  });

  it('refuses a snapshot whose child logic the machine no longer registers, instead of dropping the child', () => {
    const actor = run(boss);
    actor.send({ type: 'hire' });
    const snapshot = throughBytes(actor);
    const bossWithoutWorker = setup({}).createMachine({ id: 'boss', initial: 'idle', states: { idle: {}, staffed: {} } });
    expect(() => restoreActor(bossWithoutWorker, snapshot, { clock: new VirtualClock(0) })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INCOMPATIBLE', field: 'root/w1' }),
    );
  });

  it('refuses a snapshot in a state the machine does not have, without starting anything', () => {
    const actor = run(boss);
    actor.send({ type: 'hire' });
    const snapshot = throughBytes(actor);
    const renamed = setup({ actors: { worker } }).createMachine({ id: 'boss', initial: 'idle', states: { idle: {}, hired: {} } });
    expect(() => restoreActor(renamed, snapshot, { clock: new VirtualClock(0) })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INCOMPATIBLE', field: 'xstate' }),
    );
  });

  it('refuses a snapshot of another definition, or a malformed one, before creating anything', () => {
    const actor = run(boss);
    const snapshot = throughBytes(actor);
    expect(() => restoreActor(boss, snapshot, { clock: new VirtualClock(0), definition: { name: 'family', version: '2' } })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INCOMPATIBLE', field: 'definition' }),
    );
    expect(() => restoreActor(boss, { ...snapshot, timers: undefined } as never, { clock: new VirtualClock(0) })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', field: 'timers' }),
    );
  });

  it('passes inspect through: the restored system reports its events', () => {
    const actor = run(boss);
    actor.send({ type: 'hire' });
    const seen: string[] = [];
    const restored = restoreActor(boss, throughBytes(actor), {
      clock: new VirtualClock(0),
      inspect: (e) => {
        if (e.type === '@xstate.event') seen.push(e.event.type);
      },
    });
    restored.system.get('worker-1').send({ type: 'work' });
    expect(seen).toContain('work');
  });

  it('refuses to capture context that bytes would change, naming the path', () => {
    const leaky = setup({}).createMachine({ id: 'leaky', context: { tools: { send: () => 1 } } });
    expect(() => captureSnapshot(run(leaky), { definition: def })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_UNCAPTURABLE', field: 'xstate.context.tools.send' }),
    );
    const mapped = setup({}).createMachine({ id: 'mapped', context: { m: new Map([[1, 2]]) } });
    expect(() => captureSnapshot(run(mapped), { definition: def })).toThrow(expect.objectContaining({ field: 'xstate.context.m' }));
  });

  it('a child that fails while restarting fails the restore, and nothing is left running', () => {
    let armed = false;
    const fragile = fromCallback(() => {
      if (armed) throw new Error('no network');
    });
    const ticker = setup({}).createMachine({ id: 'ticker', initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } });
    const host = setup({ actors: { fragile, ticker } }).createMachine({
      id: 'host',
      invoke: [
        { src: 'ticker', id: 'ticker' },
        { src: 'fragile', id: 'fragile' },
      ],
    });
    const snapshot = throughBytes(run(host));
    armed = true;
    const clock = new VirtualClock(0);
    expect(() => restoreActor(host, snapshot, { clock })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_RESTORE_FAILED', message: expect.stringContaining('no network') }),
    );
    expect(clock.pending()).toBe(0);
  });
});
