// End-to-end supervision through createNode: real XState actors under real
// supervisors. Strategies, dynamic children, restart intensity and escalation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { supervisor } from '../../src/index.js';
import { counterAgent, settle } from '../support/agents.js';
import { countOf, crasherAgent, seededAgent, startNode, type Harness } from '../support/supervision.js';

let h: Harness;
beforeEach(async () => {
  h = await startNode();
});
afterEach(async () => {
  await h.close();
});

const counter = counterAgent();
const trio = (strategy: 'one_for_all' | 'rest_for_one') =>
  supervisor({ id: 'grp', strategy, intensity: 5, periodMs: 5000, children: ['a', 'b', 'c'].map((id) => ({ id, start: counter })) });

async function startTrio(strategy: 'one_for_all' | 'rest_for_one'): Promise<number> {
  await h.node.spawn(trio(strategy), { id: 'grp' });
  expect(h.lifecycle()).toEqual(['started a', 'started b', 'started c']);
  for (const [id, by] of [['a', 1], ['b', 2], ['c', 3]] as const) h.node.lookup(id)!.send({ type: 'inc', by });
  await settle();
  expect(['a', 'b', 'c'].map((id) => countOf(h.node, id))).toEqual([1, 2, 3]);
  return h.events.length;
}

describe('one_for_all', () => {
  it('restarts every child from its initial state when the middle one crashes, stopping in reverse and starting in order', async () => {
    const mark = await startTrio('one_for_all');
    h.node.lookup('b')!.send({ type: 'crash' });
    await settle();

    expect(['a', 'b', 'c'].map((id) => countOf(h.node, id))).toEqual([0, 0, 0]);
    // b has already exited; the others stop in reverse start order, then all start in order.
    expect(h.lifecycle(mark)).toEqual(['stopped b', 'stopped c', 'stopped a', 'started a', 'started b', 'started c']);
    const stopped = h.ofType('@agentos.actor.stopped', mark);
    expect(stopped.map((e) => e.reason)).toEqual(['error: counter crashed on purpose', 'shutdown', 'shutdown']);
    const restarts = h.ofType('@agentos.supervisor.restart', mark);
    expect(restarts.map((e) => e.child)).toEqual(['a', 'b', 'c']);
    for (const r of restarts) expect(r).toMatchObject({ supervisor: 'grp', trigger: 'b', reason: { kind: 'error' }, incarnation: 1 });
    expect(h.ofType('@agentos.actor.started', mark).map((e) => e.incarnation)).toEqual([1, 1, 1]);

    // The new incarnations work.
    h.node.lookup('a')!.send({ type: 'inc', by: 5 });
    await expect(h.node.lookup('a')!.ask({ type: 'get' })).resolves.toBe(5);
  });
});

describe('rest_for_one', () => {
  it('restarts the crashed child and those started after it; the first keeps its state', async () => {
    const mark = await startTrio('rest_for_one');
    h.node.lookup('b')!.send({ type: 'crash' });
    await settle();

    expect(['a', 'b', 'c'].map((id) => countOf(h.node, id))).toEqual([1, 0, 0]);
    expect(h.lifecycle(mark)).toEqual(['stopped b', 'stopped c', 'started b', 'started c']);
    expect(h.ofType('@agentos.supervisor.restart', mark).map((e) => e.child)).toEqual(['b', 'c']);
    const a = h.node.tree().children![0]!.children!.find((c) => c.id === 'a')!;
    expect(a).toMatchObject({ restarts: 0, info: { incarnation: 0 } });
  });

  it('a crash of the last child restarts only it', async () => {
    const mark = await startTrio('rest_for_one');
    h.node.lookup('c')!.send({ type: 'crash' });
    await settle();
    expect(['a', 'b', 'c'].map((id) => countOf(h.node, id))).toEqual([1, 2, 0]);
    expect(h.lifecycle(mark)).toEqual(['stopped c', 'started c']);
  });
});

describe('simple_one_for_one', () => {
  const pool = (restart: 'permanent' | 'temporary') =>
    supervisor({ id: 'pool', strategy: 'simple_one_for_one', intensity: 5, children: [{ id: 'worker', start: seededAgent, restart }] });

  it('starts dynamic children whose machine gets args as input, and restarts only the one that crashed', async () => {
    await h.node.spawn(pool('permanent'), { id: 'pool' });
    expect(h.node.tree().children![0]).toMatchObject({ id: 'pool', strategy: 'simple_one_for_one', children: [] });

    const w1 = await h.node.startChild('pool', { id: 'w1', args: { name: 'alpha', start: 10 } });
    const w2 = await h.node.startChild('pool', { id: 'w2', args: { name: 'beta', start: 20 } });
    expect(w1.path).toBe('/pool/w1');
    expect(w1.getSnapshot()?.context).toEqual({ name: 'alpha', count: 10 });
    expect(w2.getSnapshot()?.context).toEqual({ name: 'beta', count: 20 });
    w1.send({ type: 'inc', by: 1 });
    w2.send({ type: 'inc', by: 2 });
    await settle();

    const mark = h.events.length;
    w1.send({ type: 'crash' });
    await settle();
    // Restarted from its input again; the sibling is untouched.
    expect(w1.getSnapshot()?.context).toEqual({ name: 'alpha', count: 10 });
    expect(w2.getSnapshot()?.context).toEqual({ name: 'beta', count: 22 });
    expect(h.lifecycle(mark)).toEqual(['stopped w1', 'started w1']);
    expect(h.ofType('@agentos.supervisor.restart', mark)).toMatchObject([{ supervisor: 'pool', child: 'w1', trigger: 'w1' }]);

    // Without an id the supervisor names the child; without args the input is undefined.
    const anon = await h.node.startChild('pool');
    expect(anon.id).toBe('pool-1');
    expect(anon.getSnapshot()?.context).toEqual({ name: 'anonymous', count: 0 });
    await expect(h.node.startChild('pool', { id: 'w1' })).rejects.toMatchObject({ code: 'DUPLICATE_ACTOR' });
    expect(h.node.tree().children![0]!.children!.map((c) => c.id)).toEqual(['w1', 'w2', 'pool-1']);
  });

  it('does not restart a temporary template child; it is forgotten', async () => {
    await h.node.spawn(pool('temporary'), { id: 'pool' });
    const t1 = await h.node.startChild('pool', { id: 't1', args: { name: 'tmp', start: 1 } });
    await h.node.startChild('pool', { id: 't2', args: { name: 'tmp2', start: 2 } });
    const mark = h.events.length;
    t1.send({ type: 'crash' });
    await settle();
    expect(h.lifecycle(mark)).toEqual(['stopped t1']);
    expect(h.ofType('@agentos.supervisor.restart', mark)).toEqual([]);
    expect(h.node.lookup('t1')).toBeUndefined();
    expect(h.node.tree().children![0]!.children!.map((c) => c.id)).toEqual(['t2']);
    expect(countOf(h.node, 't2')).toBe(2);
  });

  it('startChild on an unknown supervisor is refused', async () => {
    await expect(h.node.startChild('nope', { id: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR', field: 'supervisorId' });
  });
});

describe('restart intensity', () => {
  // outer (rest_for_one): before, inner (intensity 2 in 1000 ms: crashy), after
  const tree = () =>
    supervisor({
      id: 'outer',
      strategy: 'rest_for_one',
      intensity: 5,
      periodMs: 5000,
      children: [
        { id: 'before', start: counter },
        { id: 'inner', start: supervisor({ id: 'inner', intensity: 2, periodMs: 1000, children: [{ id: 'crashy', start: crasherAgent }] }) },
        { id: 'after', start: counter },
      ],
    });

  async function startTree(): Promise<number> {
    await h.node.spawn(tree(), { id: 'outer' });
    h.node.lookup('before')!.send({ type: 'inc', by: 5 });
    h.node.lookup('after')!.send({ type: 'inc', by: 7 });
    await settle();
    return h.events.length;
  }

  const poke = async (): Promise<void> => {
    h.node.lookup('crashy')!.send({ type: 'poke' });
    await settle();
  };

  it('a nested supervisor past its intensity escalates, and its parent restarts it per its own strategy', async () => {
    const mark = await startTree();
    await poke();
    await poke();
    expect(h.ofType('@agentos.supervisor.escalated', mark)).toEqual([]);
    expect(h.ofType('@agentos.supervisor.restart', mark).map((e) => `${String(e.supervisor)}:${String(e.child)}`)).toEqual([
      'inner:crashy',
      'inner:crashy',
    ]);
    await poke(); // third crash within 1000 ms: more than 2

    const escalated = h.ofType('@agentos.supervisor.escalated', mark);
    expect(escalated).toHaveLength(1);
    expect(escalated[0]).toMatchObject({ supervisor: 'inner', path: '/outer/inner', child: 'crashy', intensity: 2, periodMs: 1000 });
    expect(h.ofType('@agentos.supervisor.restart', mark).map((e) => `${String(e.supervisor)}:${String(e.child)}`)).toEqual([
      'inner:crashy',
      'inner:crashy',
      'outer:inner',
      'outer:after',
    ]);
    expect(h.ofType('@agentos.supervisor.restart', mark)[2]).toMatchObject({
      reason: { kind: 'error', error: 'reached_max_restart_intensity' },
    });
    // rest_for_one: `before` keeps its state, `after` starts over, crashy is back.
    expect(countOf(h.node, 'before')).toBe(5);
    expect(countOf(h.node, 'after')).toBe(0);
    expect(h.node.lookup('crashy')).toBeDefined();
    expect(h.node.lookup('inner')).toBeDefined();
    const outer = h.node.tree().children![0]!;
    expect(outer.children!.map((c) => [c.id, c.restarts, c.status])).toEqual([
      ['before', 0, 'running'],
      ['inner', 1, 'running'],
      ['after', 1, 'running'],
    ]);
    // The restarted inner supervisor has a fresh intensity budget: two more crashes are absorbed.
    const mark2 = h.events.length;
    await poke();
    await poke();
    expect(h.ofType('@agentos.supervisor.escalated', mark2)).toEqual([]);
    expect(h.node.tree().children![0]!.children![1]!.info).toMatchObject({ restartCount: 2 });
  });

  it('restarts spread over more than periodMs never escalate', async () => {
    const mark = await startTree();
    for (let i = 0; i < 6; i++) {
      await poke();
      h.clock.advance(600);
    }
    expect(h.ofType('@agentos.supervisor.escalated', mark)).toEqual([]);
    expect(h.ofType('@agentos.supervisor.restart', mark)).toHaveLength(6);
    expect(countOf(h.node, 'after')).toBe(7);
    expect(h.node.tree().children![0]!.children![1]).toMatchObject({ id: 'inner', restarts: 0, info: { restartCount: 6 } });
  });
});

describe('root escalation', () => {
  it('the node stops when the root supervisor gives up, and later spawns are refused', async () => {
    const r = await startNode({ root: { intensity: 1, periodMs: 5000 } });
    try {
      const flaky = await r.node.spawn(counter, { id: 'flaky' });
      flaky.send({ type: 'crash' });
      await settle();
      expect(r.ofType('@agentos.supervisor.restart')).toMatchObject([{ supervisor: 'root', child: 'flaky' }]);
      r.clock.advance(100);
      flaky.send({ type: 'crash' });

      const reason = await r.node.stopped;
      expect(reason).toEqual({ kind: 'error', error: 'reached_max_restart_intensity' });
      expect(r.ofType('@agentos.supervisor.escalated')).toMatchObject([{ supervisor: 'root', child: 'flaky' }]);
      await expect(r.node.spawn(counter, { id: 'late' })).rejects.toMatchObject({ code: 'NODE_STOPPED' });
      expect(() => flaky.send({ type: 'get' })).toThrow(expect.objectContaining({ code: 'NODE_STOPPED' }));
      expect(r.node.lookup('flaky')).toBeUndefined();
    } finally {
      await r.close();
    }
  });

  it('crashes spread beyond the root period keep the node up', async () => {
    const r = await startNode({ root: { intensity: 1, periodMs: 5000 } });
    try {
      const flaky = await r.node.spawn(counter, { id: 'flaky' });
      for (let i = 0; i < 3; i++) {
        flaky.send({ type: 'crash' });
        await settle();
        r.clock.advance(5001);
      }
      expect(r.ofType('@agentos.supervisor.restart')).toHaveLength(3);
      flaky.send({ type: 'inc', by: 2 });
      await expect(flaky.ask({ type: 'get' })).resolves.toBe(2);
    } finally {
      await r.close();
    }
  });
});
