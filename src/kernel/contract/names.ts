// Names that appear in contracts: capabilities (with a trailing `.*` wildcard)
// and binding targets (exact ids or version ranges like `asr_local_v2..v3`).
// Coverage of capabilities is defined once here; policy and merge both use it.

/** Agent names: lower-case, start with a letter, at most 63 characters. */
export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
/**
 * Capability names: dotted lower-case segments, optionally ending in `.*`
 * (`web.fetch`, `ehr.read`, `payments.*`). Stricter than "`*` anywhere in a
 * segment": a wildcard is only ever a whole trailing segment.
 */
export const CAPABILITY_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?$/;
/** Model ids and binding targets: `gpt-4o`, `llama3:8b`, `openai/gpt-4o`, `asr_local_v2`. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;
/** Binding slots (`asr`, `llm`, `tts`). */
export const SLOT_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Memory namespaces: segments separated by `.`, `/` or `:`; no empty segment, no `..`. */
export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_-]*([./:][a-z0-9][a-z0-9_-]*)*$/;
export const ROLE_PATTERN = /^[a-z][a-z0-9_.:-]{0,63}$/;
export const LOG_FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;
/** ISO 4217 currency code. */
export const CURRENCY_CODE_PATTERN = /^[A-Z]{3}$/;

const RANGE_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._:/@+-]*?)_v(\d{1,6})\.\.v(\d{1,6})$/;

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

export type BindingTarget =
  | { kind: 'exact'; id: string }
  | { kind: 'range'; base: string; from: number; to: number };

/**
 * `asr_local_v2` → exact; `asr_local_v2..v3` → versions 2 through 3 of
 * `asr_local`. Returns a reason string for a malformed target.
 */
export function parseBindingTarget(text: string): BindingTarget | string {
  if (!text.includes('..')) {
    return MODEL_ID_PATTERN.test(text) ? { kind: 'exact', id: text } : `"${text}" is not a valid binding target`;
  }
  const m = RANGE_PATTERN.exec(text);
  if (!m) return `"${text}" is not a version range; expected <name>_v<from>..v<to> like asr_local_v2..v3`;
  const [, base, from, to] = m;
  if (Number(from) > Number(to)) return `version range "${text}" is empty (v${from} > v${to})`;
  return { kind: 'range', base: base as string, from: Number(from), to: Number(to) };
}
