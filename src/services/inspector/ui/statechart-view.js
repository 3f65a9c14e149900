// The live statechart of the selected actor: its machine definition (the
// `machine` request), laid out by ELK (layered, compound nodes for nested
// states) and drawn as SVG. The current state is highlighted from the actor's
// row (kept current by `transition` events); a transition that arrives while the
// chart is shown briefly animates the edge it took.

import { h, setClass, svg } from './dom.js';
import { activeIds, compoundHeader, elkGraph, machineGraph, takenEdges } from './machine-graph.js';

const FONT = '12px system-ui, sans-serif';

/**
 * @param {{ model: import('./model.js').Model, request: (r: Record<string, unknown>) => Promise<any> }} deps
 */
export function createStatechart({ model, request }) {
  const note = h('p', { class: 'note', 'data-testid': 'statechart-note' }, 'Select an actor to see its statechart.');
  const stage = h('div', { class: 'chart-stage' });
  const title = h('span', { class: 'subtitle', 'data-testid': 'statechart-actor' });
  // Fit the panel (default), or full size with scrolling for a large machine.
  const zoom = h('button', { type: 'button', class: 'zoom', 'data-testid': 'chart-zoom', 'aria-pressed': 'false', title: 'fit the panel / full size' }, '1:1');
  zoom.addEventListener('click', () => {
    const full = zoom.getAttribute('aria-pressed') !== 'true';
    zoom.setAttribute('aria-pressed', String(full));
    zoom.textContent = full ? 'fit' : '1:1';
    stage.classList.toggle('full', full);
  });
  const el = h('section', { class: 'panel chart-panel', 'aria-label': 'statechart', 'data-testid': 'statechart' }, h('header', { class: 'panel-head' }, h('h2', {}, 'Statechart'), title, zoom), note, stage);

  /** @type {{ key: string, definition: any, graph: ReturnType<typeof machineGraph>, groups: Map<string, SVGElement>, edges: Map<string, SVGElement>, active: Set<string> } | null} */
  let shown = null;
  let ticket = 0;
  /** Laid-out charts by definition text: every actor of one agent shares its machine. */
  const layouts = new Map();
  const canvas = document.createElement('canvas').getContext('2d');
  const measure = (text) => {
    if (!canvas) return text.length * 7;
    canvas.font = FONT;
    return canvas.measureText(text).width;
  };

  function say(text) {
    note.textContent = text;
    note.hidden = false;
  }

  async function load(node, actor) {
    const mine = ++ticket;
    shown = null;
    stage.replaceChildren();
    title.textContent = `${actor} @ ${node}`;
    say('Loading the machine…');
    let reply;
    try {
      reply = await request({ op: 'machine', node, actor });
    } catch (err) {
      if (mine === ticket) say(`Could not load the machine: ${err?.message ?? err}`);
      return;
    }
    if (mine !== ticket) return;
    if (!reply || !reply.definition) {
      say('No statechart: the node has no machine definition for this actor (its logic is not an XState machine, or the node does not know its definition).');
      el.dataset.chart = 'none';
      return;
    }
    const ELK = /** @type {any} */ (window).ELK;
    if (typeof ELK !== 'function') {
      say('No statechart: the layout library (/vendor/elk.js) did not load.');
      return;
    }
    const text = JSON.stringify(reply.definition);
    let both = layouts.get(text);
    const graph = machineGraph(reply.definition);
    let layout;
    try {
      if (!both) {
        // Left to right and top to bottom; the one that fills the panel best is drawn.
        const elk = new ELK();
        both = await Promise.all([elk.layout(elkGraph(graph, measure, 'RIGHT')), elk.layout(elkGraph(graph, measure, 'DOWN'))]);
        if (layouts.size > 20) layouts.delete(layouts.keys().next().value);
        layouts.set(text, both);
      }
      const scale = (l) => Math.min(stage.clientWidth / l.width, stage.clientHeight / l.height);
      layout = scale(both[1]) > scale(both[0]) * 1.15 ? both[1] : both[0];
    } catch (err) {
      if (mine === ticket) say(`Could not lay out the machine: ${err?.message ?? err}`);
      return;
    }
    if (mine !== ticket) return;
    const drawn = draw(layout, graph);
    stage.replaceChildren(drawn.svg);
    note.hidden = true;
    el.dataset.chart = 'machine';
    shown = { key: `${node}\u0000${actor}`, definition: reply.definition, graph, groups: drawn.groups, edges: drawn.edges, active: new Set() };
    highlight(model.selectedRow()?.state ?? reply.state);
  }

  function highlight(value) {
    if (!shown) return;
    const active = activeIds(shown.definition, value);
    for (const [id, g] of shown.groups) {
      const on = active.has(id);
      setClass(g, 'active', on);
      g.setAttribute('data-active', String(on));
    }
    shown.active = active;
    el.dataset.state = JSON.stringify(value ?? null);
  }

  /** A transition of the shown actor: highlight the new state, animate what it took (known only with its event). */
  function transition(ev) {
    if (!shown) return;
    const before = shown.active;
    highlight(ev.state);
    if (typeof ev.event !== 'string') return; // sampled: where it went is known, not how
    const taken = takenEdges(shown.graph, ev.event, before, shown.active);
    for (const edge of taken) flash(shown.edges.get(edge.id));
    if (taken.length === 0) {
      // A targetless transition: flash the states that handle the event.
      for (const id of before) if (shown.graph.states.get(id)?.internal.some((l) => l.startsWith(ev.event))) flash(shown.groups.get(id));
    }
  }

  return {
    el,
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      const sel = model.selected;
      if (changes.selection || (changes.snapshot && sel && !shown)) {
        if (sel) void load(sel.node, sel.actor);
        else {
          ticket++;
          shown = null;
          stage.replaceChildren();
          title.textContent = '';
          say('Select an actor to see its statechart.');
        }
        return;
      }
      if (!shown || !sel) return;
      const key = `${sel.node}\u0000${sel.actor}`;
      let moved = false;
      for (const ev of changes.events) {
        if (ev.kind === 'transition' && ev.node === sel.node && ev.actor === sel.actor) {
          transition(ev);
          moved = true;
        }
      }
      // A new view (or a restart, a status change) can move the state without a transition event.
      const row = model.selectedRow();
      if (!moved && row && (changes.views || changes.rows.has(key))) highlight(row.state);
    },
  };
}

/** Restarts the short "just happened" animation on an SVG element; `data-taken` counts them. */
function flash(el) {
  if (!el) return;
  el.setAttribute('data-taken', String(Number(el.getAttribute('data-taken') ?? 0) + 1));
  el.classList.remove('taken');
  void (/** @type {any} */ (el).getBBox?.());
  el.classList.add('taken');
}

/** Draws a laid-out ELK graph; returns the SVG and its state groups and edges by id. */
function draw(layout, graph) {
  const groups = new Map();
  const edges = new Map();
  const w = Math.ceil(layout.width);
  const hgt = Math.ceil(layout.height);
  const root = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'chart', role: 'img', 'aria-label': 'statechart', preserveAspectRatio: 'xMidYMid meet' });
  // Full size (the zoom button): the chart's own size, scrolled in the panel.
  root.style.setProperty('--w', `${w}px`);
  root.style.setProperty('--h', `${hgt}px`);
  root.append(
    svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '8', markerHeight: '8', markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))),
  );
  const nodesLayer = svg('g', { class: 'states' });
  const edgesLayer = svg('g', { class: 'edges' });
  const drawNode = (n) => {
    const state = graph.states.get(n.id);
    if (!state) return;
    const compound = Array.isArray(n.children) && n.children.length > 0;
    const g = svg('g', { class: `st st-${state.type}${compound ? ' compound' : ''}`, 'data-state-id': state.id, 'data-active': 'false' });
    g.addEventListener('animationend', (ev) => ev.target?.parentNode === g && g.classList.remove('taken'));
    g.append(svg('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 8 }));
    if (state.type === 'final') g.append(svg('rect', { x: n.x + 3, y: n.y + 3, width: n.width - 6, height: n.height - 6, rx: 6, class: 'inner' }));
    const label = svg('text', { x: n.x + 10, y: n.y + 18, class: 'st-name' });
    label.textContent = compound ? compoundHeader(state) : state.key;
    g.append(label);
    if (!compound) {
      const shownEvents = [...state.internal.slice(0, 4), ...(state.internal.length > 4 ? [`+${state.internal.length - 4} more`] : [])];
      shownEvents.forEach((text, i) => {
        const t = svg('text', { x: n.x + 10, y: n.y + 34 + i * 14, class: 'st-internal' });
        t.textContent = text;
        g.append(t);
      });
    }
    // The initial state of its parent: a dot on its left edge.
    if (state.parent !== null && graph.states.get(state.parent)?.initial === state.id) g.append(svg('circle', { cx: n.x, cy: n.y + Math.min(n.height / 2, 16), r: 4, class: 'initial' }));
    g.append(svg('title', {}, document.createTextNode(state.id)));
    groups.set(state.id, g);
    nodesLayer.append(g);
    for (const child of n.children ?? []) drawNode(child);
  };
  for (const child of layout.children ?? []) drawNode(child);
  for (const e of layout.edges ?? []) {
    const section = e.sections?.[0];
    if (!section) continue;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');
    const info = graph.edges.find((x) => x.id === e.id);
    const g = svg('g', { class: 'edge', 'data-edge': e.id, 'data-event': info?.event ?? '', 'data-taken': '0' });
    g.addEventListener('animationend', () => g.classList.remove('taken'));
    g.append(svg('path', { d, 'marker-end': 'url(#arrow)' }));
    for (const l of e.labels ?? []) {
      const t = svg('text', { x: l.x, y: l.y + 11, class: 'edge-label' });
      t.textContent = l.text;
      g.append(t);
    }
    edges.set(e.id, g);
    edgesLayer.append(g);
  }
  root.append(nodesLayer, edgesLayer);
  return { svg: root, groups, edges };
}
