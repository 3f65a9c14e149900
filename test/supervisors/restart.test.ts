import { describe, expect, it } from 'vitest';
import { errorExit, normalExit, shutdownExit } from '../../src/base/exit.js';
import { planRestart, recordRestart, shouldRestart, type RestartType } from '../../src/supervisors/index.js';

describe('shouldRestart (OTP restart types)', () => {
  const table: Array<[RestartType, string, boolean]> = [
    ['permanent', 'normal', true],
    ['permanent', 'shutdown', true],
    ['permanent', 'error', true],
    ['transient', 'normal', false],
    ['transient', 'shutdown', false],
    ['transient', 'error', true],
    ['temporary', 'normal', false],
    ['temporary', 'shutdown', false],
    ['temporary', 'error', false],
  ];
  const reasons = { normal: normalExit, shutdown: shutdownExit, error: errorExit(new Error('x')) };
  it.each(table)('%s child exiting %s → restart %s', (type, reason, expected) => {
    expect(shouldRestart(type, reasons[reason as keyof typeof reasons])).toBe(expected);
  });
});

describe('recordRestart (sliding window, OTP add_restart)', () => {
  it('allows up to `intensity` restarts within the period', () => {
    let h: number[] = [];
    for (const t of [0, 10]) {
      const r = recordRestart(h, t, 2, 1000);
      expect(r.exceeded).toBe(false);
      h = r.history;
    }
    expect(h).toEqual([0, 10]);
    expect(recordRestart(h, 20, 2, 1000)).toEqual({ history: [0, 10, 20], exceeded: true });
  });

  it('forgets restarts older than the period', () => {
    expect(recordRestart([0, 500], 1001, 2, 1000)).toEqual({ history: [500, 1001], exceeded: false });
  });

  it('treats the window as inclusive: a restart exactly periodMs ago still counts', () => {
    expect(recordRestart([0, 500], 1000, 2, 1000)).toEqual({ history: [0, 500, 1000], exceeded: true });
  });

  it('escalates on the first restart when intensity is 0', () => {
    expect(recordRestart([], 0, 0, 5000).exceeded).toBe(true);
  });

  it('does not mutate the history it is given', () => {
    const h = [1, 2];
    recordRestart(h, 3, 5, 10);
    expect(h).toEqual([1, 2]);
  });
});

describe('planRestart', () => {
  const order = ['a', 'b', 'c', 'd'];
  it('oneForOne restarts only the failed child', () => {
    expect(planRestart('one_for_one', order, 'b')).toEqual({ stop: [], start: ['b'] });
  });
  it('simpleOneForOne restarts only the failed child', () => {
    expect(planRestart('simple_one_for_one', order, 'c')).toEqual({ stop: [], start: ['c'] });
  });
  it('oneForAll stops the others in reverse start order and starts all in order', () => {
    expect(planRestart('one_for_all', order, 'b')).toEqual({ stop: ['d', 'c', 'a'], start: ['a', 'b', 'c', 'd'] });
  });
  it('restForOne stops those started after the failed child, in reverse, and starts it and them', () => {
    expect(planRestart('rest_for_one', order, 'b')).toEqual({ stop: ['d', 'c'], start: ['b', 'c', 'd'] });
    expect(planRestart('rest_for_one', order, 'd')).toEqual({ stop: [], start: ['d'] });
    expect(planRestart('rest_for_one', order, 'a')).toEqual({ stop: ['d', 'c', 'b'], start: order });
  });
  it('rejects a child that is not in the order', () => {
    expect(() => planRestart('one_for_one', order, 'z')).toThrow(RangeError);
  });
});
