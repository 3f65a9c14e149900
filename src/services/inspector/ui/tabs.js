// A tab strip (WAI-ARIA tabs: arrow keys move between tabs, the panel follows)
// for the secondary views that share one region of the page.

import { h, setText } from './dom.js';

export function createTabs() {
  const strip = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'more views' });
  const panels = h('div', { class: 'tab-panels' });
  /** @type {{ id: string, tab: HTMLElement, panel: HTMLElement, badge: HTMLElement }[]} */
  const all = [];

  function show(id, focus = false) {
    for (const t of all) {
      const on = t.id === id;
      t.tab.setAttribute('aria-selected', String(on));
      t.tab.tabIndex = on ? 0 : -1;
      t.panel.hidden = !on;
      if (on && focus) t.tab.focus();
    }
  }

  strip.addEventListener('keydown', (e) => {
    const i = all.findIndex((t) => t.tab === document.activeElement);
    if (i < 0) return;
    const step = { ArrowRight: 1, ArrowLeft: -1, Home: -i, End: all.length - 1 - i }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    show(all[(i + step + all.length) % all.length].id, true);
  });

  return {
    el: h('section', { class: 'panel tabs-panel' }, strip, panels),
    /** A tab; `counted` ones carry a badge (its room is kept while empty, so nothing moves when it fills). */
    add(id, title, content, counted = false) {
      const badge = counted ? h('span', { class: 'badge', 'data-testid': `${id}-badge` }) : h('span', { hidden: true });
      const tab = h('button', { class: 'tab', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`, 'data-testid': `tab-${id}` }, title, badge);
      const panel = h('div', { class: 'tab-panel', role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}` }, content);
      tab.addEventListener('click', () => show(id));
      strip.append(tab);
      panels.append(panel);
      all.push({ id, tab, panel, badge });
      show(all[0].id);
    },
    show,
    badge(id, n) {
      const t = all.find((x) => x.id === id);
      if (!t) return;
      setText(t.badge, n > 0 ? String(n) : '');
      t.badge.dataset.count = String(n);
    },
  };
}
