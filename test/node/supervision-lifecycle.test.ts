// End-to-end actor lifecycle under supervision: graceful and forced shutdown on a
// VirtualClock, what counts as a crash, failed starts, and malformed specs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { supervisor, type AgentOsError } from '../../src/index.js';
import { counterAgent, settle } from '../support/agents.js';
import {
  brokenStartAgent,
  countOf,
  gracefulAgent,
  invokerAgent,
  startNode,
  stubbornAgent,
  type Harness,
} from '../support/supervision.js';

let h: Harness;
beforeEach(async () => {
  h = await startNode();
});
afterEach(async () => {
  await h.close();
});

const counter = counterAgent();

/** Track a promise's settlement without awaiting it. */
function watch(p: Promise<unknown>): { done: boolean; error: unknown } {
  const state = { done: false, error: undefined as unknown };
  p.then(
    () => (state.done = true),
    (e: unknown) => {
      state.done = true;
      state.error = e;
    },
  );
  return state;
}

describe('graceful shutdown', () => {
  it('a machine that handles agentos.shutdown gets to finish its 50 ms flush before stop() resolves', async () => {
    const ref = await h.node.spawn(gracefulAgent, { id: 'g' });
    const stopping = watch(ref.stop());
    await settle();
    expect(ref.getSnapshot()?.value).toBe('flushing');
    h.clock.advance(49);
    await settle();
    expect(stopping.done).toBe(false);
    expect(h.ofType('@agentos.actor.stopped')).toEqual([]);
    h.clock.advance(1);
    await settle();
    expect(stopping).toEqual({ done: true, error: undefined });
    expect(h.ofType('@agentos.actor.stopped')).toMatchObject([{ id: 'g', reason: 'shutdown' }]);
    expect(h.ofType('@agentos.supervisor.shutdown_timeout')).toEqual([]);
    expect(h.node.lookup('g')).toBeUndefined();
    expect(h.ofType('@agentos.supervisor.restart')).toEqual([]);
  });

  it('a machine that does not finish within shutdownMs is stopped once the clock passes it', async () => {
    const ref = await h.node.spawn(stubbornAgent, { id: 's', shutdownMs: 200 });
    const stopping = watch(ref.stop());
    await settle();
    expect(ref.getSnapshot()?.value).toBe('ignoring');
    h.clock.advance(199);
    await settle();
    expect(stopping.done).toBe(false);
    h.clock.advance(1);
    await settle();
    expect(stopping).toEqual({ done: true, error: undefined });
    expect(h.node.lookup('s')).toBeUndefined();
    expect(h.ofType('@agentos.actor.stopped')).toMatchObject([{ id: 's', reason: 'shutdown' }]);
  });

  it('a machine that does not handle agentos.shutdown is stopped at once', async () => {
    const ref = await h.node.spawn(counter, { id: 'c' });
    await ref.stop();
    expect(h.node.lookup('c')).toBeUndefined();
  });

  it('node.stop() stops children in reverse start order, waiting for a graceful one', async () => {
    await h.node.spawn(gracefulAgent, { id: 'first' });
    await h.node.spawn(
      supervisor({ id: 'team', children: [{ id: 'm1', start: counter }, { id: 'm2', start: counter }] }),
      { id: 'team' },
    );
    await h.node.spawn(counter, { id: 'last' });
    const mark = h.events.length;
    const stopping = watch(h.node.stop());
    await settle();
    // Everything after `first` has stopped; `first` is flushing on the virtual clock.
    expect(h.lifecycle(mark)).toEqual(['stopped last', 'stopped m2', 'stopped m1']);
    expect(stopping.done).toBe(false);
    h.clock.advance(50);
    await h.node.stopped;
    expect(h.lifecycle(mark)).toEqual(['stopped last', 'stopped m2', 'stopped m1', 'stopped first']);
    await expect(h.node.stopped).resolves.toEqual({ kind: 'shutdown' });
  });
});

describe('what is a crash', () => {
  it('an invoked promise that rejects with no onError is a crash: the actor restarts from its initial state', async () => {
    const ref = await h.node.spawn(invokerAgent(false), { id: 'inv' });
    ref.send({ type: 'fetch' });
    await settle();
    expect(h.ofType('@agentos.actor.stopped')).toMatchObject([{ id: 'inv', reason: 'error: fetch failed' }]);
    expect(h.ofType('@agentos.supervisor.restart')).toMatchObject([{ child: 'inv', reason: { kind: 'error' } }]);
    expect(ref.getSnapshot()?.value).toBe('idle');
    expect(h.ofType('@agentos.actor.started').map((e) => e.incarnation)).toEqual([0, 1]);
  });

  it('an invoked promise that rejects into onError is handled: no crash, no restart', async () => {
    const ref = await h.node.spawn(invokerAgent(true), { id: 'inv' });
    ref.send({ type: 'fetch' });
    await settle();
    expect(ref.getSnapshot()?.value).toBe('failed');
    expect(h.ofType('@agentos.actor.stopped')).toEqual([]);
    expect(h.ofType('@agentos.supervisor.restart')).toEqual([]);
  });

  it('reaching a final state is a normal exit: permanent restarts, transient does not', async () => {
    await h.node.spawn(
      supervisor({
        id: 'sup',
        intensity: 5,
        children: [
          { id: 'perm', start: counter, restart: 'permanent' },
          { id: 'trans', start: counter, restart: 'transient' },
        ],
      }),
      { id: 'sup' },
    );
    h.node.lookup('perm')!.send({ type: 'inc', by: 3 });
    h.node.lookup('perm')!.send({ type: 'finish' });
    h.node.lookup('trans')!.send({ type: 'finish' });
    await settle();
    // (The scheduler interleaves mailboxes round-robin, so the two exits may come in either order.)
    expect(h.ofType('@agentos.actor.stopped').map((e) => `${String(e.id)} ${String(e.reason)}`).sort()).toEqual(['perm normal', 'trans normal']);
    expect(h.ofType('@agentos.supervisor.restart')).toMatchObject([{ child: 'perm', reason: { kind: 'normal' } }]);
    expect(countOf(h.node, 'perm')).toBe(0);
    expect(h.node.lookup('trans')).toBeUndefined();
    // The transient child's spec is kept, not running.
    expect(h.node.tree().children![0]!.children!.map((c) => [c.id, c.status])).toEqual([
      ['perm', 'running'],
      ['trans', 'stopped'],
    ]);
  });

  it('a thrown action is a crash for a transient top-level agent', async () => {
    const ref = await h.node.spawn(counter, { id: 'c' });
    ref.send({ type: 'crash' });
    await settle();
    expect(h.ofType('@agentos.supervisor.restart')).toMatchObject([{ supervisor: 'root', child: 'c' }]);
  });
});

describe('start failures', () => {
  it('an agent whose entry action throws makes spawn reject, leaving nothing half-started', async () => {
    await h.node.spawn(counter, { id: 'keep' });
    const before = h.node.tree();
    const actorsBefore = h.node.stats().actors;
    const mark = h.events.length;
    await expect(h.node.spawn(brokenStartAgent, { id: 'broken' })).rejects.toThrow('entry exploded');
    expect(h.node.lookup('broken')).toBeUndefined();
    expect(h.node.tree()).toEqual(before);
    expect(h.node.stats().actors).toBe(actorsBefore);
    expect(h.ofType('@agentos.actor.started', mark)).toEqual([]);
    expect(h.ofType('@agentos.supervisor.restart', mark)).toEqual([]);
    // The id is free again and the node keeps working.
    const ok = await h.node.spawn(counter, { id: 'broken' });
    ok.send({ type: 'inc', by: 1 });
    await expect(ok.ask({ type: 'get' })).resolves.toBe(1);
  });

  it('a child that fails to start makes the supervisor spawn reject and stops the children already started', async () => {
    const before = h.node.tree();
    const mark = h.events.length;
    const spawning = h.node.spawn(
      supervisor({ id: 'sup', children: [{ id: 'ok1', start: counter }, { id: 'bad', start: brokenStartAgent }, { id: 'ok2', start: counter }] }),
      { id: 'sup' },
    );
    await expect(spawning).rejects.toThrow('entry exploded');
    expect(h.lifecycle(mark)).toEqual(['started ok1', 'stopped ok1']);
    expect(h.ofType('@agentos.supervisor.start_failed', mark)).toMatchObject([{ supervisor: 'sup', child: 'bad' }]);
    for (const id of ['sup', 'ok1', 'bad', 'ok2']) expect(h.node.lookup(id)).toBeUndefined();
    expect(h.node.tree()).toEqual(before);
    expect(h.node.stats().actors).toBe(0);
    // Same ids can be used again.
    await h.node.spawn(supervisor({ id: 'sup', children: [{ id: 'ok1', start: counter }] }), { id: 'sup' });
    expect(h.node.lookup('ok1')).toBeDefined();
  });

  it('a nested supervisor whose child cannot start fails the whole tree', async () => {
    const spawning = h.node.spawn(
      supervisor({
        id: 'top',
        children: [
          { id: 'w', start: counter },
          { id: 'mid', start: supervisor({ id: 'mid', children: [{ id: 'bad', start: brokenStartAgent }] }) },
        ],
      }),
      { id: 'top' },
    );
    await expect(spawning).rejects.toThrow('entry exploded');
    for (const id of ['top', 'w', 'mid', 'bad']) expect(h.node.lookup(id)).toBeUndefined();
    expect(h.node.tree().children).toEqual([]);
  });
});

describe('bad supervisor specs', () => {
  const fieldOf = (fn: () => unknown): { code?: string; field?: string; message?: string } => {
    try {
      fn();
    } catch (err) {
      const e = err as AgentOsError;
      return { code: e.code, field: e.field as string, message: e.message };
    }
    return {};
  };

  it('supervisor(...) refuses an unknown strategy, a negative intensity and duplicate child ids, naming the field', () => {
    expect(fieldOf(() => supervisor({ id: 's', strategy: 'one_for_some' as never }))).toMatchObject({
      code: 'INVALID_SUPERVISOR_SPEC',
      field: 'strategy',
      message: expect.stringContaining('one_for_some'),
    });
    expect(fieldOf(() => supervisor({ id: 's', intensity: -1 }))).toMatchObject({ code: 'INVALID_SUPERVISOR_SPEC', field: 'intensity' });
    expect(
      fieldOf(() => supervisor({ id: 's', children: [{ id: 'x', start: counter }, { id: 'x', start: counter }] })),
    ).toMatchObject({ code: 'INVALID_SUPERVISOR_SPEC', field: 'children[1].id', message: expect.stringContaining('"x"') });
    expect(fieldOf(() => supervisor({ id: 's', periodMs: 0 }))).toMatchObject({ field: 'periodMs' });
    expect(fieldOf(() => supervisor({ id: 's', children: [{ id: 'x', start: counter, restart: 'sometimes' as never }] }))).toMatchObject({
      field: 'children[0].restart',
    });
  });

  it('node.spawn of a raw malformed spec rejects with the same error, and the node keeps working', async () => {
    const raw = (over: Record<string, unknown>) =>
      ({ kind: 'supervisor', id: 's', strategy: 'one_for_one', intensity: 1, periodMs: 5000, children: [], ...over }) as never;
    await expect(h.node.spawn(raw({ strategy: 'round_robin' }), { id: 's' })).rejects.toMatchObject({
      code: 'INVALID_SUPERVISOR_SPEC',
      field: 'strategy',
    });
    await expect(h.node.spawn(raw({ intensity: -3 }), { id: 's' })).rejects.toMatchObject({ code: 'INVALID_SUPERVISOR_SPEC', field: 'intensity' });
    await expect(
      h.node.spawn(raw({ children: [{ id: 'd', start: counter }, { id: 'd', start: counter }] }), { id: 's' }),
    ).rejects.toMatchObject({ code: 'INVALID_SUPERVISOR_SPEC', field: 'children[1].id' });
    // A bad nested spec is caught too, before anything starts.
    await expect(
      h.node.spawn(raw({ children: [{ id: 'w', start: counter }, { id: 'n', start: { kind: 'supervisor', id: 'n', intensity: 'lots' } }] }), {
        id: 's',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_SUPERVISOR_SPEC', field: 'intensity' });
    expect(h.node.tree().children).toEqual([]);
    expect(h.ofType('@agentos.actor.started')).toEqual([]);

    const ok = await h.node.spawn(supervisor({ id: 's', children: [{ id: 'w', start: counter }] }), { id: 's' });
    expect(ok.id).toBe('s');
    h.node.lookup('w')!.send({ type: 'inc', by: 4 });
    await expect(h.node.lookup('w')!.ask({ type: 'get' })).resolves.toBe(4);
  });
});
