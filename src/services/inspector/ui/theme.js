// Light, dark or the system's choice (prefers-color-scheme): a button that
// cycles the three, remembered in localStorage. The stylesheet does the rest.

import { h } from './dom.js';

const KEY = 'agentos.inspector.theme';
const NEXT = { auto: 'light', light: 'dark', dark: 'auto' };

export function createTheme() {
  let mode = 'auto';
  try {
    mode = localStorage.getItem(KEY) ?? 'auto';
  } catch {
    // storage may be disabled
  }
  if (!(mode in NEXT)) mode = 'auto';
  const button = h('button', { class: 'theme', 'data-testid': 'theme-toggle', type: 'button' });
  const apply = () => {
    if (mode === 'auto') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = mode;
    button.textContent = `theme: ${mode}`;
    button.title = 'switch between light, dark and the system setting';
  };
  button.addEventListener('click', () => {
    mode = NEXT[mode];
    try {
      localStorage.setItem(KEY, mode);
    } catch {
      // as above
    }
    apply();
  });
  apply();
  return { el: button };
}
