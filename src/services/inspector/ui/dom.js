// Small DOM and formatting helpers shared by the views. No framework: views
// build their elements once and afterwards only change text and classes, so a
// stream of deltas never re-creates what is already on screen.

/**
 * Creates an element: `h('div', { class: 'x', 'data-testid': 'y' }, 'text', child)`.
 * Attributes starting with `on` become listeners; `null`/`false` attributes are skipped.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
  return el;
}

/** Same as `h` for SVG elements. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(key, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Sets text only when it changed (a same-value write still costs a style pass). */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

/** Sets a `data-*` attribute only when it changed (a same-value write still invalidates style). */
export function setData(el, key, value) {
  const v = String(value);
  if (el.dataset[key] !== v) el.dataset[key] = v;
}

/** Sets an attribute only when it changed. */
export function setAttr(el, name, value) {
  const v = String(value);
  if (el.getAttribute(name) !== v) el.setAttribute(name, v);
}

/** Toggles a class only when needed. */
export function setClass(el, name, on) {
  if (el.classList.contains(name) !== on) el.classList.toggle(name, on);
}

/** Restarts a one-shot CSS animation class (e.g. a flash) on an element. */
export function replay(el, name) {
  el.classList.remove(name);
  // Reading offsetWidth is the classic way to let the removal take effect; the
  // element's box does not change, so this is a style flush, not a layout jump.
  void el.offsetWidth;
  el.classList.add(name);
}

/** The key one actor has across the page: actors are named per node. */
export function actorKey(node, id) {
  return `${node}\u0000${id}`;
}

/** An XState state value as one word (`idle`, `booking.waiting`, parallel regions joined by `,`). */
export function stateLabel(value) {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '-';
  if (typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const parts = Object.entries(value).map(([key, sub]) => {
    const inner = stateLabel(sub);
    return inner === '-' ? key : `${key}.${inner}`;
  });
  return parts.length === 0 ? '-' : parts.join(',');
}

/** A number for a table cell: `-` for null, integers as is, others with `digits` decimals. */
export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** A clock time (ms) as `hh:mm:ss.mmm`, in the browser's time zone. */
export function clockTime(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** JSON for display; never throws (cycles or BigInt become a note). */
export function json(value, indent = 0) {
  try {
    return JSON.stringify(value, null, indent) ?? String(value);
  } catch {
    return '[unprintable]';
  }
}
