// Names that appear in contracts: capabilities (with a trailing `.*` wildcard),
// model allow globs, and binding targets (`asr_local_v2`, `asr_local_v2..v3`,
// the binder's grammar). Coverage rules are defined once here for semantics and merge.

import { segmentGlobRegExp } from '../../base/glob.js';

/** Agent names, as `defineAgent` accepts them: letters, digits, `_`, `.`, `-`; at most 128 characters. */
export { AGENT_NAME_PATTERN } from '../../base/names.js';
/**
 * Capability names: dotted lower-case segments, optionally ending in `.*`
 * (`web.fetch`, `ehr.read`, `payments.*`). Stricter than "`*` anywhere in a
 * segment": a wildcard is only ever a whole trailing segment.
 */
export const CAPABILITY_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?$/;
/**
 * Model ids and allow globs (`gpt-4o`, `llama3:8b`, `openai/gpt-4o*`, `local/**`):
 * `*` matches within one `/` segment, `**` across segments, `?` one character,
 * as admission's catalog matches them.
 */
export const MODEL_GLOB_PATTERN = /^[A-Za-z0-9*?][A-Za-z0-9._:/@+*?-]{0,127}$/;
/** Binding targets: `name_vA` (pinned) or `name_vA..vB` (range; bounds may be dotted: `v2.1`). */
export const VERSION_SPEC_PATTERN = /^([A-Za-z0-9][A-Za-z0-9_.-]*?)_v(\d{1,6}(?:\.\d{1,6}){0,3})(?:\.\.(?:([A-Za-z0-9][A-Za-z0-9_.-]*?)_)?v(\d{1,6}(?:\.\d{1,6}){0,3}))?$/;
/** Binding slots (`asr`, `llm`, `tts`). */
export const SLOT_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Memory namespaces: segments separated by `.`, `/` or `:`; no empty segment, no `..`. */
export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_-]*([./:][a-z0-9][a-z0-9_-]*)*$/;
export const ROLE_PATTERN = /^[a-z][a-z0-9_.:-]{0,63}$/;
export const LOG_FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;
/** ISO 4217 currency code. */
export const CURRENCY_CODE_PATTERN = /^[A-Z]{3}$/;

/**
 * Does `grant` cover `name`? Equal names cover each other; `a.*` covers every
 * name strictly below `a` (`a.b`, `a.b.c`, `a.b.*`) but not `a` itself.
 */
export function capabilityCovers(grant: string, name: string): boolean {
  if (grant === name) return true;
  if (!grant.endsWith('.*')) return false;
  const prefix = grant.slice(0, -1); // keep the dot: 'a.'
  return name.startsWith(prefix) && name.length > prefix.length;
}

/** True when some grant in `grants` covers `name`. */
export function coveredBy(grants: readonly string[], name: string): boolean {
  return grants.some((g) => capabilityCovers(g, name));
}

/** Do two capability patterns share at least one concrete name? */
export function capabilitiesOverlap(a: string, b: string): boolean {
  return capabilityCovers(a, b) || capabilityCovers(b, a);
}

/**
 * Does a model allow glob cover a model id, or every id another glob can match?
 * Glob-in-glob is decided conservatively: only by equality, or by a glob that is
 * a literal prefix plus a trailing `*` (same segment) or `**` (any depth).
 */
export function modelGlobMatches(glob: string, id: string): boolean {
  if (glob === id) return true;
  if (/[*?]/.test(id)) {
    const trailing = /^([^*?]*?)(\*\*?)$/.exec(glob);
    if (!trailing) return false;
    const [, prefix, star] = trailing as unknown as [string, string, string];
    const rest = id.slice(prefix.length);
    return id.startsWith(prefix) && (star === '**' || (!rest.includes('/') && !rest.includes('**')));
  }
  return segmentGlobRegExp(glob).test(id);
}

export type Version = readonly number[];
export interface BindingTarget {
  text: string;
  /** Model or tool name without version, e.g. `asr_local`. */
  name: string;
  low: Version;
  high: Version;
  /** Written without `..`. */
  pinned: boolean;
}

const compareVersions = (a: Version, b: Version): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

/**
 * `asr_local_v2` → pinned; `asr_local_v2..v3` (or `..asr_local_v3`) → the
 * range v2 through v3, the grammar the binder resolves. Returns a reason
 * string for a malformed or empty spec.
 */
export function parseBindingTarget(text: string): BindingTarget | string {
  if (text.length > 128) return `a version spec is at most 128 characters (got ${text.length})`;
  const m = VERSION_SPEC_PATTERN.exec(text);
  if (!m) return `"${text}" is not a version spec; expected name_vA or name_vA..vB, like asr_local_v2..v3`;
  const [, name, lowText, upperName, highText] = m as unknown as [string, string, string, string | undefined, string | undefined];
  if (upperName !== undefined && upperName !== name) return `"${text}" names two different things (${name} and ${upperName})`;
  const low = lowText.split('.').map(Number);
  const high = highText === undefined ? low : highText.split('.').map(Number);
  if (compareVersions(low, high) > 0) return `"${text}" is an empty range (v${lowText} is above v${highText})`;
  return { text, name, low, high, pinned: highText === undefined };
}
