// The supervision tree of every node, drawn as a flat list of rows (indented by
// depth) so the keyboard can walk it and a delta only touches the rows that
// changed. A restart or an escalation makes a row flash (a colour animation:
// the row's box never changes). The kernel's own service tree (`system`) starts
// collapsed.

import { actorKey, h, replay, setAttr, setClass, setData, setText, stateLabel } from './dom.js';

/**
 * @typedef {{ key: string, node: string, depth: number, tn: any, group?: boolean }} Line
 */

/**
 * @param {{ model: import('./model.js').Model, onSelect: (node: string, actor: string) => void, schedule: () => void }} deps
 */
export function createTree({ model, onSelect, schedule }) {
  /** @type {Map<string, boolean>} row key → expanded */
  const expanded = new Map();
  /** @type {Map<string, { el: HTMLElement, twisty: HTMLElement, name: HTMLElement, meta: HTMLElement, restarts: HTMLElement, sig: string }>} */
  const rows = new Map();
  /** @type {Line[]} */
  let lines = [];
  /** actor key → its line, to find the row an event names */
  let byActor = new Map();
  let cursor = 0;
  let dirty = true;

  const list = h('div', { class: 'tree', role: 'tree', tabindex: '0', 'aria-label': 'supervision tree', 'data-testid': 'tree' });
  const el = h('section', { class: 'panel tree-panel', 'aria-label': 'supervision tree' }, h('header', { class: 'panel-head' }, h('h2', {}, 'Supervision')), list);

  const isOpen = (line) => expanded.get(line.key) ?? !line.key.includes('\u0000sys:');

  function flatten() {
    /** @type {Line[]} */
    const out = [];
    const map = new Map();
    const walk = (tn, node, depth, prefix) => {
      const key = `${node}\u0000${prefix}${tn.path ?? tn.id}`;
      const line = { key, node, depth, tn };
      out.push(line);
      map.set(actorKey(node, tn.id), line);
      if (tn.kind === 'supervisor' && isOpen(line)) for (const child of tn.children ?? []) walk(child, node, depth + 1, prefix);
    };
    for (const view of [...model.nodes.values()].sort((a, b) => a.node.localeCompare(b.node))) {
      const groupKey = `${view.node}\u0000node`;
      const group = { key: groupKey, node: view.node, depth: 0, tn: { id: view.node, kind: 'node', restarts: 0, status: 'running' }, group: true };
      out.push(group);
      if (!isOpen(group)) continue;
      if (view.tree) walk(view.tree, view.node, 1, '');
      if (view.system) walk(view.system, view.node, 1, 'sys:');
    }
    lines = out;
    byActor = map;
    cursor = Math.min(cursor, Math.max(0, lines.length - 1));
  }

  function rowFor(line) {
    let row = rows.get(line.key);
    if (!row) {
      const twisty = h('span', { class: 'twisty', 'aria-hidden': 'true' });
      const name = h('span', { class: 'name' });
      const meta = h('span', { class: 'meta' });
      const restarts = h('span', { class: 'restarts', 'data-testid': 'tree-restarts', title: 'restarts' });
      const rowEl = h('div', { class: 'tree-row', role: 'treeitem', 'data-testid': 'tree-row', 'data-key': line.key }, twisty, name, meta, restarts);
      row = { el: rowEl, twisty, name, meta, restarts, sig: '' };
      rows.set(line.key, row);
    }
    return row;
  }

  function render() {
    flatten();
    const sel = model.selected;
    const seen = new Set();
    lines.forEach((line, i) => {
      const row = rowFor(line);
      const tn = line.tn;
      seen.add(line.key);
      const el = row.el;
      const branch = tn.kind === 'supervisor' || line.group;
      const open = branch && isOpen(line);
      const meta = line.group ? (line.node === model.served ? 'node (serving)' : 'node') : tn.kind === 'supervisor' ? (tn.strategy ?? 'supervisor') : workerMeta(tn);
      const restarts = tn.restarts ?? 0;
      const selected = !!sel && tn.kind === 'worker' && sel.node === line.node && sel.actor === tn.id;
      // A view refresh walks 1,000 rows of which a handful changed: skip a row whose content is the same.
      const sig = `${line.depth}|${i}|${branch}|${open}|${meta}|${restarts}|${tn.status}|${selected}|${i === cursor}`;
      if (row.sig !== sig) {
        row.sig = sig;
        el.style.setProperty('--depth', String(line.depth));
        setData(el, 'node', line.node);
        setData(el, 'actor', tn.id);
        setData(el, 'kind', tn.kind);
        setData(el, 'index', i);
        if (branch) setAttr(el, 'aria-expanded', open);
        else if (el.hasAttribute('aria-expanded')) el.removeAttribute('aria-expanded');
        setText(row.twisty, branch ? (open ? '▾' : '▸') : '·');
        setText(row.name, tn.id);
        setText(row.meta, meta);
        setText(row.restarts, line.group ? '' : `↻${restarts}`);
        setClass(row.restarts, 'some', restarts > 0);
        setData(el, 'status', tn.status ?? '');
        setClass(el, 'selected', selected);
        setAttr(el, 'aria-selected', selected);
        setClass(el, 'cursor', i === cursor);
      }
      // Keep DOM order equal to the line order, moving only what is out of place.
      if (list.children[i] !== el) list.insertBefore(el, list.children[i] ?? null);
    });
    for (const [key, row] of rows) {
      if (seen.has(key)) continue;
      row.el.remove();
      rows.delete(key);
    }
  }

  function toggle(line, open) {
    expanded.set(line.key, open ?? !isOpen(line));
    dirty = true;
    schedule();
  }

  function moveTo(index) {
    cursor = Math.max(0, Math.min(lines.length - 1, index));
    rows.get(lines[cursor]?.key)?.el.scrollIntoView({ block: 'nearest' });
    dirty = true;
    schedule();
  }

  function activate(line) {
    if (!line) return;
    if (line.tn.kind === 'worker') onSelect(line.node, line.tn.id);
    else toggle(line);
  }

  list.addEventListener('keydown', (e) => {
    const line = lines[cursor];
    if (!line) return;
    const branch = line.tn.kind === 'supervisor' || line.group;
    let handled = true;
    if (e.key === 'ArrowDown') moveTo(cursor + 1);
    else if (e.key === 'ArrowUp') moveTo(cursor - 1);
    else if (e.key === 'Home') moveTo(0);
    else if (e.key === 'End') moveTo(lines.length - 1);
    else if (e.key === 'ArrowRight') {
      if (branch && !isOpen(line)) toggle(line, true);
      else if (branch) moveTo(cursor + 1);
    } else if (e.key === 'ArrowLeft') {
      if (branch && isOpen(line)) toggle(line, false);
      else {
        // To the parent: the nearest line above with a smaller depth.
        for (let i = cursor - 1; i >= 0; i--) if (lines[i].depth < line.depth) return moveTo(i), e.preventDefault();
      }
    } else if (e.key === 'Enter' || e.key === ' ') activate(line);
    else handled = false;
    if (handled) e.preventDefault();
  });
  list.addEventListener('click', (e) => {
    const target = /** @type {HTMLElement} */ (e.target);
    const rowEl = target.closest('.tree-row');
    if (!rowEl) return;
    const index = Number(/** @type {HTMLElement} */ (rowEl).dataset.index);
    const line = lines[index];
    if (!line) return;
    cursor = index;
    if (target.classList.contains('twisty')) toggle(line);
    else activate(line);
    dirty = true;
    schedule();
  });

  return {
    el,
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (changes.views || changes.snapshot || changes.selection) dirty = true;
      if (dirty) {
        render();
        dirty = false;
      } else {
        // Events patched a few actors (state, status): rewrite just their rows.
        for (const key of changes.rows) {
          const line = byActor.get(key);
          const row = line && rows.get(line.key);
          if (row && line.tn.kind === 'worker') setText(row.meta, workerMeta(line.tn));
        }
      }
      for (const key of changes.flashes) {
        const row = rows.get(byActor.get(key)?.key);
        if (row) replay(row.el, 'flash');
      }
    },
  };
}

function workerMeta(tn) {
  const info = tn.info ?? {};
  const state = info.lane && typeof info.lane === 'object' && 'state' in info.lane ? info.lane.state : info.state;
  const parts = [info.agent ?? 'agent', info.class ?? ''];
  if (state !== undefined) parts.push(stateLabel(state));
  if (tn.status !== 'running') parts.push(tn.status);
  return parts.filter(Boolean).join(' · ');
}
