// From an XState v5 machine definition (`machine.toJSON()`, sent through JSON)
// to an ELK graph: one ELK node per state (compound states and parallel
// regions hold their children, so ELK lays out the hierarchy), one edge per
// transition target. Targetless transitions (actions only) become a list of
// event names inside their state. Pure: no DOM; text is measured by the caller.

/**
 * @typedef {{ id: string, key: string, type: string, depth: number, parent: string | null, internal: string[], initial: string | null }} StateInfo
 * @typedef {{ id: string, source: string, target: string, event: string, label: string }} EdgeInfo
 */

const FONT_H = 14;
const PAD = 10;
const HEADER = 26;

/** A readable name for an event type: XState's internal ones are long. */
export function eventLabel(type) {
  if (typeof type !== 'string') return '?';
  let m = /^xstate\.after\.(\d+)\./.exec(type);
  if (m) return `after ${m[1]} ms`;
  m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (m) return `${m[1]}: ${m[2]}`;
  if (type.startsWith('xstate.done.state.')) return 'done';
  if (type === '') return 'always';
  return type;
}

/** What a compound state's header says: its name, then the events it handles without leaving. */
export function compoundHeader(state) {
  return state.internal.length > 0 ? `${state.key} — ${state.internal.join(' · ')}` : state.key;
}

/** `#machine.a.b` or `machine.a.b` → `machine.a.b`. */
const stripHash = (t) => (typeof t === 'string' && t.startsWith('#') ? t.slice(1) : String(t));

/** The guard's name, when the definition kept it (`{ type: 'hasWork' }` or a string). */
function guardName(t) {
  const g = t?.guard;
  if (typeof g === 'string') return g;
  if (g && typeof g === 'object' && typeof g.type === 'string') return g.type;
  return g ? 'guard' : null;
}

/**
 * Walks the definition: every state, every edge with a target.
 * @param {any} definition
 * @returns {{ states: Map<string, StateInfo>, edges: EdgeInfo[] }}
 */
export function machineGraph(definition) {
  /** @type {Map<string, StateInfo>} */
  const states = new Map();
  /** @type {EdgeInfo[]} */
  const edges = [];
  const walk = (node, parent, depth) => {
    const id = String(node.id ?? node.key ?? 'machine');
    const children = Object.values(node.states ?? {});
    const initial = Array.isArray(node.initial?.target) && node.initial.target.length > 0 ? stripHash(node.initial.target[0]) : null;
    /** @type {StateInfo} */
    const info = { id, key: String(node.key ?? id), type: String(node.type ?? (children.length ? 'compound' : 'atomic')), depth, parent, internal: [], initial };
    states.set(id, info);
    // XState's toJSON leaves eventless (`always`) transitions out; a server that adds them as `always` gets them drawn.
    const on = Array.isArray(node.always) && node.always.length > 0 ? { ...(node.on ?? {}), '': node.always } : (node.on ?? {});
    for (const [eventType, list] of Object.entries(on)) {
      for (const t of Array.isArray(list) ? list : [list]) {
        const guard = guardName(t);
        const label = eventLabel(eventType) + (guard ? ` [${guard}]` : '');
        const targets = Array.isArray(t?.target) ? t.target : [];
        if (targets.length === 0) {
          if (!info.internal.includes(label)) info.internal.push(label);
          continue;
        }
        for (const target of targets) edges.push({ id: `e${edges.length}`, source: id, target: stripHash(target), event: eventType, label });
      }
    }
    for (const child of children) walk(child, id, depth + 1);
  };
  walk(definition, null, 0);
  // A target the definition does not describe (malformed input) would make ELK throw: drop it.
  return { states, edges: edges.filter((e) => states.has(e.target)) };
}

/**
 * The ELK graph for a machine graph. The root machine is the ELK root; `measure`
 * gives a text's width in px at the chart's font.
 * @param {{ states: Map<string, StateInfo>, edges: EdgeInfo[] }} graph
 * @param {(text: string) => number} measure
 * @param {'RIGHT' | 'DOWN'} [direction]
 */
export function elkGraph(graph, measure, direction = 'RIGHT') {
  const elkNodes = new Map();
  let root = null;
  for (const s of graph.states.values()) {
    const isLeaf = ![...graph.states.values()].some((c) => c.parent === s.id);
    /** @type {any} */
    const n = { id: s.id, labels: [{ text: s.key, width: measure(s.key), height: FONT_H }] };
    if (isLeaf) {
      const lines = [s.key, ...s.internal.slice(0, 4), ...(s.internal.length > 4 ? [`+${s.internal.length - 4} more`] : [])];
      n.width = Math.max(64, ...lines.map((l, i) => measure(l) * (i === 0 ? 1 : 0.9))) + 2 * PAD;
      n.height = 20 + FONT_H * lines.length;
    } else {
      n.children = [];
      // The header holds the name and the state's own targetless events; keep the box at least that wide.
      const header = compoundHeader(s);
      n.layoutOptions = {
        'elk.padding': `[top=${HEADER + 6},left=${PAD},bottom=${PAD},right=${PAD}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${Math.ceil(measure(header) + 2 * PAD)}, ${HEADER + 20})`,
      };
    }
    elkNodes.set(s.id, n);
    if (s.parent === null) root = n;
    else elkNodes.get(s.parent)?.children?.push(n);
  }
  // Initial states are marked when drawn, not with marker nodes: each marker would cost ELK a layer of width.
  const edges = graph.edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target], labels: [{ text: e.label, width: measure(e.label) * 0.9, height: FONT_H }] }));
  return {
    id: '__chart',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.spacing.nodeNodeBetweenLayers': '28',
      // States in the order the machine lists them (the initial one usually first), where the layering allows.
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.spacing.nodeNode': '20',
      'elk.spacing.edgeLabel': '2',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: root ? [root] : [],
    edges,
  };
}

/**
 * The state ids a state value makes active: the root, each state named by the
 * value, and their ancestors (`{ b: 'x' }` → root, `m.b`, `m.b.x`).
 * @param {any} definition
 * @param {unknown} value
 * @returns {Set<string>}
 */
export function activeIds(definition, value) {
  const out = new Set();
  if (!definition) return out;
  const walk = (node, v) => {
    out.add(String(node.id ?? node.key));
    if (typeof v === 'string') {
      const child = node.states?.[v];
      if (child) walk(child, undefined);
    } else if (v && typeof v === 'object') {
      for (const [key, sub] of Object.entries(v)) {
        const child = node.states?.[key];
        if (child) walk(child, sub);
      }
    }
  };
  walk(definition, value);
  return out;
}

/**
 * The edges a transition took: `event` from a state that was active to one that now is. When the
 * machine went on from there in the same step (an eventless or done transition), the first hop: `event`
 * from a state that was active.
 */
export function takenEdges(graph, event, before, after) {
  const from = graph.edges.filter((e) => e.event === event && before.has(e.source));
  const landed = from.filter((e) => after.has(e.target));
  return landed.length > 0 ? landed : from;
}
