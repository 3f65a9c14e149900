// The event log: the selected actor's history (the `events` request) and its
// live events, newest first; with nothing selected, every event of every node.
// Messages (with payloads) and exact transitions come only for a watched actor:
// the page watches the one selected (main.js), and the scope line says so. For
// the others the log has lifecycle, system events and sampled transitions.
// The list is a fixed set of row slots whose text is rewritten, so a stream of
// 1,000 events/s changes text, never positions. The payload of the entry under
// the cursor is shown as JSON (already redacted by the server).

import { clockTime, h, json, setClass, setText, stateLabel } from './dom.js';

const SLOTS = 200;
const UNWATCHED = 'Messages are shown for the selected actor only: select one to see its messages. Every actor shows its state changes (sampled).';
const KEEP = 1000;
const HISTORY = 200;

/**
 * @param {{ model: import('./model.js').Model, request: (r: Record<string, unknown>) => Promise<any>, schedule: () => void }} deps
 */
export function createLog({ model, request, schedule }) {
  /** @type {any[]} oldest first */
  let entries = [];
  const seen = new Set();
  let cursor = 0;
  let dirty = true;
  let ticket = 0;

  const title = h('span', { class: 'subtitle', 'data-testid': 'log-actor' }, 'all actors');
  const count = h('span', { class: 'count', 'data-testid': 'log-count' }, '0');
  const list = h('div', { class: 'log', role: 'listbox', tabindex: '0', 'aria-label': 'event log', 'data-testid': 'event-log' });
  const slots = Array.from({ length: SLOTS }, (_, i) => {
    const at = h('span', { class: 'at' });
    const kind = h('span', { class: 'kind' });
    const text = h('span', { class: 'text' });
    const el = h('div', { class: 'log-row', role: 'option', 'data-index': i }, at, kind, text);
    list.append(el);
    return { el, at, kind, text };
  });
  const detail = h('pre', { class: 'detail', 'data-testid': 'log-detail', 'aria-live': 'off' });
  const scope = h('p', { class: 'log-scope', 'data-testid': 'log-scope', 'data-watch': 'none', role: 'status' }, UNWATCHED);
  const el = h('section', { class: 'panel log-panel', 'aria-label': 'event log' }, h('header', { class: 'panel-head' }, h('h2', {}, 'Events'), title, count), scope, list, detail);

  const keyOf = (ev) => `${ev.node}\u0000${ev.seq}`;
  const add = (ev) => {
    const key = keyOf(ev);
    if (seen.has(key)) return false;
    seen.add(key);
    entries.push(ev);
    return true;
  };
  const trim = () => {
    if (entries.length <= KEEP * 1.2) return;
    for (const ev of entries.slice(0, entries.length - KEEP)) seen.delete(keyOf(ev));
    entries = entries.slice(-KEEP);
  };
  const wanted = (ev) => {
    const sel = model.selected;
    return !sel || (ev.node === sel.node && (ev.actor === sel.actor || ev.supervisor === sel.actor));
  };

  function reset() {
    entries = [];
    seen.clear();
    cursor = 0;
    const sel = model.selected;
    setText(title, sel ? `${sel.actor} @ ${sel.node}` : 'all actors');
    for (const ev of model.recent.filter(wanted).slice(-KEEP)) add(ev);
    dirty = true;
    if (!sel) return;
    const mine = ++ticket;
    request({ op: 'events', node: sel.node, actor: sel.actor, limit: HISTORY }).then(
      (result) => {
        if (mine !== ticket) return;
        const history = Array.isArray(result) ? result : Array.isArray(result?.events) ? result.events : [];
        for (const ev of history) if (ev && typeof ev.seq === 'number') add(ev);
        entries.sort((a, b) => (a.node === b.node ? a.seq - b.seq : a.at - b.at));
        trim();
        dirty = true;
        schedule();
      },
      () => {
        // The live stream still fills the log; history is a nicety.
      },
    );
  }

  function render() {
    setText(count, String(entries.length));
    for (let i = 0; i < SLOTS; i++) {
      const slot = slots[i];
      const ev = entries[entries.length - 1 - i];
      setText(slot.at, ev ? clockTime(ev.at) : '');
      setText(slot.kind, ev ? ev.kind : '');
      setText(slot.text, ev ? summary(ev) : '');
      slot.el.dataset.kind = ev ? ev.kind : '';
      setClass(slot.el, 'cursor', !!ev && i === cursor);
    }
    const current = entries[entries.length - 1 - cursor];
    setText(detail, current ? json(current, 2) : '');
  }

  list.addEventListener('keydown', (e) => {
    const max = Math.min(SLOTS, entries.length) - 1;
    const moves = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity, PageDown: 10, PageUp: -10 };
    if (!(e.key in moves)) return;
    e.preventDefault();
    cursor = Math.max(0, Math.min(max, cursor + moves[e.key]));
    slots[cursor]?.el.scrollIntoView({ block: 'nearest' });
    dirty = true;
    schedule();
  });
  list.addEventListener('click', (e) => {
    const row = /** @type {HTMLElement} */ (e.target).closest('.log-row');
    if (!row) return;
    cursor = Number(/** @type {HTMLElement} */ (row).dataset.index);
    dirty = true;
    schedule();
  });

  return {
    el,
    /**
     * What the scope line says about the selected actor's watch.
     * @param {'none' | 'pending' | 'on' | 'failed'} state
     * @param {{ node: string, actor: string } | null} target
     * @param {string} [why] the error, when it failed
     */
    watch(state, target, why) {
      scope.dataset.watch = state;
      if (state === 'none' || !target) setText(scope, UNWATCHED);
      else if (state === 'failed') setText(scope, `Messages of ${target.actor} cannot be shown: ${why ?? 'not watched'}. State changes still show (sampled).`);
      else setText(scope, `Showing the messages of ${target.actor} (watched while selected) and its exact transitions.`);
    },
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (changes.selection) reset();
      for (const ev of changes.events) if (wanted(ev) && add(ev)) dirty = true;
      trim();
      if (dirty) {
        render();
        dirty = false;
      }
    },
  };
}

/** One line for an event. */
function summary(ev) {
  switch (ev.kind) {
    case 'event': {
      const { type, ...rest } = ev.event ?? {};
      const payload = Object.keys(rest).length > 0 ? ` ${json(rest)}` : '';
      const to = ev.child ? ` (its child ${ev.child})` : '';
      return `${ev.actor}${to} ← ${type ?? '?'}${ev.source ? ` from ${ev.source}` : ''}${payload}${ev.truncated ? ' (cut)' : ''}`;
    }
    case 'transition':
      // Per flush the server sends one transition per actor: `coalesced` says how many it stands for. A sampled
      // one (the actor is not watched) has no event: the server only saw that the state changed.
      if (ev.sampled || ev.event === undefined) return `${ev.actor} → ${stateLabel(ev.state)} (sampled${ev.coalesced > 1 ? `; ${ev.coalesced} messages` : ''})`;
      return `${ev.actor} → ${stateLabel(ev.state)} on ${ev.event}${ev.coalesced > 1 ? ` (×${ev.coalesced})` : ''}`;
    case 'actor.started':
    case 'actor.stopped':
      return `${ev.actor}${ev.info ? ` ${json(ev.info)}` : ''}`;
    case 'restart':
      return `${ev.actor} restarted by ${ev.supervisor}${ev.restarts !== undefined ? ` (#${ev.restarts})` : ''}${ev.reason ? `: ${ev.reason}` : ''}`;
    case 'escalated':
      return `${ev.supervisor} escalated (${ev.actor})${ev.reason ? `: ${ev.reason}` : ''}`;
    case 'approval.requested':
      return `approval ${ev.approval} requested`;
    case 'approval.decided':
      return `approval ${ev.approval} ${ev.decision ?? 'decided'}${ev.by ? ` by ${ev.by}` : ''}${ev.reason ? `: ${ev.reason}` : ''}`;
    case 'system':
      return `${ev.type} ${json(ev.data)}`;
    default:
      return json(ev);
  }
}
