// HRT lanes: the figures of every actor that runs on a hard real-time lane
// (its `ps` row's `lane`): releases, jitter p99 and max, misses, skipped
// releases, response p99. Misses are highlighted, never hidden.

import { fmt, h, setClass, setText } from './dom.js';

const COLS = [
  ['actor', (r) => r.id],
  ['node', (r) => r.node],
  ['period', (r) => fmt(r.lane.periodMs)],
  ['wcet', (r) => fmt(r.lane.wcetMs)],
  ['releases', (r) => fmt(r.lane.releases)],
  ['jitter p99', (r) => fmt(r.lane.jitterP99Ms, 2)],
  ['jitter max', (r) => fmt(r.lane.jitterMaxMs, 2)],
  ['misses', (r) => fmt(r.lane.misses)],
  ['skipped', (r) => fmt(r.lane.skipped)],
  ['resp p99', (r) => fmt(r.lane.responseP99Ms, 2)],
];

/** @param {{ model: import('./model.js').Model }} deps */
export function createLanes({ model }) {
  const body = h('tbody', {});
  const empty = h('p', { class: 'note' }, 'No actor runs on an HRT lane.');
  const table = h('table', { class: 'lanes', 'data-testid': 'lanes' }, h('thead', {}, h('tr', {}, ...COLS.map(([t]) => h('th', { scope: 'col' }, t)))), body);
  /** @type {Map<string, HTMLElement[]>} */
  const rows = new Map();

  return {
    el: h('div', { class: 'tab-body' }, h('p', { class: 'muted small' }, 'times in ms'), empty, table),
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (!changes.views && !changes.snapshot) return;
      const lane = [...model.rows.values()].filter((r) => r.lane);
      const seen = new Set();
      for (const r of lane) {
        const key = `${r.node}\u0000${r.id}`;
        seen.add(key);
        let cells = rows.get(key);
        if (!cells) {
          cells = COLS.map(() => h('td', {}));
          body.append(h('tr', { 'data-actor': r.id, 'data-node': r.node }, ...cells));
          rows.set(key, cells);
        }
        COLS.forEach(([, value], i) => setText(cells[i], value(r)));
        setClass(cells[7], 'bad', (r.lane.misses ?? 0) > 0);
      }
      for (const [key, cells] of rows) {
        if (seen.has(key)) continue;
        cells[0].parentElement?.remove();
        rows.delete(key);
      }
      empty.hidden = lane.length > 0;
      table.hidden = lane.length === 0;
    },
  };
}
