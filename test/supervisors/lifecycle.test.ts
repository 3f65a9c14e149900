// Start failures (init and restart), serialization of operations, shutdown
// budgets and the dynamic child API.

import { describe, expect, it } from 'vitest';
import { ActorError } from '../../src/base/errors.js';
import { Supervisor, supervisor } from '../../src/supervisors/index.js';
import { FakeHost, flush, make, workers } from './fake-host.js';

describe('start failures', () => {
  it('a child failing at init stops the started ones in reverse order and rejects with its error', async () => {
    const host = new FakeHost();
    host.failNextStarts('sup/c');
    const { sup, onExit } = make({ id: 'sup', children: workers('a', 'b', 'c', 'd') }, host);
    await expect(sup.start()).rejects.toThrow('cannot start sup/c');
    expect(host.take('sup')).toEqual(['start a', 'start b', 'fail c', 'stop b', 'stop a']);
    expect(sup.state).toBe('stopped');
    expect(onExit).not.toHaveBeenCalled();
    expect(host.eventsOf('@agentos.supervisor.start_failed')).toMatchObject([{ supervisor: 'sup', child: 'c' }]);
  });

  it('a nested supervisor failing at init fails its parent the same way', async () => {
    const host = new FakeHost();
    host.failNextStarts('root/inner/y');
    const { sup } = make(
      {
        id: 'root',
        children: [
          { id: 'w1', start: 'w' },
          { id: 'inner', start: supervisor({ id: 'inner', children: workers('x', 'y') }) },
          { id: 'w2', start: 'w' },
        ],
      },
      host,
    );
    await expect(sup.start()).rejects.toThrow('cannot start root/inner/y');
    expect(host.take('root')).toEqual(['start w1', 'start inner/x', 'fail inner/y', 'stop inner/x', 'stop w1']);
  });

  it('a restart whose start fails is retried and counts as another restart', async () => {
    const { host, sup, onExit } = make({ id: 'sup', intensity: 3, children: workers('a', 'b') });
    await sup.start();
    host.take('sup');
    host.failNextStarts('sup/b', 2);
    host.exit('sup/b');
    await flush();
    expect(host.take('sup')).toEqual(['fail b', 'fail b', 'start b']);
    expect(sup.restartCount).toBe(3);
    expect(sup.restartHistory).toHaveLength(3);
    expect(onExit).not.toHaveBeenCalled();
    expect(host.workers.get('sup/b')!.incarnation).toBe(3);
    expect(host.eventsOf('@agentos.supervisor.start_failed')).toHaveLength(2);
  });

  it('a child that can never start again escalates once the retries exceed the intensity', async () => {
    const { host, sup, onExit } = make({ id: 'sup', intensity: 3, children: workers('a', 'b', 'c') });
    await sup.start();
    host.take('sup');
    host.failNextStarts('sup/b', 100);
    host.exit('sup/b');
    await flush();
    expect(host.take('sup')).toEqual(['fail b', 'fail b', 'fail b', 'stop c', 'stop a']);
    expect(onExit).toHaveBeenCalledTimes(1);
  });

  it('restForOne retries from the child that failed to start, then starts those after it', async () => {
    const { host, sup } = make({ id: 'sup', strategy: 'rest_for_one', intensity: 5, children: workers('a', 'b', 'c', 'd') });
    await sup.start();
    host.take('sup');
    host.failNextStarts('sup/c');
    host.exit('sup/b');
    await flush();
    expect(host.take('sup')).toEqual(['stop d', 'stop c', 'start b', 'fail c', 'start c', 'start d']);
    expect(host.running()).toEqual(['sup/a', 'sup/b', 'sup/c', 'sup/d']);
    expect(sup.restartCount).toBe(2);
  });

  it('oneForAll retries the whole group, stopping what the failed attempt had started', async () => {
    const { host, sup } = make({ id: 'sup', strategy: 'one_for_all', intensity: 5, children: workers('a', 'b', 'c') });
    await sup.start();
    host.take('sup');
    host.failNextStarts('sup/b');
    host.exit('sup/a');
    await flush();
    expect(host.take('sup')).toEqual(['stop c', 'stop b', 'start a', 'fail b', 'stop a', 'start a', 'start b', 'start c']);
    expect(host.running()).toEqual(['sup/a', 'sup/b', 'sup/c']);
  });
});

describe('serialization and stale exits', () => {
  it('exits arriving during a restart wait their turn', async () => {
    const { host, sup } = make({ id: 'sup', strategy: 'rest_for_one', intensity: 5, children: workers('a', 'b', 'c') });
    await sup.start();
    host.take('sup');
    host.holdStops = true;
    host.exit('sup/b'); // rest_for_one: must stop c first; that stop hangs
    await flush();
    host.exit('sup/a'); // arrives while b's restart is in progress
    await flush();
    expect(host.take('sup')).toEqual(['stop c']);
    host.holdStops = false;
    host.releaseStop('sup/c');
    await flush();
    expect(host.take('sup')).toEqual(['start b', 'start c', 'stop c', 'stop b', 'start a', 'start b', 'start c']);
    expect(sup.restartCount).toBe(2);
  });

  it('an exit from a child the supervisor is stopping is ignored', async () => {
    const { host, sup } = make({ id: 'sup', strategy: 'one_for_all', intensity: 5, children: workers('a', 'b', 'c') });
    await sup.start();
    host.take('sup');
    host.holdStops = true;
    host.exit('sup/a');
    await flush(); // stopping c (held)
    const b = host.workers.get('sup/b')!;
    b.onExit({ kind: 'error', error: 'b crashed while c was stopping' }); // b is about to be stopped anyway
    host.holdStops = false;
    host.releaseStop('sup/c');
    await flush();
    expect(host.take('sup')).toEqual(['stop c', 'stop b', 'start a', 'start b', 'start c']);
    expect(sup.restartCount).toBe(1);
  });

  it('a second exit report from an old incarnation is ignored', async () => {
    const { host, sup } = make({ id: 'sup', intensity: 5, children: workers('a') });
    await sup.start();
    const old = host.exit('sup/a');
    await flush();
    old.onExit({ kind: 'error', error: 'again' });
    await flush();
    expect(sup.restartCount).toBe(1);
    expect(host.workers.get('sup/a')!.incarnation).toBe(1);
  });

  it('a listener that throws does not break supervision', async () => {
    const host = new FakeHost();
    host.emit = () => {
      throw new Error('bad listener');
    };
    const { sup } = make({ id: 'sup', intensity: 5, children: workers('a') }, host);
    await sup.start();
    host.exit('sup/a');
    await flush();
    expect(host.running()).toEqual(['sup/a']);
  });
});

describe('shutdown', () => {
  it('stop(timeoutMs) gives each child what is left of the overall budget', async () => {
    const { host, sup } = make({ id: 'sup', children: workers('a', 'b') });
    await sup.start();
    host.holdStops = true;
    const stopped = sup.stop(3000);
    await flush();
    host.clock.advance(2500);
    host.releaseStop('sup/b');
    await flush();
    host.releaseStop('sup/a');
    await stopped;
    expect(host.stopBudgets).toEqual([
      { path: 'sup/b', ms: 3000 },
      { path: 'sup/a', ms: 500 },
    ]);
  });

  it('gives up on a child whose stop hangs past shutdownMs + stopGraceMs, and goes on', async () => {
    const host = new FakeHost();
    const sup = new Supervisor(
      supervisor<string>({ id: 'sup', children: [{ id: 'a', start: 'w' }, { id: 'b', start: 'w', shutdownMs: 200 }] }),
      host,
      { clock: host.clock, stopGraceMs: 50 },
    );
    await sup.start();
    host.holdStops = true;
    let done = false;
    const stopped = sup.stop().then(() => (done = true));
    await flush();
    host.clock.advance(249);
    await flush();
    expect(done).toBe(false);
    expect(host.log.at(-1)).toBe('stop sup/b');
    host.clock.advance(1);
    await flush();
    expect(host.log.at(-1)).toBe('stop sup/a'); // moved on to the next child
    expect(host.eventsOf('@agentos.supervisor.shutdown_timeout')).toEqual([{ supervisor: 'sup', path: 'sup', child: 'b', shutdownMs: 200 }]);
    host.releaseStop('sup/a');
    await stopped;
    expect(host.clock.pending()).toBe(0);
  });

  it("waits for an 'infinity' child however long it takes", async () => {
    const host = new FakeHost();
    const sup = new Supervisor(supervisor<string>({ id: 'sup', children: [{ id: 'a', start: 'w', shutdownMs: 'infinity' }] }), host, {
      clock: host.clock,
    });
    await sup.start();
    host.holdStops = true;
    let done = false;
    const stopped = sup.stop().then(() => (done = true));
    host.clock.advance(1e9);
    await flush();
    expect(done).toBe(false);
    host.releaseStop('sup/a');
    await stopped;
  });

  it('a stop requested during a restart waits for the step in progress, starts nothing more, and never calls onExit', async () => {
    const { host, sup, onExit } = make({ id: 'sup', strategy: 'one_for_all', intensity: 5, children: workers('a', 'b', 'c') });
    await sup.start();
    host.take('sup');
    host.holdStops = true;
    host.exit('sup/a');
    await flush();
    host.releaseStop('sup/c');
    await flush();
    const stopped = sup.stop(); // b's stop is still held: the restart has started nothing yet
    host.holdStops = false;
    host.releaseStop('sup/b');
    await stopped;
    expect(host.take('sup')).toEqual(['stop c', 'stop b']);
    expect(host.running()).toEqual([]);
    expect(sup.state).toBe('stopped');
    expect(onExit).not.toHaveBeenCalled();
    await expect(sup.stop()).resolves.toBeUndefined();
  });
});

describe('dynamic children', () => {
  it('simpleOneForOne makes children from its template, with generated ids and args', async () => {
    const { host, sup } = make({
      id: 'pool',
      strategy: 'simple_one_for_one',
      intensity: 5,
      children: [{ id: 'tpl', start: 'agent:worker', restart: 'transient', shutdownMs: 100 }],
    });
    await sup.start();
    expect(host.log).toEqual([]);
    expect(await sup.startChild({ args: { n: 1 } })).toBe('pool-1');
    expect(await sup.startChild({ id: 'named' })).toBe('named');
    expect(await sup.startChild()).toBe('pool-2');
    expect(host.workers.get('pool/pool-1')!.args).toEqual({ n: 1 });
    expect(sup.whichChildren().map((c) => [c.id, c.restartType])).toEqual([
      ['pool-1', 'transient'],
      ['named', 'transient'],
      ['pool-2', 'transient'],
    ]);
    await expect(sup.startChild({ id: 'named' })).rejects.toMatchObject({ code: 'DUPLICATE_ACTOR' });
    host.exit('pool/named');
    await flush();
    expect(host.running()).toEqual(['pool/named', 'pool/pool-1', 'pool/pool-2']);
    await sup.terminateChild('pool-1');
    expect(host.stopBudgets).toEqual([{ path: 'pool/pool-1', ms: 100 }]);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['named', 'pool-2']);
    await expect(sup.deleteChild('pool-2')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    host.take('pool');
    await sup.stop();
    expect(host.take('pool')).toEqual(['stop pool-2', 'stop named']);
  });

  it('startChild adds a child at the end of the start order; a failed start leaves no trace', async () => {
    const { host, sup } = make({ id: 'sup', children: workers('a') });
    await sup.start();
    await sup.startChild({ id: 'b', start: 'w', restart: 'transient' });
    host.failNextStarts('sup/c');
    await expect(sup.startChild({ id: 'c', start: 'w' })).rejects.toThrow('cannot start sup/c');
    await expect(sup.startChild({ id: 'a', start: 'w' })).rejects.toBeInstanceOf(ActorError);
    await expect(sup.startChild({ id: 'bad', start: 'w', restart: 'never' as never })).rejects.toMatchObject({
      code: 'INVALID_SUPERVISOR_SPEC',
    });
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'b']);
    host.take('sup');
    await sup.stop();
    expect(host.take('sup')).toEqual(['stop b', 'stop a']);
  });

  it('terminateChild keeps the spec, restartChild starts it again, deleteChild forgets it', async () => {
    const { host, sup } = make({ id: 'sup', children: workers('a', 'b') });
    await sup.start();
    await sup.terminateChild('a');
    expect(sup.whichChildren().map((c) => [c.id, c.status])).toEqual([
      ['a', 'stopped'],
      ['b', 'running'],
    ]);
    await expect(sup.deleteChild('b')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(sup.restartChild('b')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await sup.restartChild('a');
    expect(host.workers.get('sup/a')!.incarnation).toBe(1);
    expect(sup.restartCount).toBe(0);
    await sup.terminateChild('a');
    await sup.deleteChild('a');
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['b']);
    await expect(sup.terminateChild('zz')).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR' });
  });

  it('a supervisor cannot be started twice', async () => {
    const { sup } = make({ id: 'sup', children: workers('a') });
    await sup.start();
    await expect(sup.start()).rejects.toBeInstanceOf(ActorError);
  });
});
