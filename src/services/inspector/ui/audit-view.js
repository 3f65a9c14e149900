// The audit log of each node: head hash, length, and whether it verified, with
// a button that asks the node to verify its chain end to end (`audit.verify`).

import { h, json, setText } from './dom.js';

/**
 * @param {{ model: import('./model.js').Model, request: (r: Record<string, unknown>) => Promise<any> }} deps
 */
export function createAudit({ model, request }) {
  const list = h('div', { class: 'audit', 'data-testid': 'audit' });
  /** @type {Map<string, { el: HTMLElement, head: HTMLElement, length: HTMLElement, status: HTMLElement, result: HTMLElement }>} */
  const cards = new Map();
  /** Results of verifications asked for from this page, by node. */
  const verified = new Map();

  async function verify(node) {
    const card = cards.get(node);
    if (!card) return;
    setText(card.result, 'verifying…');
    try {
      const reply = await request({ op: 'audit.verify', node });
      const ok = reply === true || reply?.ok === true;
      verified.set(node, ok);
      card.result.dataset.ok = String(ok);
      setText(card.result, ok ? `verified${typeof reply?.size === 'number' ? ` (${reply.size} records)` : ''}` : `FAILED: ${reply?.problem ?? json(reply)}`);
      paint(node);
    } catch (err) {
      card.result.dataset.ok = 'false';
      setText(card.result, `${err?.code ?? 'ERROR'}: ${err?.message ?? String(err)}`);
    }
  }

  function card(node) {
    const head = h('code', { class: 'hash', 'data-testid': 'audit-head' });
    const length = h('span', { 'data-testid': 'audit-length' });
    const status = h('span', { class: 'verify-status', 'data-testid': 'audit-status' });
    const result = h('span', { class: 'result', role: 'status', 'data-testid': 'audit-result' });
    const button = h('button', { 'data-testid': 'audit-verify', onclick: () => verify(node) }, 'Verify');
    const el = h(
      'div',
      { class: 'audit-card', 'data-node': node },
      h('div', {}, h('strong', {}, node)),
      h('dl', {}, h('dt', {}, 'head'), h('dd', {}, head), h('dt', {}, 'records'), h('dd', {}, length), h('dt', {}, 'status'), h('dd', {}, status)),
      h('div', { class: 'buttons' }, button, result),
    );
    return { el, head, length, status, result };
  }

  function paint(node) {
    const view = model.nodes.get(node);
    const c = cards.get(node);
    if (!view || !c) return;
    const audit = view.audit ?? { head: null, length: 0, verified: null };
    setText(c.head, audit.head ? `${audit.head.slice(0, 24)}…` : '(empty)');
    c.head.title = audit.head ?? '';
    setText(c.length, String(audit.length));
    const v = verified.get(node) ?? audit.verified;
    setText(c.status, v === null || v === undefined ? 'not verified yet' : v ? 'verified ✓' : 'verification FAILED ✗');
    c.status.dataset.ok = v === null || v === undefined ? '' : String(v);
  }

  return {
    el: h('div', { class: 'tab-body' }, list),
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (!changes.views && !changes.snapshot) return;
      for (const node of model.nodes.keys()) {
        if (!cards.has(node)) {
          const c = card(node);
          cards.set(node, c);
          list.append(c.el);
        }
        paint(node);
      }
      for (const [node, c] of cards) {
        if (model.nodes.has(node)) continue;
        c.el.remove();
        cards.delete(node);
      }
    },
  };
}
