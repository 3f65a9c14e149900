// The lineage of one turn: a trace id or `<actor>#<turn>` → the `trace` request
// → prompt, sources, tool calls, output. The reply's shape belongs to the
// server, so it is drawn generically: known sections first in turn order, then
// anything else, objects as definition lists, arrays as numbered cards.

import { clockTime, fmt, h, json } from './dom.js';

/** Sections in the order a turn produces them; matched case-insensitively on the reply's keys. */
const ORDER = ['actor', 'turn', 'traceId', 'trace', 'prompt', 'messages', 'input', 'sources', 'retrieved', 'toolCalls', 'tools', 'calls', 'spans', 'output', 'result', 'reply'];

/**
 * @param {{ model: import('./model.js').Model, request: (r: Record<string, unknown>) => Promise<any> }} deps
 */
export function createTrace({ model, request }) {
  const ref = h('input', { type: 'text', placeholder: 'trace id or actor#turn', 'aria-label': 'trace id or actor#turn', 'data-testid': 'trace-ref' });
  const go = h('button', { type: 'submit', 'data-testid': 'trace-go' }, 'Show');
  const out = h('div', { class: 'trace-out', 'data-testid': 'trace-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'form-row' }, ref, go);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = ref.value.trim();
    if (!text) return;
    // The node: the one the named actor lives on, else the selected actor's, else the serving node.
    const actor = text.includes('#') ? text.slice(0, text.indexOf('#')) : null;
    const row = actor ? [...model.rows.values()].find((r) => r.id === actor) : undefined;
    const node = row?.node ?? model.selected?.node ?? model.served ?? [...model.nodes.keys()][0];
    out.replaceChildren(h('p', { class: 'note' }, 'Loading…'));
    try {
      const reply = await request({ op: 'trace', node, ref: text });
      out.replaceChildren(isTurns(reply) ? turns(reply) : render(reply, 0));
    } catch (err) {
      out.replaceChildren(h('p', { class: 'error' }, `${err?.code ?? 'ERROR'}: ${err?.message ?? String(err)}`));
    }
  });

  return {
    el: h('div', { class: 'tab-body' }, form, out),
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (changes.selection && model.selected && !ref.value) ref.placeholder = `trace id, or ${model.selected.actor}#<turn>`;
    },
  };
}

/** The lineage records of `node.lineage.find`: turns, each with its sensitive calls. */
function isTurns(value) {
  return Array.isArray(value) && value.length > 0 && value.every((t) => t && typeof t === 'object' && Array.isArray(t.calls) && typeof t.actor === 'string');
}

/** Turns in order, each call as a card: prompt / query → sources → arguments → output, hashes beside any text. */
function turns(list) {
  return h(
    'div',
    { class: 'turns' },
    ...list.map((t) =>
      h(
        'section',
        { class: 'turn', 'data-turn': `${t.actor}#${t.turn}` },
        h('h3', {}, `${t.actor}#${t.turn} · "${t.message?.type ?? '?'}"${t.message?.from ? ` from ${t.message.from}` : ''}`),
        h('div', { class: 'muted small' }, `node ${t.node} · ${clockTime(t.at)}${t.traceId ? ` · trace ${t.traceId}` : ''}${t.omitted ? ` · ${t.omitted} more calls not recorded` : ''}`),
        t.calls.length === 0 ? h('p', { class: 'muted' }, 'no sensitive calls') : h('ol', { class: 'cards' }, ...t.calls.map((c) => h('li', { class: 'card', 'data-kind': c.kind }, ...call(c)))),
      ),
    ),
  );
}

function call(c) {
  const outcome = c.outcome === 'ok' ? `ok${typeof c.ms === 'number' ? ` ${fmt(c.ms)} ms` : ''}` : c.outcome === 'error' ? `error ${c.code ?? ''}` : 'pending';
  const parts = [
    h('div', {}, h('strong', {}, `${c.kind} ${c.name}`), c.model && c.model !== c.name ? ` → ${c.model}` : '', c.version ? ` v${c.version}` : '', c.onBehalfOf ? ` for ${c.onBehalfOf}` : '', h('span', { class: c.outcome === 'error' ? 'error' : 'muted' }, ` · ${outcome}`)),
  ];
  const digest = (label, d) => {
    if (!d) return;
    parts.push(h('dl', { class: 'kv' }, h('dt', {}, label), h('dd', {}, d.text === undefined ? h('code', { class: 'muted', title: d.hash }, `sha256 ${String(d.hash).slice(0, 16)}…`) : render(d.text, 2))));
  };
  digest('prompt', c.prompt);
  digest('query', c.query);
  if (Array.isArray(c.sources) && c.sources.length > 0) {
    parts.push(h('dl', { class: 'kv' }, h('dt', {}, 'sources'), h('dd', {}, h('ul', {}, ...c.sources.map((s) => h('li', {}, `${s.sourceId}#${s.chunk} `, h('span', { class: 'muted' }, s.ref)))))));
  }
  digest('args', c.args);
  digest('output', c.output);
  if (c.tokens) parts.push(h('div', { class: 'muted small' }, `tokens ${c.tokens.prompt} + ${c.tokens.completion}`));
  return parts;
}

/** A reply value as readable blocks; depth-limited so a huge reply stays bounded. */
function render(value, depth) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, '—');
  if (typeof value !== 'object') {
    const text = String(value);
    return text.length > 80 || text.includes('\n') ? h('pre', { class: 'text' }, text) : h('span', {}, text);
  }
  if (depth > 4) return h('pre', { class: 'text' }, json(value, 2));
  if (Array.isArray(value)) {
    if (value.length === 0) return h('span', { class: 'muted' }, '(none)');
    return h('ol', { class: 'cards' }, ...value.slice(0, 100).map((v) => h('li', { class: 'card' }, render(v, depth + 1))), value.length > 100 ? h('li', { class: 'muted' }, `+${value.length - 100} more`) : null);
  }
  const keys = Object.keys(value);
  const rank = (k) => {
    const i = ORDER.findIndex((o) => o.toLowerCase() === k.toLowerCase());
    return i < 0 ? ORDER.length : i;
  };
  keys.sort((a, b) => rank(a) - rank(b));
  return h('dl', { class: depth === 0 ? 'trace-top' : 'kv' }, ...keys.flatMap((k) => [h('dt', { 'data-key': k }, k), h('dd', {}, render(value[k], depth + 1))]));
}
