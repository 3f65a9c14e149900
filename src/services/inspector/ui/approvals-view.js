// The approvals queue: pending human approvals of every node (from the node
// views), each with approve / reject. Who decides is remembered in
// localStorage; why is optional for an approval and sent as the reason. The
// server's reply (or its error, e.g. a separation-of-duties refusal) is shown.

import { clockTime, h, json, setText } from './dom.js';

const WHO_KEY = 'agentos.inspector.who';

/**
 * @param {{ model: import('./model.js').Model, request: (r: Record<string, unknown>) => Promise<any>, schedule: () => void, onCount: (n: number) => void }} deps
 */
export function createApprovals({ model, request, schedule, onCount }) {
  const who = h('input', { type: 'text', placeholder: 'your name', 'aria-label': 'who decides', 'data-testid': 'approval-who', autocomplete: 'username' });
  const why = h('input', { type: 'text', placeholder: 'reason (optional)', 'aria-label': 'why', 'data-testid': 'approval-why' });
  const result = h('p', { class: 'result', role: 'status', 'data-testid': 'approval-result' });
  const list = h('div', { class: 'approvals', 'data-testid': 'approvals' });
  const empty = h('p', { class: 'note' }, 'No approvals waiting.');
  try {
    who.value = localStorage.getItem(WHO_KEY) ?? '';
  } catch {
    // storage may be disabled; the field still works
  }
  who.addEventListener('input', () => {
    try {
      localStorage.setItem(WHO_KEY, who.value.trim());
    } catch {
      // as above
    }
  });

  /** @type {Map<string, { el: HTMLElement, due: HTMLElement, deadline: number }>} */
  const items = new Map();

  async function decide(node, approval, op) {
    const by = who.value.trim();
    if (!by) {
      setText(result, 'Say who you are first (the "who" field): every decision is recorded with a name.');
      result.dataset.ok = 'false';
      who.focus();
      return;
    }
    const reason = why.value.trim();
    setText(result, `${op === 'approve' ? 'Approving' : 'Rejecting'} ${approval}…`);
    result.dataset.ok = '';
    try {
      const reply = await request({ op, node, approval, by, ...(reason ? { reason } : {}) });
      setText(result, `${approval}: ${op === 'approve' ? 'approved' : 'rejected'} by ${by}${reply !== undefined && reply !== null && reply !== true ? ` (${json(reply)})` : ''}`);
      result.dataset.ok = 'true';
      why.value = '';
      model.dropApproval(node, approval);
      schedule();
    } catch (err) {
      setText(result, `${approval}: ${err?.code ?? 'ERROR'}: ${err?.message ?? String(err)}`);
      result.dataset.ok = 'false';
    }
  }

  function item(node, a) {
    const due = h('span', { class: 'due' });
    const approve = h('button', { class: 'approve', 'data-testid': 'approve', onclick: () => decide(node, a.id, 'approve') }, 'Approve');
    const reject = h('button', { class: 'reject', 'data-testid': 'reject', onclick: () => decide(node, a.id, 'reject') }, 'Reject');
    const el = h(
      'article',
      { class: 'approval', 'data-testid': 'approval', 'data-approval': a.id, 'data-node': node },
      h('div', { class: 'approval-head' }, h('strong', {}, a.capability), h('span', { class: 'muted' }, ` for ${a.actor}`), due),
      h('div', { class: 'muted small' }, `${a.id} · node ${node} · tenant ${a.tenant}${a.team ? ` · team ${a.team}` : ''} · asked by ${a.requester}${a.onBehalfOf ? ` for ${a.onBehalfOf}` : ''}`),
      a.reason ? h('div', { class: 'small' }, a.reason) : null,
      h('pre', { class: 'args' }, json(a.args, 2)),
      h('div', { class: 'buttons' }, approve, reject, a.escalationLevel ? h('span', { class: 'badge warn' }, `escalated to ${a.escalateTo ?? 'escalation'}`) : null),
    );
    return { el, due, deadline: a.deadline };
  }

  function render() {
    const seen = new Set();
    let n = 0;
    for (const view of model.nodes.values()) {
      for (const a of view.approvals ?? []) {
        const key = `${view.node}\u0000${a.id}`;
        seen.add(key);
        n++;
        if (!items.has(key)) {
          const it = item(view.node, a);
          items.set(key, it);
          list.append(it.el);
        }
        const it = items.get(key);
        // Deadlines are on the node's clock; `now` is that clock when the view was taken.
        const left = Math.max(0, Math.round((a.deadline - view.now) / 1000));
        setText(it.due, ` · due ${clockTime(a.deadline)} (${left} s)`);
      }
    }
    for (const [key, it] of items) {
      if (seen.has(key)) continue;
      it.el.remove();
      items.delete(key);
    }
    empty.hidden = n > 0;
    onCount(n);
  }

  const el = h(
    'div',
    { class: 'tab-body approvals-body' },
    h('div', { class: 'form-row' }, h('label', {}, 'who ', who), h('label', {}, 'why ', why)),
    result,
    empty,
    list,
  );

  return {
    el,
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (changes.views || changes.snapshot) render();
    },
  };
}
