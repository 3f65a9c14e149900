// The history checker of the crash campaign. Judges a CampaignHistory against the
// guarantees persistent actors make across SIGKILL:
//   (a) no duplicate side effect: the key-honouring tool pays once per key and once
//       per order; the non-idempotent tool runs at most once per key and ships once
//       per order; no dispatch of a key runs twice;
//   (b) no acknowledged message lost: every acked order is processed exactly once,
//       with its effects and its ledger entry; nothing is processed that was not sent;
//   (c) no agent stuck: at the end every agent is idle with nothing queued, answers,
//       and a clean restart comes back to the same state;
//   (d) every agent back after every restart: no actor held, none missing, every
//       effect journal chain intact.
// Pure: a history in, a report (counts, recovery times, violations) out.

import type { CampaignHistory } from './history.js';
import { LEDGER } from './workload.js';

export type ViolationKind =
  | 'duplicate-effect'
  | 'duplicate-invocation'
  | 'lost-message'
  | 'duplicate-processing'
  | 'phantom-order'
  | 'missing-effect'
  | 'orphan-effect'
  | 'ledger-mismatch'
  | 'state-mismatch'
  | 'stuck'
  | 'restart-diverged'
  | 'held'
  | 'not-restored'
  | 'journal-broken'
  | 'worker-died'
  | 'node-error';

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface CheckReport {
  ok: boolean;
  counts: {
    kills: number;
    killsBeforeReady: number;
    /** Kills from inside a tool, between its effect and its journaled outcome (or just before the effect). */
    killsInTools: number;
    starts: number;
    sent: number;
    acked: number;
    processed: number;
    invocations: { pay: number; ship: number };
    effects: { pay: number; ship: number };
    /** Pay dispatches after the first for a key (crash retries the key let through). */
    payRetries: number;
    resolutions: { result: number; failure: number };
    redelivered: number;
    requeued: number;
    resumedCalls: number;
  };
  recovery: { forkToReadyMs: Percentiles; reportMs: Percentiles };
  violations: Violation[];
}

/** Nearest-rank percentiles (0 for no samples). */
export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50: 0, p99: 0, max: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

const countBy = <T>(items: T[], key: (t: T) => string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
};

export function checkHistory(h: CampaignHistory): CheckReport {
  const violations: Violation[] = [];
  const v = (kind: ViolationKind, detail: string): void => void violations.push({ kind, detail });
  const pays = h.invocations.filter((i) => i.tool === 'pay');
  const ships = h.invocations.filter((i) => i.tool === 'ship');

  // (a) side effects
  for (const [key, n] of countBy(h.payments, (p) => p.key)) if (n > 1) v('duplicate-effect', `pay ${key} paid ${n} times`);
  for (const [order, n] of countBy(h.payments, (p) => p.order)) if (n > 1) v('duplicate-effect', `order ${order} paid ${n} times (under different keys)`);
  for (const [site, n] of countBy(pays, (i) => `${i.key} attempt ${i.attempt}`)) if (n > 1) v('duplicate-invocation', `pay ${site} ran ${n} times`);
  for (const [key, n] of countBy(ships, (i) => i.key)) if (n > 1) v('duplicate-invocation', `ship ${key} (not idempotent) ran ${n} times`);
  for (const [order, n] of countBy(ships, (i) => i.args.order)) if (n > 1) v('duplicate-effect', `order ${order} shipped ${n} times`);

  // (b) messages: processed exactly once if acknowledged, at most once otherwise
  const sent = new Map(h.sent.map((s) => [s.id, s]));
  const state = h.final.state;
  const processedBy = new Map<string, string[]>();
  if (state) {
    for (const [agent, a] of Object.entries(state.agents)) {
      let total = 0;
      for (const order of a.charged) {
        processedBy.set(order, [...(processedBy.get(order) ?? []), agent]);
        const s = sent.get(order);
        if (!s || s.agent !== agent) v('phantom-order', `${agent} processed ${order}, which was ${s ? `sent to ${s.agent}` : 'never sent'}`);
        total += s?.amount ?? 0;
      }
      if (total !== a.total) v('state-mismatch', `${agent}: total ${a.total}, but its charged orders add up to ${total}`);
      for (const f of a.failed) v('lost-message', `${agent} gave up order ${f.order}: ${f.error}`);
    }
    for (const [order, by] of processedBy) if (by.length > 1) v('duplicate-processing', `order ${order} processed ${by.length} times (${by.join(', ')})`);
    for (const id of h.acked) if (!processedBy.has(id)) v('lost-message', `acknowledged order ${id} (to ${sent.get(id)?.agent}) was never processed`);
    const paid = new Set(h.payments.map((p) => p.order));
    const shipped = new Set(ships.map((i) => i.args.order));
    for (const order of processedBy.keys()) {
      if (!paid.has(order)) v('missing-effect', `order ${order} processed without a payment`);
      if (!shipped.has(order)) v('missing-effect', `order ${order} processed without a shipment`);
    }
    for (const order of new Set([...paid, ...shipped])) if (!processedBy.has(order)) v('orphan-effect', `order ${order} has effects but was never processed`);
    const entries = countBy(state.ledger, (o) => o);
    for (const order of processedBy.keys()) if (entries.get(order) !== 1) v('ledger-mismatch', `${LEDGER} holds order ${order} ${entries.get(order) ?? 0} times`);
    for (const order of entries.keys()) if (!processedBy.has(order)) v('ledger-mismatch', `${LEDGER} holds order ${order}, which no agent processed`);
  }

  // (c) nothing stuck at the end
  if (h.final.error !== undefined) v('stuck', `the final run failed: ${h.final.error}`);
  if (!h.final.quiescent) v('stuck', `not quiet after ${Math.round(h.final.waitedMs)} ms: ${JSON.stringify(h.final.status ?? 'no status')}`);
  if (!state) v('stuck', 'no final state (the agents did not answer)');
  for (const id of h.agents) if (state && !state.agents[id]) v('stuck', `${id} did not answer`);
  if (state && h.final.afterRestart && JSON.stringify(h.final.afterRestart) !== JSON.stringify(state)) {
    v('restart-diverged', `after a clean stop and start the state differs: ${diffAgents(state, h.final.afterRestart)}`);
  }
  if (state && h.final.quiescent && !h.final.afterRestart) v('stuck', 'the check restart after the final run did not answer');

  // (d) every restart brings every agent back
  const known = new Set<string>();
  for (const s of [...h.starts].sort((a, b) => a.run - b.run)) {
    for (const held of s.recovery.held) v('held', `run ${s.run}: ${held.id} held (${held.code}): ${held.reason}`);
    for (const id of known) if (!s.recovery.restored.includes(id)) v('not-restored', `run ${s.run}: ${id} was not restored`);
    if (!s.verify.ok) v('journal-broken', `run ${s.run}: effect journal verify failed: ${s.verify.detail}`);
    for (const id of [...s.recovery.restored, ...s.spawned]) known.add(id);
  }
  for (const r of h.refused) v('node-error', `post of ${r.id} refused: ${r.error}`);
  for (const e of h.nodeErrors) v('node-error', `run ${e.run}: ${e.error}`);
  for (const d of h.died) v('worker-died', `run ${d.run}: ${d.reason}: ${d.stderr.slice(-2000)}`);

  const retries = pays.length - countBy(pays, (i) => i.key).size;
  const sum = (f: (r: CampaignHistory['starts'][number]['recovery']) => number): number => h.starts.reduce((n, s) => n + f(s.recovery), 0);
  return {
    ok: violations.length === 0,
    counts: {
      kills: h.kills.length,
      killsBeforeReady: h.kills.filter((k) => !k.afterReady).length,
      killsInTools: h.kills.filter((k) => k.selfKilled === true).length,
      starts: h.starts.length,
      sent: h.sent.length,
      acked: h.acked.length,
      processed: processedBy.size,
      invocations: { pay: pays.length, ship: ships.length },
      effects: { pay: h.payments.length, ship: new Set(ships.map((i) => i.args.order)).size },
      payRetries: retries,
      resolutions: { result: h.resolutions.filter((r) => !r.error && r.outcome === 'result').length, failure: h.resolutions.filter((r) => !r.error && r.outcome === 'failure').length },
      redelivered: sum((r) => r.redelivered),
      requeued: sum((r) => r.requeued),
      resumedCalls: sum((r) => r.resumedCalls),
    },
    recovery: { forkToReadyMs: percentiles(h.starts.map((s) => s.forkToReadyMs)), reportMs: percentiles(h.starts.map((s) => s.recovery.ms)) },
    violations,
  };
}

function diffAgents(a: NonNullable<CampaignHistory['final']['state']>, b: NonNullable<CampaignHistory['final']['state']>): string {
  const out: string[] = [];
  for (const id of new Set([...Object.keys(a.agents), ...Object.keys(b.agents)])) {
    if (JSON.stringify(a.agents[id]) !== JSON.stringify(b.agents[id])) out.push(`${id}: ${JSON.stringify(a.agents[id])?.slice(0, 200)} vs ${JSON.stringify(b.agents[id])?.slice(0, 200)}`);
  }
  if (JSON.stringify(a.ledger) !== JSON.stringify(b.ledger)) out.push(`ledger: ${a.ledger.length} vs ${b.ledger.length} entries`);
  return out.join('; ');
}

/** One line: kills, acked messages, effects, recovery p50/p99. */
export function summaryLine(r: CheckReport): string {
  const c = r.counts;
  const ms = (n: number): string => `${Math.round(n)}ms`;
  return (
    `crash campaign: ${c.kills} kills (${c.killsBeforeReady} before ready, ${c.killsInTools} inside a tool), ${c.starts} starts, ${c.acked}/${c.sent} orders acked, ${c.processed} processed; ` +
    `effects pay ${c.effects.pay} (${c.invocations.pay} invocations, ${c.payRetries} retries) ship ${c.effects.ship} (${c.invocations.ship} invocations); ` +
    `in doubt settled ${c.resolutions.result} ran / ${c.resolutions.failure} not; redelivered ${c.redelivered}, requeued ${c.requeued}, resumed calls ${c.resumedCalls}; ` +
    `recovery fork→ready p50 ${ms(r.recovery.forkToReadyMs.p50)} p99 ${ms(r.recovery.forkToReadyMs.p99)}, node report p50 ${ms(r.recovery.reportMs.p50)} p99 ${ms(r.recovery.reportMs.p99)}; ` +
    `${r.violations.length} violations`
  );
}
