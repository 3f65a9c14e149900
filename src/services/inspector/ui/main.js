// The inspector page: one WebSocket, one model, the views. Frames are queued
// as they arrive and applied together once per animation frame (or after
// 250 ms when the tab is in the background and frames are throttled), so a
// stream of 1,000 events/s costs one model update and one paint per frame.
// The selected actor is watched (the server inspects it, and only it, for this
// page): `watch` on selection, renewed every third of its lease while selected
// and again after a reconnection, `unwatch` when the selection moves on.

import { createApprovals } from './approvals-view.js';
import { createAudit } from './audit-view.js';
import { createCluster } from './cluster-view.js';
import { h, setData, setText } from './dom.js';
import { createLanes } from './lanes-view.js';
import { createLog } from './log-view.js';
import { Model } from './model.js';
import { connect, socketUrl } from './socket.js';
import { createStatechart } from './statechart-view.js';
import { createTable } from './table-view.js';
import { createTabs } from './tabs.js';
import { createTheme } from './theme.js';
import { createTrace } from './trace-view.js';
import { createTree } from './tree-view.js';

const model = new Model();
/** @type {any[]} */
const queue = [];
let scheduled = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let fallback;

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(paint);
  fallback = setTimeout(paint, 250);
}

/** Until the socket is up, requests fail politely. */
let request = (/** @type {Record<string, unknown>} */ _r) => Promise.reject({ code: 'DISCONNECTED', message: 'not connected' });
const ask = (/** @type {Record<string, unknown>} */ r) => request(r);

function select(node, actor) {
  model.select(node, actor);
  follow();
  schedule();
}

/** The watch this page holds: the selected actor's. @type {{ node: string, actor: string, timer?: ReturnType<typeof setTimeout> } | null} */
let watching = null;

/** Watch the selected actor (and nothing else). */
function follow() {
  const sel = model.selected;
  if (watching && !(sel && sel.node === watching.node && sel.actor === watching.actor)) {
    const old = watching;
    watching = null;
    clearTimeout(old.timer);
    ask({ op: 'unwatch', node: old.node, actor: old.actor }).catch(() => {
      // Lost with the connection: the lease runs out on its own.
    });
    log.watch('none', null);
  }
  if (!sel || watching) return;
  watching = { node: sel.node, actor: sel.actor };
  log.watch('pending', watching);
  renew(watching);
}

/** Take or renew the lease on `w`'s actor; again at a third of the lease, or in 5 s if it failed. */
function renew(w) {
  clearTimeout(w.timer);
  ask({ op: 'watch', node: w.node, actor: w.actor }).then(
    (grant) => {
      if (watching !== w) return;
      log.watch('on', w);
      w.timer = setTimeout(() => renew(w), Math.max(1000, Number(grant?.leaseMs ?? 30000) / 3));
    },
    (err) => {
      if (watching !== w) return;
      log.watch('failed', w, err?.message ?? err?.code ?? 'not watched');
      // Not connected: renewed when the socket is back. Refused (a limit): tried again later.
      if (err?.code !== 'DISCONNECTED') w.timer = setTimeout(() => renew(w), 5000);
    },
  );
}

// Header: connection status, counters, the resync note, the theme toggle.
const status = h('span', { class: 'conn', 'data-testid': 'connection', 'data-status': 'connecting', role: 'status' }, 'connecting');
const counter = h('span', { class: 'counter', 'data-testid': 'event-count', title: 'events received since the page opened' }, '0 events');
const note = h('span', { class: 'resync-note', 'data-testid': 'resync-note', role: 'status' });
const served = h('span', { class: 'served', 'data-testid': 'served' });
const theme = createTheme();
const header = h('header', { class: 'top' }, h('h1', {}, 'agentos inspector'), served, status, counter, note, theme.el);

const tree = createTree({ model, onSelect: select, schedule });
const table = createTable({ model, onSelect: select, schedule });
const chart = createStatechart({ model, request: ask });
const log = createLog({ model, request: ask, schedule });
const tabs = createTabs();
const approvals = createApprovals({ model, request: ask, schedule, onCount: (n) => tabs.badge('approvals', n) });
const audit = createAudit({ model, request: ask });
const trace = createTrace({ model, request: ask });
const lanes = createLanes({ model });
const cluster = createCluster({ model });
tabs.add('approvals', 'Approvals', approvals.el, true);
tabs.add('audit', 'Audit', audit.el);
tabs.add('trace', 'Trace', trace.el);
tabs.add('lanes', 'Lanes', lanes.el);
tabs.add('cluster', 'Cluster', cluster.el);

const views = [tree, table, chart, log, approvals, audit, trace, lanes, cluster];

document.body.append(
  header,
  h('main', { class: 'grid' }, h('div', { class: 'area-tree' }, tree.el), h('div', { class: 'area-table' }, table.el), h('div', { class: 'area-chart' }, chart.el), h('div', { class: 'area-log' }, log.el), h('div', { class: 'area-tabs' }, tabs.el)),
);

let noteTimer;
function paint() {
  if (!scheduled) return;
  scheduled = false;
  clearTimeout(fallback);
  for (const frame of queue.splice(0)) model.apply(frame);
  const changes = model.takeChanges();
  for (const view of views) {
    try {
      view.update(changes);
    } catch (err) {
      // One view's bug must not freeze the others.
      console.error('inspector view failed', err);
    }
  }
  if (changes.selection && model.selected) table.reveal(model.selected.node, model.selected.actor);
  const s = model.stats;
  setText(counter, `${s.received.toLocaleString('en')} events${s.missed > 0 ? ` (${s.missed.toLocaleString('en')} missed)` : ''}`);
  setData(counter, 'received', s.received);
  setData(counter, 'events', s.byKind.event ?? 0);
  setData(counter, 'transitions', s.byKind.transition ?? 0);
  setData(counter, 'missed', s.missed);
  setData(counter, 'resyncs', s.resyncs);
  setText(served, model.served ? `on ${model.served}` : '');
  if (changes.resync) {
    setText(note, `resynced (${changes.resync})`);
    clearTimeout(noteTimer);
    noteTimer = setTimeout(() => setText(note, ''), 4000);
  }
}

const socket = connect({
  url: socketUrl(location),
  onFrame(frame) {
    queue.push(frame);
    schedule();
  },
  onStatus(state, detail) {
    status.dataset.status = state;
    setText(status, state === 'open' ? 'live' : detail ? `${state} · ${detail}` : state);
    // A new connection (or a restarted node) knows nothing of our lease: take it again.
    if (state === 'open' && watching) renew(watching);
  },
});
request = socket.request;

// `/` focuses the filter (unless typing somewhere already); Escape leaves it.
document.addEventListener('keydown', (e) => {
  const target = /** @type {HTMLElement} */ (e.target);
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target.isContentEditable;
  if (e.key === '/' && !typing) {
    e.preventDefault();
    table.focusFilter();
  } else if (e.key === 'Escape' && typing) target.blur();
});

// For tests and the benchmark: what the page has applied (read-only use).
// `request` sends a request as the page does (e.g. `{ op: 'watch', node, actor: '*' }` to trace every actor).
/** @type {any} */ (window).__inspector = { model, stats: () => ({ ...model.stats, queued: queue.length }), request: ask, watching: () => watching && { node: watching.node, actor: watching.actor } };
