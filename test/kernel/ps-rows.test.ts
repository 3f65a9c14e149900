// The pure views of the control endpoint: tree in, ps rows out.
import { describe, expect, it } from 'vitest';
import { psRows, stateLabel } from '../../src/kernel/ps-rows.js';
import type { TreeNode } from '../../src/supervisors/types.js';

const worker = (id: string, path: string, extra: Partial<TreeNode> = {}): TreeNode => ({ id, kind: 'worker', path, restarts: 0, status: 'running', ...extra });

describe('psRows', () => {
  it('has one row per worker, depth first, and none for supervisors', () => {
    const tree: TreeNode = {
      id: 'root', kind: 'supervisor', path: '', restarts: 0, status: 'running',
      children: [
        { id: 'app', kind: 'supervisor', path: '/app', restarts: 0, status: 'running', children: [worker('a', '/app/a'), { id: 'inner', kind: 'supervisor', path: '/app/inner', restarts: 0, status: 'running', children: [worker('b', '/app/inner/b')] }] },
        worker('c', '/c'),
      ],
    };
    expect(psRows(tree, 'n').map((r) => [r.id, r.supervisor])).toEqual([
      ['a', '/app'],
      ['b', '/app/inner'],
      ['c', '/'],
    ]);
  });

  it('a worker waiting for a restart (no cell, no info) keeps every key, with nulls and the supervisor’s status', () => {
    const [row] = psRows(worker('w', '/w', { status: 'restarting', restarts: 2 }), 'n', true);
    expect(row).toEqual({
      id: 'w', path: '/w', supervisor: '/', node: 'n', agent: null, version: null, class: null, tenant: null, status: 'restarting', state: null,
      mailbox: null, waitP99Ms: null, restarts: 2, incarnation: null, delivered: null, deadlineMisses: null, system: true, persistent: false, heldReason: null, lane: null,
    });
  });

  it('a lane actor takes its state and misses from the lane; figures are null before the lane first reports', () => {
    const info = { agent: 'g', class: 'HRT', state: {}, deadlineMisses: 0, lane: { state: 'guarding', queued: 1 } };
    const [early] = psRows(worker('g', '/g', { info }), 'n');
    expect(early).toMatchObject({ state: 'guarding', deadlineMisses: 0, lane: { state: 'guarding', queued: 1, releases: null, misses: null, jitterP99Ms: null } });
    const stats = { periodMs: 10, wcetMs: 1, releases: 9, completions: 8, skipped: 1, misses: 2, observedWcetMs: 0.5, jitterMs: { p99: 3, max: 4 }, responseMs: { p99: 5, max: 6 } };
    const [later] = psRows(worker('g', '/g', { info: { ...info, lane: { ...info.lane, stats } } }), 'n');
    expect(later!.deadlineMisses).toBe(2);
    expect(later!.lane).toEqual({ state: 'guarding', queued: 1, periodMs: 10, wcetMs: 1, releases: 9, completions: 8, skipped: 1, misses: 2, jitterP99Ms: 3, jitterMaxMs: 4, responseP99Ms: 5, observedWcetMs: 0.5 });
  });
});

describe('stateLabel', () => {
  it.each([
    ['idle', 'idle'],
    [{ booking: 'waiting' }, 'booking.waiting'],
    [{ a: { b: 'c' } }, 'a.b.c'],
    [{ left: 'on', right: 'off' }, 'left.on,right.off'],
    [{ region: {} }, 'region'],
    [{}, '-'],
    [null, '-'],
    [undefined, '-'],
  ])('%j is %s', (value, label) => {
    expect(stateLabel(value)).toBe(label);
  });
});
