// What of a payload the inspector may show, and how much of it. Two pure steps:
// the actor's contract filter (`observability.log_fields` names the payload
// fields an operator may read; `type` always shows, every other field becomes
// "[redacted]"), then a bounded copy (plain JSON, cut at a byte budget, marked
// truncated) so no event the page gets is larger than the bound, whatever the
// actor put in it. Both run at flush time, never on the inspection hot path.

export const REDACTED = '[redacted]';
/** What a cut value becomes. */
export const CUT = '[…]';
/** Default bound on one payload as JSON (bytes, estimated). */
export const DEFAULT_PAYLOAD_BYTES = 2048;
const MAX_DEPTH = 8;

/** A compiled `log_fields` list: `a` shows field a whole, `b.c` only field c of object b. */
export type FieldTree = Map<string, FieldTree | true>;

/** Compile `log_fields` (field names, dotted for nested fields) into a tree. */
export function fieldTree(logFields: readonly string[] | undefined): FieldTree {
  const root: FieldTree = new Map();
  for (const field of logFields ?? []) {
    const parts = field.split('.').filter((p) => p.length > 0);
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const key = parts[i]!;
      const existing = node.get(key);
      if (existing === true) break; // a parent already shows it whole
      if (i === parts.length - 1) {
        node.set(key, true);
        break;
      }
      const next: FieldTree = existing ?? new Map();
      node.set(key, next);
      node = next;
    }
  }
  return root;
}

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** The fields the tree allows, each other one replaced by "[redacted]" (top level keeps `type`). Values are not copied. */
export function filterFields(value: unknown, allowed: FieldTree, top = true): unknown {
  if (!isPlain(value)) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const rule = allowed.get(key);
    const v = value[key];
    let shown: unknown;
    if ((top && key === 'type') || rule === true) shown = v;
    else if (rule !== undefined && isPlain(v)) shown = filterFields(v, rule, false);
    else shown = REDACTED;
    Object.defineProperty(out, key, { value: shown, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * `filterFields` then `boundedCopy` in one pass (no intermediate object): the
 * hub's per-message step. The result is a plain object; `type` is not forced.
 */
export function filteredCopy(value: unknown, allowed: FieldTree, maxBytes = DEFAULT_PAYLOAD_BYTES): { value: Record<string, unknown>; truncated: boolean } {
  const state: CopyState = { budget: maxBytes, truncated: false, marked: false };
  const out = isPlain(value) ? copyAllowed(value, allowed, state, true, new Set()) : {};
  return { value: out, truncated: state.truncated };
}

function copyAllowed(value: Record<string, unknown>, allowed: FieldTree, state: CopyState, top: boolean, open: Set<object>): Record<string, unknown> {
  open.add(value);
  state.budget -= 2;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const keyCost = key.length + 4;
    if (state.budget - keyCost <= 0) {
      const marker = cut(state);
      if (marker !== undefined) out[CUT] = marker;
      break;
    }
    state.budget -= keyCost;
    const rule = allowed.get(key);
    const v = value[key];
    let shown: unknown;
    if ((top && key === 'type') || rule === true) shown = copy(v, state, 1, open);
    else if (rule !== undefined && isPlain(v) && !open.has(v)) shown = copyAllowed(v, rule, state, false, open);
    else shown = spend(REDACTED.length + 2, REDACTED, state);
    if (shown !== undefined) Object.defineProperty(out, key, { value: shown, enumerable: true, writable: true, configurable: true });
  }
  open.delete(value);
  return out;
}

/** A JSON-safe copy of `value` of at most about `maxBytes` as JSON; what did not fit is "[…]" and `truncated` says so. */
export function boundedCopy(value: unknown, maxBytes = DEFAULT_PAYLOAD_BYTES): { value: unknown; truncated: boolean } {
  const state: CopyState = { budget: maxBytes, truncated: false, marked: false };
  const out = copy(value, state, 0, new Set());
  return { value: out, truncated: state.truncated };
}

interface CopyState {
  budget: number;
  truncated: boolean;
  /** A cut marker was placed. */
  marked: boolean;
}

/** Stop copying: the first cut leaves a marker, later ones (in enclosing arrays and objects) nothing. */
function cut(state: CopyState): string | undefined {
  state.truncated = true;
  state.budget = Math.min(state.budget, 0);
  if (state.marked) return undefined;
  state.marked = true;
  return CUT;
}

function copy(value: unknown, state: CopyState, depth: number, open: Set<object>): unknown {
  if (state.budget <= 0) return cut(state);
  switch (typeof value) {
    case 'string':
      return copyString(value, state);
    case 'number':
    case 'boolean': {
      const v = typeof value === 'number' && !Number.isFinite(value) ? null : value;
      return spend(String(v).length, v, state);
    }
    case 'bigint':
      return copyString(value.toString(), state);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return spend(4, null, state);
  const obj = value as object;
  if (open.has(obj)) return copyString('[Circular]', state);
  if (depth >= MAX_DEPTH) return cut(state);
  if (obj instanceof Error) return copy({ name: obj.name, message: obj.message, ...codeOf(obj) }, state, depth, open);
  if (obj instanceof Date) return copy(Number.isNaN(obj.getTime()) ? null : obj.toISOString(), state, depth, open);
  if (Array.isArray(obj)) {
    open.add(obj);
    state.budget -= 2;
    const out: unknown[] = [];
    for (const item of obj) {
      if (state.budget <= 0) {
        const marker = cut(state);
        if (marker !== undefined) out.push(marker);
        break;
      }
      const v = copy(item, state, depth + 1, open);
      out.push(v === undefined ? null : v);
      state.budget -= 1;
    }
    open.delete(obj);
    return out;
  }
  if (!isPlain(obj)) {
    // Class instances (an actor ref in an event, a Map): their name, never their insides.
    const name = (obj as { constructor?: { name?: unknown } }).constructor?.name;
    return copyString(`[${typeof name === 'string' && name ? name.slice(0, 64) : 'object'}]`, state);
  }
  open.add(obj);
  state.budget -= 2;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const keyCost = JSON.stringify(key).length + 2;
    if (state.budget - keyCost <= 0) {
      const marker = cut(state);
      if (marker !== undefined) out[CUT] = marker;
      break;
    }
    state.budget -= keyCost;
    const v = copy((obj as Record<string, unknown>)[key], state, depth + 1, open);
    if (v !== undefined) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  open.delete(obj);
  return out;
}

/** `value` if its `cost` fits the budget, else a cut. */
function spend(cost: number, value: unknown, state: CopyState): unknown {
  if (cost > state.budget) return cut(state);
  state.budget -= cost;
  return value;
}

/** A string as JSON fits the budget whole, or is cut (by characters) until it does and ends in "…". */
function copyString(value: string, state: CopyState): string {
  let text = value.length > state.budget ? value.slice(0, Math.max(0, state.budget)) : value;
  let size = JSON.stringify(text).length;
  if (text === value && size <= state.budget) {
    state.budget -= size;
    return value;
  }
  // Escapes make JSON longer than the text: shrink until the cut text and its marker fit.
  while (text.length > 0 && size + 1 > state.budget) {
    text = text.slice(0, Math.floor((text.length * Math.max(0, state.budget - 3)) / size));
    size = JSON.stringify(text).length;
  }
  state.truncated = true;
  state.marked = true;
  state.budget = 0;
  return `${text}…`;
}

function codeOf(err: Error): { code?: string } {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? { code } : {};
}
