// What the control endpoint and the inspector show of a node, as plain data: one `ps` row per
// actor of a supervision tree (pure: a TreeNode in, rows out), with the HRT
// lane's own figures for lane actors. Absent figures are null, never omitted,
// so every row has the same keys.

import type { TreeNode } from '../supervisors/types.js';

/** The HRT lane figures of a lane actor (issue #10); the measured ones are null until the lane's first report. */
export interface LaneFigures {
  /** The machine's state on the lane (the main thread only holds a proxy). */
  state: unknown;
  /** Messages waiting for the actor's next release. */
  queued: number | null;
  periodMs: number | null;
  wcetMs: number | null;
  releases: number | null;
  completions: number | null;
  skipped: number | null;
  misses: number | null;
  jitterP99Ms: number | null;
  jitterMaxMs: number | null;
  responseP99Ms: number | null;
  observedWcetMs: number | null;
}

export interface PsRow {
  id: string;
  /** Path in the supervision tree, e.g. `/app/counter`. */
  path: string;
  /** Path of the supervisor the actor runs under (`/` for the root). */
  supervisor: string;
  node: string;
  agent: string | null;
  version: string | null;
  class: string | null;
  tenant: string | null;
  /** The actor's own status (`running`, `paused`, `held`, …) when it has a cell, else the supervisor's view (`restarting`, `stopped`). */
  status: string;
  /** XState state value (for a lane actor, the state on its lane). */
  state: unknown;
  /** Messages waiting in the mailbox. */
  mailbox: number | null;
  waitP99Ms: number | null;
  restarts: number;
  incarnation: number | null;
  delivered: number | null;
  deadlineMisses: number | null;
  /** A service actor of the kernel (`agentos.system`), shown with `system`. */
  system: boolean;
  persistent: boolean;
  heldReason: string | null;
  lane: LaneFigures | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

function laneFigures(lane: Record<string, unknown>): LaneFigures {
  const stats = obj(lane.stats) ?? {};
  const jitter = obj(stats.jitterMs) ?? {};
  const response = obj(stats.responseMs) ?? {};
  return {
    state: lane.state ?? null,
    queued: num(lane.queued),
    periodMs: num(stats.periodMs),
    wcetMs: num(stats.wcetMs),
    releases: num(stats.releases),
    completions: num(stats.completions),
    skipped: num(stats.skipped),
    misses: num(stats.misses),
    jitterP99Ms: num(jitter.p99),
    jitterMaxMs: num(jitter.max),
    responseP99Ms: num(response.p99),
    observedWcetMs: num(stats.observedWcetMs),
  };
}

/** One row for a worker of the tree. */
export function psRow(worker: TreeNode, node: string, system: boolean): PsRow {
  const info = worker.info ?? {};
  const lane = obj(info.lane);
  const figures = lane ? laneFigures(lane) : null;
  const parent = worker.path.slice(0, worker.path.lastIndexOf('/'));
  return {
    id: worker.id,
    path: worker.path,
    supervisor: parent === '' ? '/' : parent,
    node,
    agent: str(info.agent),
    version: str(info.version),
    class: str(info.class),
    tenant: str(info.tenant),
    status: str(info.status) ?? worker.status,
    state: figures ? figures.state : (info.state ?? null),
    mailbox: num(info.mailbox),
    waitP99Ms: num(info.waitP99Ms),
    restarts: worker.restarts,
    incarnation: num(info.incarnation),
    delivered: num(info.delivered),
    deadlineMisses: figures?.misses ?? num(info.deadlineMisses),
    system,
    persistent: info.persistent === true,
    heldReason: str(info.heldReason),
    lane: figures,
  };
}

/** Every worker of `tree`, depth first in start order. */
export function psRows(tree: TreeNode, node: string, system = false): PsRow[] {
  const rows: PsRow[] = [];
  const walk = (n: TreeNode): void => {
    if (n.kind === 'worker') rows.push(psRow(n, node, system));
    for (const child of n.children ?? []) walk(child);
  };
  walk(tree);
  return rows;
}

/** An XState state value as one word: `idle`, `booking.waiting`, parallel regions joined by `,`; `-` for none. */
export function stateLabel(value: unknown): string {
  if (typeof value === 'string') return value;
  const o = obj(value);
  if (!o) return value === null || value === undefined ? '-' : JSON.stringify(value);
  const parts = Object.entries(o).map(([key, sub]) => {
    const inner = stateLabel(sub);
    return inner === '-' ? key : `${key}.${inner}`;
  });
  return parts.length === 0 ? '-' : parts.join(',');
}
