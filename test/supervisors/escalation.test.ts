// Restart intensity, escalation to the parent, nested supervisors and tree().

import { describe, expect, it } from 'vitest';
import { normalExit } from '../../src/base/exit.js';
import { MAX_RESTART_INTENSITY, Supervisor, supervisor, type ExitReason, type Strategy, type SupervisorInput } from '../../src/supervisors/index.js';
import { FakeHost, flush, make, workers } from './fake-host.js';

describe('restart intensity', () => {
  it('restarts spread wider than periodMs never escalate', async () => {
    const { host, sup, onExit } = make({ id: 'sup', intensity: 2, periodMs: 1000, children: workers('a', 'b') });
    await sup.start();
    for (let i = 0; i < 10; i++) {
      host.exit('sup/a');
      await flush();
      host.clock.advance(600); // at most 2 restarts fall in any 1000 ms window
    }
    expect(sup.restartCount).toBe(10);
    expect(onExit).not.toHaveBeenCalled();
    expect(host.running()).toEqual(['sup/a', 'sup/b']);
    expect(sup.restartHistory.length).toBeLessThanOrEqual(2);
  });

  it('more than `intensity` restarts within periodMs stop all children in reverse order, emit escalated and call onExit', async () => {
    const { host, sup, onExit } = make({ id: 'sup', intensity: 2, periodMs: 1000, children: workers('a', 'b', 'c') });
    await sup.start();
    host.take('sup');
    host.exit('sup/b');
    await flush();
    host.clock.advance(400);
    host.exit('sup/b');
    await flush();
    host.clock.advance(400);
    expect(onExit).not.toHaveBeenCalled();
    expect(host.take('sup')).toEqual(['start b', 'start b']);

    const crash: ExitReason = { kind: 'error', error: new Error('third') };
    host.exit('sup/b', crash);
    await flush();
    expect(host.take('sup')).toEqual(['stop c', 'stop a']);
    expect(host.running()).toEqual([]);
    expect(host.eventsOf('@agentos.supervisor.escalated')).toEqual([
      { supervisor: 'sup', path: 'sup', child: 'b', reason: crash, intensity: 2, periodMs: 1000 },
    ]);
    expect(onExit).toHaveBeenCalledTimes(1);
    expect(onExit).toHaveBeenCalledWith({ kind: 'error', error: MAX_RESTART_INTENSITY });
    expect(sup.state).toBe('stopped');
    expect(sup.restartCount).toBe(2);
  });

  it('counts a restart exactly periodMs old as inside the window', async () => {
    const { host, sup, onExit } = make({ id: 'sup', intensity: 1, periodMs: 1000, children: workers('a') });
    await sup.start();
    host.exit('sup/a');
    await flush();
    host.clock.advance(1000);
    host.exit('sup/a');
    await flush();
    expect(onExit).toHaveBeenCalledTimes(1);
  });

  it('intensity 0 escalates on the first crash', async () => {
    const { host, sup, onExit } = make({ id: 'sup', intensity: 0, children: workers('a') });
    await sup.start();
    host.exit('sup/a');
    await flush();
    expect(onExit).toHaveBeenCalledTimes(1);
    expect(sup.restartCount).toBe(0);
  });

  it('ignores exits once escalated and refuses new children', async () => {
    const { host, sup } = make({ id: 'sup', intensity: 0, children: workers('a') });
    await sup.start();
    const old = host.exit('sup/a');
    await flush();
    old.onExit(normalExit);
    await flush();
    await expect(sup.startChild({ id: 'z', start: 'w' })).rejects.toMatchObject({ code: 'ACTOR_STOPPED' });
  });
});

describe('nested supervisors and escalation', () => {
  const tree = (rootStrategy: Strategy): SupervisorInput<string> => ({
    id: 'root',
    strategy: rootStrategy,
    intensity: 1,
    periodMs: 5000,
    children: [
      { id: 'w1', start: 'agent:w1' },
      { id: 'inner', start: supervisor({ id: 'inner', intensity: 1, periodMs: 5000, children: workers('x', 'y') }) },
      { id: 'w2', start: 'agent:w2' },
    ],
  });

  it('starts depth-first in spec order and stops in exact reverse order', async () => {
    const { host, sup } = make(tree('one_for_one'));
    await sup.start();
    expect(host.take('root')).toEqual(['start w1', 'start inner/x', 'start inner/y', 'start w2']);
    await sup.stop();
    expect(host.take('root')).toEqual(['stop w2', 'stop inner/y', 'stop inner/x', 'stop w1']);
    expect(host.stopBudgets.map((s) => s.ms)).toEqual([5000, 5000, 5000, 5000]);
    expect(sup.state).toBe('stopped');
  });

  it('an inner supervisor past its intensity is restarted by the outer one (one_for_one)', async () => {
    const { host, sup, onExit } = make(tree('one_for_one'));
    await sup.start();
    host.take('root');
    host.exit('root/inner/x');
    await flush();
    host.exit('root/inner/x');
    await flush();
    expect(host.take('root')).toEqual(['start inner/x', 'stop inner/y', 'start inner/x', 'start inner/y']);
    expect(host.eventsOf('@agentos.supervisor.escalated').map((e) => e.path)).toEqual(['root/inner']);
    const restart = host.eventsOf('@agentos.supervisor.restart').at(-1);
    expect(restart).toMatchObject({
      supervisor: 'root',
      path: 'root',
      child: 'inner',
      reason: { kind: 'error', error: MAX_RESTART_INTENSITY },
      incarnation: 1,
    });
    expect(onExit).not.toHaveBeenCalled();
    expect(host.running()).toEqual(['root/inner/x', 'root/inner/y', 'root/w1', 'root/w2']);
  });

  it('the outer supervisor applies its own strategy to the inner one (one_for_all restarts the siblings)', async () => {
    const { host, sup } = make(tree('one_for_all'));
    await sup.start();
    host.take('root');
    host.exit('root/inner/y');
    await flush();
    host.exit('root/inner/y');
    await flush();
    expect(host.take('root')).toEqual([
      'start inner/y',
      'stop inner/x', // inner gives up
      'stop w2', // root: one_for_all, reverse order
      'stop w1',
      'start w1',
      'start inner/x',
      'start inner/y',
      'start w2',
    ]);
  });

  it('escalates further when the outer supervisor exceeds its own intensity', async () => {
    const { host, sup, onExit } = make(tree('one_for_one'));
    await sup.start();
    for (let round = 0; round < 2; round++) {
      host.exit('root/inner/x');
      await flush();
      host.exit('root/inner/x');
      await flush();
    }
    expect(host.eventsOf('@agentos.supervisor.escalated').map((e) => e.path)).toEqual([
      'root/inner',
      'root/inner',
      'root',
    ]);
    expect(onExit).toHaveBeenCalledWith({ kind: 'error', error: MAX_RESTART_INTENSITY });
    expect(host.running()).toEqual([]);
    expect(host.log.slice(-3)).toEqual(['stop root/inner/y', 'stop root/w2', 'stop root/w1']);
  });

  it('tree() shows nested supervisors, per-child restart counts, status and host info', async () => {
    const { host, sup } = make(tree('one_for_one'));
    await sup.start();
    host.exit('root/w2');
    await flush();
    host.exit('root/inner/x');
    await flush();
    expect(sup.tree()).toEqual({
      id: 'root',
      kind: 'supervisor',
      path: 'root',
      strategy: 'one_for_one',
      restarts: 0,
      status: 'running',
      info: { restartCount: 1, intensity: 1, periodMs: 5000 },
      children: [
        { id: 'w1', kind: 'worker', path: 'root/w1', restartType: 'permanent', restarts: 0, status: 'running', info: { label: 'worker w1', incarnation: 0 } },
        {
          id: 'inner',
          kind: 'supervisor',
          path: 'root/inner',
          strategy: 'one_for_one',
          restartType: 'permanent',
          restarts: 0,
          status: 'running',
          info: { restartCount: 1, intensity: 1, periodMs: 5000 },
          children: [
            { id: 'x', kind: 'worker', path: 'root/inner/x', restartType: 'permanent', restarts: 1, status: 'running', info: { label: 'worker x', incarnation: 1 } },
            { id: 'y', kind: 'worker', path: 'root/inner/y', restartType: 'permanent', restarts: 0, status: 'running', info: { label: 'worker y', incarnation: 0 } },
          ],
        },
        { id: 'w2', kind: 'worker', path: 'root/w2', restartType: 'permanent', restarts: 1, status: 'running', info: { label: 'worker w2', incarnation: 1 } },
      ],
    });
    await sup.stop();
    expect(sup.tree().status).toBe('stopped');
    expect(sup.tree().children!.map((c) => c.status)).toEqual(['stopped', 'stopped', 'stopped']);
  });
});

describe('host hooks and paths', () => {
  it('tells the host when nested supervisors start and stop and when leaf children are gone for good', async () => {
    const { host, sup } = make({
      id: 'root',
      intensity: 5,
      children: [
        { id: 'w', start: 'w' },
        { id: 't', start: 'w', restart: 'temporary' },
        { id: 'inner', start: supervisor({ id: 'inner', intensity: 0, children: workers('x') }) },
      ],
    });
    await sup.start();
    expect(host.hooks).toEqual(['sup+ root/inner']);
    host.exit('root/t', normalExit);
    await flush();
    host.exit('root/inner/x'); // inner gives up at once (intensity 0); root restarts it
    await flush();
    expect(host.hooks.splice(0)).toEqual([
      'sup+ root/inner',
      'released root/t',
      'released root/inner/x',
      'sup- root/inner',
      'sup+ root/inner',
    ]);
    await sup.stop();
    expect(host.hooks).toEqual(['released root/inner/x', 'sup- root/inner', 'released root/w']);
  });

  it("a root given path '' is invisible in paths: children live at /id", async () => {
    const host = new FakeHost();
    const root = new Supervisor(
      supervisor<string>({ id: 'root', children: [{ id: 'a', start: 'w' }, { id: 'sub', start: supervisor({ id: 'sub', children: workers('b') }) }] }),
      host,
      { clock: host.clock, path: '' },
    );
    await root.start();
    expect(root.path).toBe('');
    expect(host.running()).toEqual(['/a', '/sub/b']);
    expect(root.tree().children!.map((c) => c.path)).toEqual(['/a', '/sub']);
    expect(root.tree().children![1]!.children!.map((c) => c.path)).toEqual(['/sub/b']);
    const nested = new Supervisor(supervisor<string>({ id: 'n' }), host, { clock: host.clock, parentPath: 'p' });
    expect(nested.path).toBe('p/n');
  });
});
