// The actor table: one row per actor of every node, sortable by column and
// filtered by a text box. Virtualised: only the rows in view exist, as a fixed
// pool of row elements whose text is rewritten, so 1,000 actors and a stream of
// deltas cost a few dozen cell updates per frame and nothing moves on screen.

import { actorKey, fmt, h, setAttr, setClass, setData, setText, stateLabel } from './dom.js';

const ROW_H = 24;

/** Columns: key, header, value of a row (for display and sort), numeric. */
const COLUMNS = [
  { key: 'id', title: 'id', value: (r) => r.id },
  { key: 'node', title: 'node', value: (r) => r.node },
  { key: 'class', title: 'class', value: (r) => r.class ?? '-' },
  { key: 'state', title: 'state', value: (r) => stateLabel(r.state) },
  { key: 'mailbox', title: 'mbox', long: 'messages waiting in the mailbox', value: (r) => r.mailbox, num: true },
  { key: 'wait', title: 'p99', long: 'mailbox wait p99 (ms)', value: (r) => r.waitP99Ms, num: true },
  { key: 'rate', title: 'msg/s', long: 'messages delivered per second', value: (r) => r.rate, num: true },
  { key: 'restarts', title: '↻', long: 'restarts', value: (r) => r.restarts, num: true },
  { key: 'status', title: 'status', value: (r) => r.status },
];

/**
 * @param {{ model: import('./model.js').Model, onSelect: (node: string, actor: string) => void, schedule: () => void }} deps
 */
export function createTable({ model, onSelect, schedule }) {
  let sortKey = 'id';
  let sortDir = 1;
  let filter = '';
  let showSystem = false;
  let cursor = 0;
  /** @type {any[]} rows after filter and sort */
  let list = [];
  let listDirty = true;
  let bodyDirty = true;

  const filterBox = h('input', { type: 'search', placeholder: 'filter actors  ( / )', 'aria-label': 'filter actors', 'data-testid': 'actor-filter', class: 'filter' });
  const systemBox = h('input', { type: 'checkbox', 'data-testid': 'show-system' });
  const count = h('span', { class: 'count', 'data-testid': 'actor-count' }, '0');
  const header = h('div', { class: 'trow thead', role: 'row' });
  for (const col of COLUMNS) {
    const button = h('button', { class: `th c-${col.key}${col.num ? ' num' : ''}`, role: 'columnheader', 'data-col': col.key, 'aria-sort': 'none', title: `sort by ${col.long ?? col.title}`, 'aria-label': col.long ?? col.title }, col.title);
    button.addEventListener('click', () => {
      sortDir = sortKey === col.key ? -sortDir : col.num ? -1 : 1;
      sortKey = col.key;
      listDirty = true;
      schedule();
    });
    header.append(button);
  }
  const spacer = h('div', { class: 'spacer' });
  const body = h('div', { class: 'tbody', tabindex: '0', role: 'grid', 'aria-label': 'actors', 'data-testid': 'actor-table' }, spacer);
  /** @type {{ el: HTMLElement, cells: HTMLElement[], key: string | null, index: number }[]} */
  const pool = [];

  filterBox.addEventListener('input', () => {
    filter = filterBox.value.trim().toLowerCase();
    cursor = 0;
    listDirty = true;
    schedule();
  });
  systemBox.addEventListener('change', () => {
    showSystem = systemBox.checked;
    listDirty = true;
    schedule();
  });
  filterBox.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'Enter') {
      e.preventDefault();
      body.focus();
      if (e.key === 'Enter' && list[cursor]) onSelect(list[cursor].node, list[cursor].id);
    }
  });
  body.addEventListener('scroll', () => {
    bodyDirty = true;
    schedule();
  });
  body.addEventListener('keydown', (e) => {
    const page = Math.max(1, Math.floor(body.clientHeight / ROW_H) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (e.key in moves) {
      e.preventDefault();
      moveCursor(moves[e.key]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const row = list[cursor];
      if (row) onSelect(row.node, row.id);
    }
  });
  body.addEventListener('click', (e) => {
    const rowEl = /** @type {HTMLElement} */ (e.target).closest('.trow');
    if (!rowEl || !rowEl.dataset.actor) return;
    cursor = Number(rowEl.dataset.index);
    onSelect(rowEl.dataset.node ?? '', rowEl.dataset.actor);
  });

  function moveCursor(delta) {
    if (list.length === 0) return;
    cursor = Math.max(0, Math.min(list.length - 1, cursor + delta));
    const top = cursor * ROW_H;
    if (top < body.scrollTop) body.scrollTop = top;
    else if (top + ROW_H > body.scrollTop + body.clientHeight) body.scrollTop = top + ROW_H - body.clientHeight;
    bodyDirty = true;
    schedule();
  }

  function rebuildList() {
    const col = COLUMNS.find((c) => c.key === sortKey) ?? COLUMNS[0];
    const shown = [...model.rows.values()].filter((r) => showSystem || !r.system);
    list = shown.filter((r) => matches(r, filter));
    // Rows without a figure go last in either direction.
    const byColumn = (a, b) => {
      const va = col.value(a);
      const vb = col.value(b);
      if (va === null || va === undefined) return vb === null || vb === undefined ? 0 : 1;
      if (vb === null || vb === undefined) return -1;
      return compare(va, vb) * sortDir;
    };
    list.sort((a, b) => byColumn(a, b) || compare(a.id, b.id) || compare(a.node, b.node));
    cursor = Math.min(cursor, Math.max(0, list.length - 1));
    spacer.style.height = `${list.length * ROW_H}px`;
    setText(count, list.length === shown.length ? String(list.length) : `${list.length} of ${shown.length}`);
    for (const button of header.children) {
      const el = /** @type {HTMLElement} */ (button);
      el.setAttribute('aria-sort', el.dataset.col === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    }
  }

  function renderRows() {
    const first = Math.max(0, Math.floor(body.scrollTop / ROW_H) - 2);
    const visible = Math.ceil((body.clientHeight || 400) / ROW_H) + 4;
    while (pool.length < visible) {
      const cells = COLUMNS.map((c) => h('span', { class: `td c-${c.key}${c.num ? ' num' : ''}`, 'data-col': c.key, role: 'gridcell' }));
      const el = h('div', { class: 'trow', role: 'row' }, ...cells);
      body.append(el);
      pool.push({ el, cells, key: null, index: -1 });
    }
    const sel = model.selected;
    pool.forEach((slot, i) => {
      const index = first + i;
      const row = list[index];
      if (!row) {
        slot.el.hidden = true;
        slot.key = null;
        return;
      }
      if (slot.el.hidden) slot.el.hidden = false;
      slot.key = actorKey(row.node, row.id);
      if (slot.index !== index) {
        slot.index = index;
        slot.el.style.transform = `translateY(${index * ROW_H}px)`;
      }
      setData(slot.el, 'actor', row.id);
      setData(slot.el, 'node', row.node);
      setData(slot.el, 'index', index);
      setData(slot.el, 'testid', `actor-row-${row.id}`);
      const selected = !!sel && sel.node === row.node && sel.actor === row.id;
      setClass(slot.el, 'selected', selected);
      setAttr(slot.el, 'aria-selected', selected);
      setClass(slot.el, 'cursor', index === cursor);
      setClass(slot.el, 'alt', index % 2 === 1);
      setClass(slot.el, 'down', row.status !== 'running');
      COLUMNS.forEach((col, c) => {
        const v = col.value(row);
        setText(slot.cells[c], col.num ? fmt(v) : v);
        if (col.key === 'state' || col.key === 'id') setAttr(slot.cells[c], 'title', v);
      });
    });
  }

  const el = h(
    'section',
    { class: 'panel table-panel', 'aria-label': 'actors' },
    h('header', { class: 'panel-head' }, h('h2', {}, 'Actors'), count, filterBox, h('label', { class: 'check' }, systemBox, 'system')),
    header,
    body,
  );

  return {
    el,
    focusFilter() {
      filterBox.focus();
      filterBox.select();
    },
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (changes.views || changes.snapshot) listDirty = true;
      // A state change can move a row when sorting by state; other patches keep the order.
      if (changes.rows.size > 0 && sortKey === 'state') listDirty = true;
      if (listDirty) {
        rebuildList();
        listDirty = false;
        bodyDirty = true;
      }
      if (!bodyDirty && changes.selection) bodyDirty = true;
      if (!bodyDirty && changes.rows.size > 0) bodyDirty = pool.some((slot) => slot.key !== null && changes.rows.has(slot.key));
      if (bodyDirty) {
        renderRows();
        bodyDirty = false;
      }
    },
    /** Puts the keyboard cursor on the selected actor and scrolls to it. */
    reveal(node, actor) {
      const index = list.findIndex((r) => r.node === node && r.id === actor);
      if (index >= 0) moveCursor(index - cursor);
    },
  };
}

function matches(row, filter) {
  if (!filter) return true;
  const hay = `${row.id} ${row.node} ${row.agent ?? ''} ${row.class ?? ''} ${row.status} ${stateLabel(row.state)}`.toLowerCase();
  return filter.split(/\s+/).every((word) => hay.includes(word));
}

/** `a2` before `a10`; one Collator is far cheaper than `localeCompare` per comparison. */
const collator = new Intl.Collator(undefined, { numeric: true });

function compare(a, b) {
  if (a === b) return 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}
