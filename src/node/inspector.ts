// The inspector on a node. `inspectorHub` makes the hub (with the node's
// secret redactor), then `startInspector` — once the node exists — gives the
// hub its source (the node's trees, ps rows, approvals, audit, members,
// machines, lineage; its system events through the kernel's tap; its cells, to
// sample their state; on-demand XState inspection of the actors a page
// watches), serves the page unless `serve: false`, and joins the cluster's
// `inspector` channel so every member's actors show on the members that serve.
// The hub is not the node's `inspect` listener: an actor nobody watches costs
// the inspector nothing per message.

import type { Clock } from '../base/clock.js';
import { ActorError, ErrorCodes } from '../base/errors.js';
import { ALL_ACTORS } from '../kernel/inspection.js';
import { psRows } from '../kernel/ps-rows.js';
import {
  InspectorCodes,
  InspectorError,
  InspectorHub,
  InspectorLink,
  InspectorServer,
  type InspectorSource,
  type MachineInfo,
} from '../services/inspector/index.js';
import type { TreeNode } from '../supervisors/types.js';
import type { AgentOsNode } from './node.js';

export interface InspectorOptions {
  /** Default 4200; 0: any free port (the handle says which). */
  port?: number;
  /** Default 127.0.0.1; any other interface requires `token`. */
  host?: string;
  /** Required off loopback: the page and its WebSockets then need it (`?token=`, a bearer header, or the cookie the page sets). */
  token?: string;
  /** Flush tick (default 50 ms): how often events go out, batched. */
  flushMs?: number;
  /** How often actor rows, rates, approvals and the audit head are taken (default 1000 ms). */
  statsMs?: number;
  /** Events kept for replay (default 10,000). */
  bufferEvents?: number;
  /** Bound on one payload as JSON (default 2,048 bytes). */
  payloadBytes?: number;
  /** Messages and system events one flush takes at most (default 1,024); more are dropped, and counted in an event. */
  inboxEvents?: number;
  /** How long a page's `watch` on an actor lasts unless renewed (default 30,000 ms). */
  watchLeaseMs?: number;
  /** Actors watched at once, over all pages (default 64). */
  maxWatched?: number;
  /** Serve the page here (default true). False: a cluster member that only streams to the members that serve. */
  serve?: boolean;
  /** Browser origins besides the page's own that may open the WebSockets (e.g. a hosted Stately inspector). */
  allowOrigins?: string[];
  /** Per page: bytes queued before it is resynced (default 4 MiB). */
  maxQueueBytes?: number;
  /** How long a request forwarded to another member waits (default 5000 ms). */
  requestTimeoutMs?: number;
}

export interface InspectorHandle {
  /** The page's address (undefined with `serve: false`). */
  readonly url: string | undefined;
  readonly port: number | undefined;
  readonly hub: InspectorHub;
  readonly server: InspectorServer | undefined;
  close(): Promise<void>;
}

/** The cluster channel the inspector streams over. */
export const INSPECTOR_CHANNEL = 'inspector';

/** Step one: the hub, with the node's secret redactor (what it gets from the kernel is unscrubbed). */
export function inspectorHub(name: string, clock: Clock, options: InspectorOptions = {}, redact?: (value: unknown) => unknown): InspectorHub {
  checkOptions(options);
  return new InspectorHub({
    node: name,
    clock,
    ...(redact ? { redact } : {}),
    ...(options.watchLeaseMs === undefined ? {} : { watchLeaseMs: options.watchLeaseMs }),
    ...(options.maxWatched === undefined ? {} : { maxWatched: options.maxWatched }),
    ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }),
    ...(options.statsMs === undefined ? {} : { statsMs: options.statsMs }),
    ...(options.bufferEvents === undefined ? {} : { bufferEvents: options.bufferEvents }),
    ...(options.payloadBytes === undefined ? {} : { payloadBytes: options.payloadBytes }),
    ...(options.inboxEvents === undefined ? {} : { inboxEvents: options.inboxEvents }),
  });
}

/** Step two, once the node exists: source, server, cluster link; the hub starts flushing. */
export async function startInspector(node: AgentOsNode, hub: InspectorHub, options: InspectorOptions = {}): Promise<InspectorHandle> {
  checkOptions(options);
  hub.attach(nodeInspectorSource(node));
  hub.start();
  let server: InspectorServer | undefined;
  let link: InspectorLink | undefined;
  let offMembers: (() => void) | undefined;
  let channel: { close(): void } | undefined;
  try {
    if (options.serve !== false) {
      server = await InspectorServer.start({
        hub,
        ...(options.host === undefined ? {} : { host: options.host }),
        port: options.port ?? 4200,
        ...(options.token === undefined ? {} : { token: options.token }),
        ...(options.allowOrigins ? { allowOrigins: options.allowOrigins } : {}),
        ...(options.maxQueueBytes === undefined ? {} : { maxQueueBytes: options.maxQueueBytes }),
      });
    }
    const cluster = node.cluster;
    if (cluster) {
      const ch = cluster.channel(INSPECTOR_CHANNEL, (from, body) => link?.onMessage(from, body));
      channel = ch;
      link = new InspectorLink(hub, { send: (to, body) => ch.send(to, body) }, {
        serve: options.serve !== false,
        ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      });
      const l = link;
      offMembers = cluster.on((event) => {
        if (!('member' in event)) return;
        if (event.type === 'member-up') l.memberUp(event.member.nodeId);
        else if (event.type === 'member-down' || event.type === 'member-removed' || event.type === 'member-leaving') l.memberGone(event.member.nodeId);
      });
      for (const m of cluster.members()) if (m.status === 'up') link.memberUp(m.nodeId);
    }
  } catch (err) {
    await server?.close();
    hub.stop();
    hub.detach();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url: server?.url,
    port: server?.port,
    hub,
    server,
    close: () =>
      (closing ??= (async () => {
        offMembers?.();
        link?.close();
        channel?.close();
        hub.stop();
        hub.detach();
        await server?.close();
      })()),
  };
}

/** What the inspector reads from a node. */
export function nodeInspectorSource(node: AgentOsNode): InspectorSource {
  const definitions = new WeakMap<object, unknown>();
  const inspection = node.kernel.inspection;
  return {
    node: node.name,
    tree: () => node.tree(),
    systemTree: () => node.systemTree(),
    rows: (tree, system) => [...psRows(tree, node.name), ...(system ? psRows(system, node.name, true) : [])],
    approvals: () => node.approvals.list(),
    approvalOutcome: (id) => approvalOutcome(node, id),
    auditHead: () => {
      const head = node.audit.head();
      return { head: head.size === 0 ? null : head.rootHash, length: head.size };
    },
    members: () => (node.cluster?.members() ?? []).map((m) => ({ nodeId: m.nodeId, address: m.address, status: m.status, incarnation: m.incarnation })),
    machine: (actorId) => machineOf(node, actorId, definitions),
    logFields: (actorId) => node.kernel.governance.admittedActor(actorId)?.contract.observability?.log_fields,
    approve: (id, { by, reason }) => {
      const granted = node.approvals.approve(id, { by });
      note(node, 'approve', id, by, reason);
      return { ...granted, ...(reason === undefined ? {} : { reason }) };
    },
    reject: (id, { by, reason }) => {
      node.approvals.reject(id, { by, reason });
      note(node, 'reject', id, by, reason);
      return { id, by, reason };
    },
    trace: (ref) => {
      if (!node.lineage) throw new InspectorError(InspectorCodes.unavailable, `node "${node.name}" records no lineage (createNode({ lineage: false }))`, { field: 'ref' });
      return node.lineage.find(ref);
    },
    verifyAudit: () => node.audit.verify(),
    tap: (listener) => node.kernel.tap(listener),
    eachActor: (visit) => {
      for (const cell of inspection.cells()) visit(cell.id, cell.xstateActor, cell.delivered);
    },
    watch: (id, listener) => {
      if (id !== ALL_ACTORS && !inspection.has(id)) {
        throw new InspectorError(InspectorCodes.unknownActor, `no actor "${id}" on node "${node.name}" to watch`, { field: 'actor' });
      }
      return inspection.watch(id, listener);
    },
  };
}

/** The operator's decision taken in the inspector, with its reason, beside the queue's own record of it. */
function note(node: AgentOsNode, decision: 'approve' | 'reject', id: string, by: string, reason: string | undefined): void {
  node.kernel.governance.record({ kind: 'inspector', decision, actor: by, subject: id, ...(reason ? { reason } : {}), data: { via: 'inspector' } });
}

const DECISIONS: Readonly<Record<string, 'approved' | 'rejected' | 'expired'>> = {
  'consent-granted': 'approved',
  'consent-rejected': 'rejected',
  'consent-withdrawn': 'rejected',
  'consent-expired': 'expired',
};

/** How an approval ended, from the consent record among the newest audit records (the queue's events do not reach the inspector). */
function approvalOutcome(node: AgentOsNode, id: string): { decision: 'approved' | 'rejected' | 'expired'; by?: string; reason?: string } | undefined {
  const size = node.audit.size;
  for (let i = size - 1; i >= Math.max(0, size - 500); i--) {
    const r = node.audit.record(i) as { kind?: string; decision?: string; reason?: string; data?: { approvalId?: unknown; by?: unknown } };
    if (r.kind !== 'consent' || r.data?.approvalId !== id) continue;
    const decision = DECISIONS[r.decision ?? ''];
    if (!decision) continue;
    const by = typeof r.data.by === 'string' ? r.data.by : undefined;
    return { decision, ...(by ? { by } : {}), ...(r.reason ? { reason: r.reason } : {}) };
  }
  return undefined;
}

function findWorker(tree: TreeNode, id: string): TreeNode | undefined {
  if (tree.kind === 'worker' && tree.id === id) return tree;
  for (const child of tree.children ?? []) {
    const hit = findWorker(child, id);
    if (hit) return hit;
  }
  return undefined;
}

function machineOf(node: AgentOsNode, actorId: string, cache: WeakMap<object, unknown>): MachineInfo {
  const worker = findWorker(node.tree(), actorId) ?? findWorker(node.systemTree(), actorId);
  if (!worker) throw new ActorError(ErrorCodes.unknownActor, `no actor "${actorId}" on node "${node.name}"`, { field: 'actor' });
  const info = worker.info ?? {};
  // The running actor's own machine (any actor: top-level, a supervisor's child, a dynamic one), else its registered definition.
  const snapshot = node.kernel.snapshotOf(actorId) as { machine?: { toJSON?: () => unknown } } | undefined;
  const def = typeof info.agent === 'string' ? node.definition(info.agent, typeof info.version === 'string' ? info.version : undefined) : undefined;
  let definition: unknown = null;
  const machine = snapshot?.machine ?? (def?.machine as { toJSON?: () => unknown } | undefined);
  if (machine && typeof machine.toJSON === 'function') {
    definition = cache.get(machine);
    if (definition === undefined) {
      // Through JSON: guards and actions given as functions drop out, ids and targets stay.
      definition = JSON.parse(JSON.stringify(machine.toJSON())) as unknown;
      addEventless((machine as { root?: unknown }).root, definition);
      cache.set(machine, definition);
    }
  }
  const state = (node.kernel.snapshotOf(actorId) as { value?: unknown } | undefined)?.value ?? info.state ?? null;
  return { actor: actorId, node: node.name, state, definition };
}

interface StateNodeLike {
  always?: unknown[];
  states?: Record<string, StateNodeLike>;
}

/** XState's toJSON leaves eventless (`always`) transitions out: put them back, per state, as the page draws them. */
function addEventless(node: unknown, json: unknown): void {
  const n = node as StateNodeLike | undefined;
  const j = json as { always?: unknown; states?: Record<string, unknown> } | null;
  if (!n || typeof j !== 'object' || j === null) return;
  if (Array.isArray(n.always) && n.always.length > 0) j.always = JSON.parse(JSON.stringify(n.always)) as unknown;
  for (const [key, child] of Object.entries(n.states ?? {})) addEventless(child, j.states?.[key]);
}

function checkOptions(o: InspectorOptions): void {
  const bad = (field: string, why: string): never => {
    throw new InspectorError(InspectorCodes.invalidOptions, `inspector.${field} ${why}`, { field: `inspector.${field}` });
  };
  if (typeof o !== 'object' || o === null) bad('', 'must be an object');
  if (o.serve !== undefined && typeof o.serve !== 'boolean') bad('serve', 'must be true or false');
  if (o.allowOrigins !== undefined && (!Array.isArray(o.allowOrigins) || o.allowOrigins.some((x) => typeof x !== 'string'))) bad('allowOrigins', 'must be an array of origins');
  for (const key of ['flushMs', 'statsMs', 'bufferEvents', 'payloadBytes', 'inboxEvents', 'watchLeaseMs', 'maxWatched', 'maxQueueBytes', 'requestTimeoutMs'] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) bad(key, `must be a positive integer, got ${String(v)}`);
  }
}
