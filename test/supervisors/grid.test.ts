// The OTP supervisor_SUITE grid: strategy × restart type of the exiting child ×
// exit reason. Siblings are permanent; the middle child `b` exits. Expectations
// are written out by hand, not derived from the code under test.

import { describe, expect, it } from 'vitest';
import { errorExit, normalExit, shutdownExit } from '../../src/base/exit.js';
import { Supervisor, supervisor, type RestartType, type Strategy } from '../../src/supervisors/index.js';
import { FakeHost, flush } from './fake-host.js';

type ReasonName = 'normal' | 'shutdown' | 'error';
const reasons = { normal: normalExit, shutdown: shutdownExit, error: errorExit(new Error('boom')) };

/** OTP: permanent always, transient only on abnormal exit, temporary never. */
const restarted: Record<RestartType, Record<ReasonName, boolean>> = {
  permanent: { normal: true, shutdown: true, error: true },
  transient: { normal: false, shutdown: false, error: true },
  temporary: { normal: false, shutdown: false, error: false },
};

/** What the host sees after `b` exits, when `b` is restarted. */
const restartLog: Record<Strategy, string[]> = {
  one_for_one: ['start b'],
  one_for_all: ['stop c', 'stop a', 'start a', 'start b', 'start c'],
  rest_for_one: ['stop c', 'start b', 'start c'],
  simple_one_for_one: ['start b'],
};
/** Siblings restarted together with `b` (each gets a restart event). */
const restartedSet: Record<Strategy, string[]> = {
  one_for_one: ['b'],
  one_for_all: ['a', 'b', 'c'],
  rest_for_one: ['b', 'c'],
  simple_one_for_one: ['b'],
};

const strategies: Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'];
const types: RestartType[] = ['permanent', 'transient', 'temporary'];
const reasonNames: ReasonName[] = ['normal', 'shutdown', 'error'];

const rows = strategies.flatMap((strategy) =>
  types.flatMap((type) =>
    reasonNames.map((reason) => {
      const again = restarted[type][reason];
      const behaviour = again
        ? `restarts ${restartedSet[strategy].join(', ')}`
        : type === 'transient' && strategy !== 'simple_one_for_one'
          ? 'keeps b stopped and touches no sibling'
          : 'forgets b and touches no sibling';
      const title = `${strategy}: a ${type} child exiting ${reason} ${behaviour}`;
      return [title, { strategy, type, reason, again }] as const;
    }),
  ),
);

async function startGrid(strategy: Strategy, type: RestartType) {
  const host = new FakeHost();
  const simple = strategy === 'simple_one_for_one';
  const spec = supervisor<string>({
    id: 'sup',
    strategy,
    intensity: 5,
    periodMs: 5000,
    children: simple
      ? [{ id: 'tpl', start: 'worker', restart: type }]
      : [
          { id: 'a', start: 'worker' },
          { id: 'b', start: 'worker', restart: type },
          { id: 'c', start: 'worker' },
        ],
  });
  const sup = new Supervisor(spec, host, { clock: host.clock });
  await sup.start();
  if (simple) for (const id of ['a', 'b', 'c']) await sup.startChild({ id });
  expect(host.take('sup')).toEqual(['start a', 'start b', 'start c']);
  return { host, sup };
}

describe('supervision grid: strategy × restart type × exit reason', () => {
  it.each(rows)('%s', async (_title, { strategy, type, reason, again }) => {
    const { host, sup } = await startGrid(strategy, type);
    host.exit('sup/b', reasons[reason]);
    await flush();

    if (again) {
      expect(host.take('sup')).toEqual(restartLog[strategy]);
      expect(host.running()).toEqual(['sup/a', 'sup/b', 'sup/c']);
      const events = host.eventsOf('@agentos.supervisor.restart');
      expect(events.map((e) => e.child)).toEqual(restartedSet[strategy]);
      for (const e of events) {
        expect(e).toMatchObject({ supervisor: 'sup', reason: reasons[reason], incarnation: 1, trigger: 'b' });
      }
      expect(sup.restartCount).toBe(1);
      expect(sup.whichChildren().map((c) => [c.id, c.status])).toEqual([
        ['a', 'running'],
        ['b', 'running'],
        ['c', 'running'],
      ]);
    } else {
      expect(host.take('sup')).toEqual([]);
      expect(host.running()).toEqual(['sup/a', 'sup/c']);
      expect(host.eventsOf('@agentos.supervisor.restart')).toEqual([]);
      expect(sup.restartCount).toBe(0);
      // OTP keeps a static transient child's spec (pid undefined); temporary and dynamic children are forgotten.
      const kept = type === 'transient' && strategy !== 'simple_one_for_one';
      expect(sup.whichChildren().map((c) => [c.id, c.status])).toEqual(
        kept
          ? [
              ['a', 'running'],
              ['b', 'stopped'],
              ['c', 'running'],
            ]
          : [
              ['a', 'running'],
              ['c', 'running'],
            ],
      );
    }
    expect(sup.state).toBe('running');
    await sup.stop();
    expect(host.running()).toEqual([]);
  });
});

describe('siblings of other restart types under multi-child strategies', () => {
  it('oneForAll drops a temporary sibling instead of restarting it (OTP terminate_children)', async () => {
    const host = new FakeHost();
    const sup = new Supervisor(
      supervisor<string>({
        id: 'sup',
        strategy: 'one_for_all',
        intensity: 5,
        children: [
          { id: 'a', start: 'w' },
          { id: 't', start: 'w', restart: 'temporary' },
          { id: 'c', start: 'w' },
        ],
      }),
      host,
      { clock: host.clock },
    );
    await sup.start();
    host.take('sup');
    host.exit('sup/c');
    await flush();
    expect(host.take('sup')).toEqual(['stop t', 'stop a', 'start a', 'start c']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('restForOne restarts a transient child that had exited normally when an earlier sibling crashes (OTP start_children)', async () => {
    const host = new FakeHost();
    const sup = new Supervisor(
      supervisor<string>({
        id: 'sup',
        strategy: 'rest_for_one',
        intensity: 5,
        children: [
          { id: 'a', start: 'w' },
          { id: 'b', start: 'w', restart: 'transient' },
          { id: 'c', start: 'w' },
        ],
      }),
      host,
      { clock: host.clock },
    );
    await sup.start();
    host.exit('sup/b', normalExit);
    await flush();
    host.take('sup');
    host.exit('sup/a');
    await flush();
    expect(host.take('sup')).toEqual(['stop c', 'start a', 'start b', 'start c']);
    expect(host.running()).toEqual(['sup/a', 'sup/b', 'sup/c']);
  });
});
