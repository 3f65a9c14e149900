// What the page knows about the nodes it watches, built from the server's
// frames (`snapshot`, `delta`, `resync`, see protocol.ts). Frames are applied in
// batches (once per animation frame); each batch leaves a `Changes` record that
// tells the views what to touch, so nothing is redrawn that did not change.
// Events are de-duplicated by their per-node `seq` (a resync's snapshot
// overlaps what was already seen).

import { actorKey } from './dom.js';

/** How many recent events the page keeps (all actors), for an actor's log on selection. */
const RING = 5000;

/**
 * @typedef {{ kind: string, node: string, seq: number, at: number, actor?: string, [k: string]: any }} InspectorEvent
 * @typedef {{ node: string, now: number, tree: any, system?: any, actors: any[], approvals: any[], audit: { head: string | null, length: number, verified: boolean | null }, members: any[] }} NodeView
 * @typedef {{
 *   views: boolean,            // node views were replaced: tree, table, approvals, audit, cluster, lanes
 *   rows: Set<string>,         // actor rows patched in place by events (state, status, restarts)
 *   events: InspectorEvent[],  // new events, in arrival order
 *   flashes: Set<string>,      // actor keys whose tree row flashes (restart, escalation)
 *   selection: boolean,        // the selected actor changed
 *   snapshot: boolean,         // a snapshot replaced everything
 *   resync: string | null,     // the server dropped our queue; why
 * }} Changes
 */

export class Model {
  constructor() {
    /** @type {Map<string, NodeView>} */
    this.nodes = new Map();
    /** @type {Map<string, any>} actor key → ActorRow */
    this.rows = new Map();
    /** @type {Map<string, Map<string, any>>} node → actor id → TreeNode (workers and supervisors) */
    this.treeIndex = new Map();
    /** @type {InspectorEvent[]} */
    this.recent = [];
    /** @type {Map<string, number>} */
    this.lastSeq = new Map();
    this.stats = { received: 0, missed: 0, resyncs: 0, byKind: /** @type {Record<string, number>} */ ({}) };
    /** @type {{ node: string, actor: string } | null} */
    this.selected = null;
    this.served = '';
    /** @type {Changes} */
    this.changes = emptyChanges();
  }

  /** The changes since the last call; starts a fresh record. */
  takeChanges() {
    const c = this.changes;
    this.changes = emptyChanges();
    return c;
  }

  /** Applies one server frame (replies are handled by the socket). */
  apply(frame) {
    switch (frame?.t) {
      case 'hello':
        this.served = String(frame.served ?? '');
        break;
      case 'snapshot':
        this.changes.snapshot = true;
        this.setViews(frame.nodes ?? [], true);
        this.addEvents(frame.events ?? [], true);
        break;
      case 'delta':
        this.addEvents(frame.events ?? [], false);
        // Views after events: a view taken at flush time is newer than the events before it.
        if (Array.isArray(frame.nodes) && frame.nodes.length > 0) this.setViews(frame.nodes, false);
        break;
      case 'resync':
        this.stats.resyncs++;
        this.changes.resync = String(frame.reason ?? 'resync');
        break;
      default:
        break;
    }
  }

  /** @param {NodeView[]} views @param {boolean} all the snapshot: nodes not listed are gone */
  setViews(views, all) {
    if (all) {
      this.nodes.clear();
      this.rows.clear();
      this.treeIndex.clear();
    }
    for (const view of views) {
      if (!view || typeof view.node !== 'string') continue;
      for (const key of [...this.rows.keys()]) if (this.rows.get(key).node === view.node) this.rows.delete(key);
      this.nodes.set(view.node, view);
      for (const row of view.actors ?? []) this.rows.set(actorKey(row.node ?? view.node, row.id), row);
      const index = new Map();
      const walk = (n) => {
        if (!n) return;
        index.set(n.id, n);
        for (const c of n.children ?? []) walk(c);
      };
      walk(view.tree);
      walk(view.system);
      this.treeIndex.set(view.node, index);
    }
    this.changes.views = true;
  }

  /** @param {InspectorEvent[]} events @param {boolean} fromSnapshot */
  addEvents(events, fromSnapshot) {
    if (fromSnapshot) {
      // A node whose seq went backwards restarted: start counting it afresh.
      const maxSeq = new Map();
      for (const ev of events) maxSeq.set(ev.node, Math.max(maxSeq.get(ev.node) ?? -Infinity, ev.seq));
      for (const [node, max] of maxSeq) if (max < (this.lastSeq.get(node) ?? -Infinity)) this.lastSeq.delete(node);
    }
    for (const ev of events) {
      if (!ev || typeof ev.seq !== 'number') continue;
      const last = this.lastSeq.get(ev.node);
      if (last !== undefined && ev.seq <= last) continue;
      if (last !== undefined && ev.seq > last + 1 && !fromSnapshot) this.stats.missed += ev.seq - last - 1;
      this.lastSeq.set(ev.node, ev.seq);
      this.stats.received++;
      this.stats.byKind[ev.kind] = (this.stats.byKind[ev.kind] ?? 0) + 1;
      this.recent.push(ev);
      this.changes.events.push(ev);
      this.patch(ev);
    }
    if (this.recent.length > RING * 1.5) this.recent = this.recent.slice(-RING);
  }

  /** Keeps rows current between node views: state on a transition, status on start/stop, restarts. */
  patch(ev) {
    if (!ev.actor) return;
    const key = actorKey(ev.node, ev.actor);
    const row = this.rows.get(key);
    switch (ev.kind) {
      case 'transition': {
        if (row) row.state = ev.state;
        const info = this.treeIndex.get(ev.node)?.get(ev.actor)?.info;
        if (info) info.state = ev.state;
        if (row || info) this.changes.rows.add(key);
        break;
      }
      case 'actor.started':
      case 'actor.stopped':
        if (row) {
          row.status = ev.kind === 'actor.started' ? 'running' : 'stopped';
          this.changes.rows.add(key);
        }
        break;
      case 'restart':
      case 'escalated': {
        this.changes.flashes.add(key);
        if (ev.supervisor) this.changes.flashes.add(actorKey(ev.node, ev.supervisor));
        if (ev.kind !== 'restart') break;
        const next = (current) => (typeof ev.restarts === 'number' ? Math.max(current, ev.restarts) : current + 1);
        if (row) {
          row.restarts = next(row.restarts ?? 0);
          this.changes.rows.add(key);
        }
        const treeNode = this.treeIndex.get(ev.node)?.get(ev.actor);
        if (treeNode) treeNode.restarts = next(treeNode.restarts ?? 0);
        this.changes.views = true;
        break;
      }
      default:
        break;
    }
  }

  /** Removes a decided approval at once (the next node view agrees). */
  dropApproval(node, id) {
    const view = this.nodes.get(node);
    if (!view) return;
    const before = view.approvals.length;
    view.approvals = view.approvals.filter((a) => a.id !== id);
    if (view.approvals.length !== before) this.changes.views = true;
  }

  select(node, actor) {
    if (this.selected && this.selected.node === node && this.selected.actor === actor) return;
    this.selected = node && actor ? { node, actor } : null;
    this.changes.selection = true;
  }

  /** The selected actor's row, if it is still there. */
  selectedRow() {
    return this.selected ? this.rows.get(actorKey(this.selected.node, this.selected.actor)) : undefined;
  }

  /** Recent events of one actor (oldest first). */
  eventsOf(node, actor) {
    return this.recent.filter((ev) => ev.node === node && ev.actor === actor);
  }
}

/** @returns {Changes} */
function emptyChanges() {
  return { views: false, rows: new Set(), events: [], flashes: new Set(), selection: false, snapshot: false, resync: null };
}
