// The crash campaign's checker on hand-made histories: a clean one passes, and each
// kind of damage a crash could do (a second payment, a second shipment, a lost or
// doubled order, a stuck or held agent) is reported, so a green campaign means
// something.
import { describe, expect, it } from 'vitest';
import { checkHistory, percentiles, type ViolationKind } from './checker.js';
import { emptyHistory, type CampaignHistory } from './history.js';
import type { Invocation, Payment, WorkloadState } from './workload.js';

const recovery = (restored: string[]) => ({ restored, held: [], redelivered: 0, requeued: 0, resumedCalls: 0, ms: 5 });
const idle = (charged: string[], total: number): WorkloadState => ({ charged, total, failed: [], queue: 0, state: 'idle' });

/** Two order takers; a sent o1 and o2 (acked) and o3 (not acked, processed); everything paid and shipped once. */
function cleanHistory(): CampaignHistory {
  const h = emptyHistory(1, ['orders-0', 'orders-1']);
  const all = ['ledger', 'orders-0', 'orders-1'];
  h.starts = [
    { run: 0, pid: 10, forkToReadyMs: 900, recovery: recovery([]), spawned: all, verify: { ok: true } },
    { run: 1, pid: 11, forkToReadyMs: 950, recovery: recovery(all), spawned: [], verify: { ok: true } },
    { run: 2, pid: 12, forkToReadyMs: 1000, recovery: recovery(all), spawned: [], verify: { ok: true } },
  ];
  h.kills = [{ run: 0, mode: 'busy', delayMs: 100, afterReady: true, postsInFlight: 1 }];
  h.sent = [
    { id: 'o1', agent: 'orders-0', amount: 5, run: 0 },
    { id: 'o2', agent: 'orders-1', amount: 7, run: 0 },
    { id: 'o3', agent: 'orders-0', amount: 1, run: 0 },
  ];
  h.acked = ['o1', 'o2'];
  const pay = (key: string, order: string, amount: number, attempt = 1): Invocation => ({ tool: 'pay', key, args: { order, amount }, attempt, pid: 10 });
  const ship = (key: string, order: string): Invocation => ({ tool: 'ship', key, args: { order }, attempt: 1, pid: 10 });
  h.invocations = [pay('k/o1/p', 'o1', 5), pay('k/o1/p', 'o1', 5, 2), ship('k/o1/s', 'o1'), pay('k/o2/p', 'o2', 7), ship('k/o2/s', 'o2'), pay('k/o3/p', 'o3', 1), ship('k/o3/s', 'o3')];
  const paid = (key: string, order: string, amount: number): Payment => ({ key, order, amount, pid: 10 });
  h.payments = [paid('k/o1/p', 'o1', 5), paid('k/o2/p', 'o2', 7), paid('k/o3/p', 'o3', 1)];
  h.final = { quiescent: true, waitedMs: 50, state: { agents: { 'orders-0': idle(['o1', 'o3'], 6), 'orders-1': idle(['o2'], 7) }, ledger: ['o1', 'o2', 'o3'] } };
  h.final.afterRestart = structuredClone(h.final.state);
  return h;
}

const kinds = (h: CampaignHistory): ViolationKind[] => [...new Set(checkHistory(h).violations.map((v) => v.kind))].sort();

describe('the crash history checker', () => {
  it('passes a clean history and counts it', () => {
    const r = checkHistory(cleanHistory());
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.counts).toMatchObject({ kills: 1, starts: 3, sent: 3, acked: 2, processed: 3, effects: { pay: 3, ship: 3 }, invocations: { pay: 4, ship: 3 }, payRetries: 1 });
    expect(r.recovery.forkToReadyMs).toEqual({ p50: 950, p99: 1000, max: 1000 });
  });

  it('reports a second payment under the same key, and one under another key', () => {
    const h = cleanHistory();
    h.payments.push({ ...h.payments[0]! });
    expect(kinds(h)).toEqual(['duplicate-effect']);
    const h2 = cleanHistory();
    h2.payments.push({ ...h2.payments[0]!, key: 'k/o1/p-again' });
    expect(checkHistory(h2).violations).toEqual([{ kind: 'duplicate-effect', detail: 'order o1 paid 2 times (under different keys)' }]);
  });

  it('reports a non-idempotent call run twice under one key, and a dispatch of a keyed call run twice', () => {
    const h = cleanHistory();
    h.invocations.push({ tool: 'ship', key: 'k/o2/s', args: { order: 'o2' }, attempt: 2, pid: 11 });
    expect(kinds(h)).toEqual(['duplicate-effect', 'duplicate-invocation']);
    const h2 = cleanHistory();
    h2.invocations.push({ tool: 'pay', key: 'k/o2/p', args: { order: 'o2', amount: 7 }, attempt: 1, pid: 11 });
    expect(kinds(h2)).toEqual(['duplicate-invocation']);
  });

  it('reports an acknowledged order that was never processed, and one given up', () => {
    const h = cleanHistory();
    h.final.state!.agents['orders-1'] = idle([], 0);
    h.final.afterRestart = structuredClone(h.final.state);
    const r = checkHistory(h);
    expect(r.violations).toContainEqual({ kind: 'lost-message', detail: 'acknowledged order o2 (to orders-1) was never processed' });
    expect(kinds(h)).toEqual(['ledger-mismatch', 'lost-message', 'orphan-effect']);
    const h2 = cleanHistory();
    h2.final.state!.agents['orders-0']!.failed.push({ order: 'o4', error: 'EFFECT_COMPACTED' });
    expect(kinds(h2)).toContain('lost-message');
  });

  it('reports an order processed twice, and one processed that was never sent', () => {
    const h = cleanHistory();
    h.final.state!.agents['orders-0'] = idle(['o1', 'o3', 'o1'], 11);
    expect(kinds(h)).toEqual(['duplicate-processing', 'restart-diverged']);
    const h2 = cleanHistory();
    h2.final.state!.agents['orders-1'] = idle(['o2', 'o9'], 7);
    expect(kinds(h2)).toEqual(['ledger-mismatch', 'missing-effect', 'phantom-order', 'restart-diverged']);
  });

  it('an unacknowledged order may be lost (at most once), but not its effects without it', () => {
    const h = cleanHistory();
    h.final.state!.agents['orders-0'] = idle(['o1'], 5);
    h.final.state!.ledger = ['o1', 'o2'];
    h.invocations = h.invocations.filter((i) => i.args.order !== 'o3');
    h.payments = h.payments.filter((p) => p.order !== 'o3');
    h.final.afterRestart = structuredClone(h.final.state);
    expect(checkHistory(h).violations).toEqual([]);
    h.payments.push({ key: 'k/o3/p', order: 'o3', amount: 1, pid: 10 });
    expect(kinds(h)).toEqual(['orphan-effect']);
  });

  it('reports an agent stuck at the end, and a final run that never answered', () => {
    const h = cleanHistory();
    h.final.quiescent = false;
    h.final.afterRestart = undefined;
    expect(kinds(h)).toEqual(['stuck']);
    const h2 = cleanHistory();
    h2.final = { quiescent: false, waitedMs: 60_000, error: 'the worker is gone: killed' };
    expect(kinds(h2)).toEqual(['stuck']);
  });

  it('reports a held actor, one missing after a restart, a broken journal and a worker that died', () => {
    const h = cleanHistory();
    h.starts[1]!.recovery.held.push({ id: 'orders-1', code: 'DURABLE_CORRUPT', reason: 'turn 3 is unreadable' });
    h.starts[2]!.recovery.restored = ['ledger', 'orders-0'];
    h.starts[2]!.verify = { ok: false, detail: 'chain broken at 4' };
    h.died.push({ run: 1, reason: 'exited with 1', stderr: 'boom' });
    expect(kinds(h)).toEqual(['held', 'journal-broken', 'not-restored', 'worker-died']);
  });

  it('reports a state that changes across a clean restart, and a total that does not add up', () => {
    const h = cleanHistory();
    h.final.afterRestart!.agents['orders-1'] = idle(['o2'], 8);
    expect(kinds(h)).toEqual(['restart-diverged']);
    const h2 = cleanHistory();
    h2.final.state!.agents['orders-1']!.total = 8;
    h2.final.afterRestart = structuredClone(h2.final.state);
    expect(kinds(h2)).toEqual(['state-mismatch']);
  });

  it('percentiles are nearest-rank', () => {
    expect(percentiles([])).toEqual({ p50: 0, p99: 0, max: 0 });
    expect(percentiles([3, 1, 2])).toEqual({ p50: 2, p99: 3, max: 3 });
    expect(percentiles(Array.from({ length: 100 }, (_, i) => i + 1))).toMatchObject({ p50: 50, p99: 99 });
  });
});
