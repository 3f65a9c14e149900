// The migration rows of the cluster suite alone (1 MB actor, under load,
// non-persistent and persistent), with `--profile`: where each move's time goes.
//
//   npx tsx bench/cluster-migration.ts [--rounds 40] [--only persistent|plain] [--profile]
//
// The profile wraps methods on the prototypes of the classes a move goes through
// (both nodes run in this process, so both ends are seen) and records, per move,
// the time spent in each phase. Wrapping costs a few µs per call: the profile's
// total is within noise of an unprofiled run, but compare rows of one mode only.
// Source code only (not `--built`): it patches the classes the src modules export.

import { percentile } from './lib.js';
import { clusterNode, migrations, upCount, waitFor } from './cluster.js';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(arg('--rounds') ?? 40);
const only = arg('--only');
const profile = args.includes('--profile');
const replicas = arg('--replicas');
const extra = replicas === undefined ? {} : { replicas: Number(replicas) };

/** Per move: phase → ms (summed over calls). */
const phases: Array<Map<string, number>> = [];
let current: Map<string, number> | undefined;

/** The first time `event` happened in the move in progress (ms since its start). */
let moveStart = 0;
function mark(event: string): void {
  if (current && !current.has(`@ ${event}`)) current.set(`@ ${event}`, performance.now() - moveStart);
}

function add(phase: string, ms: number): void {
  if (!current) return;
  current.set(phase, (current.get(phase) ?? 0) + ms);
}

/** Wrap `proto[method]` (sync or async) to add its time to `phase` of the move in progress. */
function time(proto: object, method: string, phase: string): void {
  const p = proto as Record<string, (...a: unknown[]) => unknown>;
  const inner = p[method]!;
  p[method] = function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    const out = inner.apply(this, a);
    if (out instanceof Promise) return out.finally(() => add(phase, performance.now() - t0));
    add(phase, performance.now() - t0);
    return out;
  };
}

async function instrument(): Promise<void> {
  const { Migrations } = await import('../src/cluster/migration/migrate.js');
  const { Exchange } = await import('../src/cluster/migration/exchange.js');
  const { KernelHandoff } = await import('../src/kernel/handoff.js');
  const { DurableActor } = await import('../src/kernel/durable/actor.js');
  const { DurableStore } = await import('../src/kernel/durable/store.js');
  const { ActorCell } = await import('../src/actors/cell.js');
  const M = Migrations.prototype as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  // The move: everything from the source's migrateHere to its return.
  const migrateHere = M.migrateHere!;
  M.migrateHere = async function (this: unknown, ...a: unknown[]) {
    current = new Map();
    const t0 = (moveStart = performance.now());
    try {
      return await migrateHere.apply(this, a);
    } finally {
      current.set('total', performance.now() - t0);
      phases.push(current);
      current = undefined;
    }
  };
  time(Migrations.prototype, 'lateArrived', 'src: wait for late msgs of the last move');
  time(KernelHandoff.prototype, 'capture', 'src: capture (pause → drain → checkpoint → kill)');
  time(KernelHandoff.prototype, 'quiesce', '  src: drain');
  time(ActorCell.prototype, 'capture', '  capture (cell.capture, both checkpoints)');
  // The move's checkpoint. Before: `checkpoint(afterCapture)` waits for a write in flight, captures,
  // writes and commits. Now: `captureForMove` captures and encodes (nothing written on the source).
  const D = DurableActor.prototype as unknown as Record<string, (afterCapture?: () => void) => unknown>;
  const forMove = D.captureForMove !== undefined ? 'captureForMove' : 'checkpoint';
  const inner = D[forMove]!;
  D[forMove] = function (this: unknown, afterCapture?: () => void) {
    if (!afterCapture || !current) return inner.call(this, afterCapture);
    const t0 = performance.now();
    let tc = t0;
    const out = inner.call(this, () => {
      tc = performance.now();
      add('  src: wait for a checkpoint write in flight', tc - t0);
      afterCapture();
    });
    if (!(out instanceof Promise)) add('  src: encode the move checkpoint', performance.now() - tc);
    else void out.finally(() => add('  src: encode + write + commit the move checkpoint', performance.now() - tc));
    return out;
  };
  time(DurableStore.prototype, 'checkpointOf', '  checkpointOf (LMDB read + decode, both ends)');
  // Every transaction: the time its work runs (pack, seal, puts) on the main thread.
  const S = DurableStore.prototype as unknown as Record<string, (work: () => void) => Promise<void>>;
  const txn = S.txn!;
  S.txn = function (this: unknown, work: () => void) {
    return txn.call(this, () => {
      const t0 = performance.now();
      try {
        work();
      } finally {
        add('  LMDB txn work on the main thread (pack, seal, put)', performance.now() - t0);
      }
    });
  };
  // The import request only (replicas travel the same way, on the same link).
  const E = Exchange.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const request = E.request!;
  E.request = function (this: unknown, node: unknown, kind: unknown, ...rest: unknown[]) {
    const t0 = performance.now();
    const out = request.call(this, node, kind, ...rest) as Promise<unknown>;
    if (kind === 'import') {
      mark('request sent');
      return out.finally(() => {
        mark('reply received');
        add('src: send + wait for the target (request → done)', performance.now() - t0);
      });
    }
    if (current) add('  replica requests started during the move (count)', 1);
    return out;
  };
  const post = E.post!;
  E.post = function (this: unknown, node: unknown, kind: unknown, ...rest: unknown[]) {
    const t0 = performance.now();
    try {
      return post.call(this, node, kind, ...rest);
    } finally {
      add(`  pack + send parts: ${String(kind)}`, performance.now() - t0);
    }
  };
  const { ReplicaStore } = await import('../src/cluster/migration/replicas.js');
  time(ReplicaStore.prototype, 'put', '  replica puts (target store, during the move)');
  const imported = M.imported!;
  M.imported = function (this: unknown, ...a: unknown[]) {
    mark('target has the body (unpacked, checked)');
    return imported.apply(this, a);
  };
  time(Migrations.prototype, 'imported', '  dst: imported → reply');
  time(DurableStore.prototype, 'importState', '    dst: importState (write + commit)');
  time(KernelHandoff.prototype, 'arrive', '    dst: arrive (import, spawn, restore, flush)');
  time(DurableActor.prototype, 'load', '    dst: durable load (read + decode)');
  time(KernelHandoff.prototype, 'retire', 'src: retire');
}

function report(name: string): void {
  const keys = new Set<string>();
  for (const p of phases) for (const k of p.keys()) keys.add(k);
  const worst = [...phases].sort((a, b) => b.get('total')! - a.get('total')!).slice(0, 3);
  const rows: Record<string, Record<string, string>> = {};
  for (const k of keys) {
    const v = phases.map((p) => p.get(k) ?? 0);
    rows[k] = { p50: percentile(v, 0.5).toFixed(1), p90: percentile(v, 0.9).toFixed(1), max: Math.max(...v).toFixed(1), ...Object.fromEntries(worst.map((w, i) => [`worst${i + 1}`, (w.get(k) ?? 0).toFixed(1)])) };
  }
  console.log(`\n${name}: phase ms per move (${phases.length} moves; worst = the 3 slowest moves)`);
  console.table(rows);
  phases.length = 0;
}

if (profile) await instrument();
const a = await clusterNode('mob-a', [], extra);
const b = await clusterNode('mob-b', [`mob-a@${a.cluster!.url}`], extra);
try {
  await waitFor(() => upCount(a) === 2 && upCount(b) === 2, 15_000);
  for (const persistent of [false, true]) {
    if ((only === 'persistent' && !persistent) || (only === 'plain' && persistent)) continue;
    const kind = persistent ? 'persistent' : 'non-persistent';
    const { ms, lost } = await migrations(a, b, persistent ? 'moving-p' : 'moving', persistent, rounds);
    const sorted = [...ms].sort((x, y) => x - y);
    console.log(`${kind}: ${rounds} moves, p50 ${percentile(ms, 0.5).toFixed(1)} ms, p99 ${percentile(ms, 0.99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, lost ${lost}; slowest: ${sorted.slice(-5).map((x) => x.toFixed(0)).join(' ')}`);
    if (profile) report(kind);
  }
} finally {
  await b.stop();
  await a.stop();
}
process.exit(0);
