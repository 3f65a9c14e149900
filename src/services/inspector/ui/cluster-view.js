// The cluster as the page sees it: the nodes that stream to it (their clock
// and actor count) and the members each of them knows, with status.

import { h } from './dom.js';

/** @param {{ model: import('./model.js').Model }} deps */
export function createCluster({ model }) {
  const out = h('div', { class: 'cluster', 'data-testid': 'cluster' });
  let shown = '';

  function render() {
    const views = [...model.nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
    // Redrawn only when what it shows changed (views come every stats window, members rarely change).
    const signature = JSON.stringify([model.served, views.map((v) => [v.node, v.actors?.length ?? 0, v.members])]);
    if (signature === shown) return;
    shown = signature;
    /** @type {Map<string, { nodeId: string, address: string, status: string, incarnation: number, seenBy: string[] }>} */
    const members = new Map();
    for (const v of views) {
      for (const m of v.members ?? []) {
        const known = members.get(m.nodeId);
        // Each node reports what it sees; show the highest incarnation's view.
        if (!known || m.incarnation > known.incarnation) members.set(m.nodeId, { ...m, seenBy: [...(known?.seenBy ?? []), v.node] });
        else known.seenBy.push(v.node);
      }
    }
    const nodes = h(
      'table',
      { class: 'plain' },
      h('thead', {}, h('tr', {}, h('th', {}, 'node'), h('th', {}, 'actors'), h('th', {}, ''))),
      h('tbody', {}, ...views.map((v) => h('tr', { 'data-node': v.node }, h('td', {}, v.node), h('td', {}, String(v.actors?.length ?? 0)), h('td', { class: 'muted' }, v.node === model.served ? 'serving this page' : '')))),
    );
    const memberRows = [...members.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    const table =
      memberRows.length === 0
        ? h('p', { class: 'note' }, views.length <= 1 ? 'Not in a cluster: this page shows one node.' : 'No membership information.')
        : h(
            'table',
            { class: 'plain', 'data-testid': 'members' },
            h('thead', {}, h('tr', {}, h('th', {}, 'member'), h('th', {}, 'address'), h('th', {}, 'status'), h('th', {}, 'inc.'))),
            h('tbody', {}, ...memberRows.map((m) => h('tr', { 'data-member': m.nodeId, 'data-status': m.status }, h('td', {}, m.nodeId), h('td', {}, m.address), h('td', { class: `status-${m.status}` }, m.status), h('td', {}, String(m.incarnation))))),
          );
    out.replaceChildren(h('h3', {}, 'Nodes on this page'), nodes, h('h3', {}, 'Members'), table);
  }

  return {
    el: h('div', { class: 'tab-body' }, out),
    /** @param {import('./model.js').Changes} changes */
    update(changes) {
      if (changes.views || changes.snapshot) render();
    },
  };
}
