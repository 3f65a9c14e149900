// Capability (and RBAC permission) patterns: `web.fetch` names one capability
// exactly; `web.*` covers every name starting with `web.` at any depth
// (`web.fetch`, `web.search.deep`) but not `web` itself; `*` covers everything.

import { ContractError } from '../../base/errors.js';
import { PolicyCodes } from './codes.js';

/**
 * `a.b.c` (segments separated by `.` or `:`, non-empty, no `*`, no
 * whitespace), the same ending in a whole `*` segment (`a.b.*`, `approve:*`),
 * or `*` alone.
 */
export function validateCapability(pattern: unknown, field = 'capabilities'): string {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw invalidPattern(field, `expected a non-empty string, got ${JSON.stringify(pattern)}`);
  }
  if (pattern === '*') return pattern;
  const segments = pattern.split(/[.:]/);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (seg.length === 0) throw invalidPattern(field, `"${pattern}" has an empty segment`);
    if (/\s/.test(seg)) throw invalidPattern(field, `"${pattern}" contains whitespace`);
    if (seg.includes('*') && !(last && seg === '*')) {
      throw invalidPattern(field, `"${pattern}": a wildcard may only be a whole final segment (e.g. "web.*", "approve:*")`);
    }
  }
  return pattern;
}

export function invalidPattern(field: string, why: string): ContractError {
  return new ContractError(PolicyCodes.invalidCapability, `Invalid pattern in ${field}: ${why}`, { field });
}

/** The literal prefix a wildcard pattern requires, or undefined for an exact pattern. */
function wildcardPrefix(pattern: string): string | undefined {
  return pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
}

/** Does `pattern` cover the concrete `name`? (No validation: hot path.) */
export function matches(pattern: string, name: string): boolean {
  if (name.length === 0 || name.includes('*')) return false;
  const prefix = wildcardPrefix(pattern);
  if (prefix === undefined) return pattern === name;
  return name.length > prefix.length && name.startsWith(prefix);
}

/** Does pattern `a` cover every name pattern `b` covers? */
export function covers(a: string, b: string): boolean {
  const pa = wildcardPrefix(a);
  const pb = wildcardPrefix(b);
  if (pa === undefined) return pb === undefined && a === b;
  if (pb === undefined) return b.length > pa.length && b.startsWith(pa);
  return pb.startsWith(pa);
}

/** Validated, deduplicated, sorted, with every pattern covered by another one dropped. */
export function normalize(patterns: readonly string[], field = 'capabilities'): string[] {
  const unique = [...new Set(patterns.map((p) => validateCapability(p, field)))];
  return unique.filter((p) => !unique.some((q) => q !== p && covers(q, p))).sort();
}

/**
 * The patterns covering exactly the names both `a` and `b` cover. Two
 * wildcards that both cover a name are nested, so the meet of a pair is
 * always the narrower of the two, or nothing:
 * `['web.*'] ∩ ['web.fetch', 'db.read'] = ['web.fetch']`.
 */
export function intersect(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  for (const x of a) {
    for (const y of b) {
      if (covers(x, y)) out.push(y);
      else if (covers(y, x)) out.push(x);
    }
  }
  return normalize(out);
}

/**
 * A compiled, immutable pattern set: exact names in a Set, wildcard prefixes
 * in a short array, so `allows` costs one hash lookup plus a few startsWith.
 */
export class CapabilitySet {
  static readonly empty = new CapabilitySet([]);

  readonly patterns: readonly string[];
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];
  private readonly all: boolean;

  private constructor(normalized: string[]) {
    this.patterns = Object.freeze(normalized);
    this.exact = new Set(normalized.filter((p) => !p.endsWith('*')));
    this.prefixes = normalized.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
    this.all = this.prefixes.includes('');
  }

  /** Validates every pattern (ContractError `INVALID_CAPABILITY` naming `field`). */
  static of(patterns: readonly string[] | CapabilitySet, field = 'capabilities'): CapabilitySet {
    if (patterns instanceof CapabilitySet) return patterns;
    if (!Array.isArray(patterns)) throw invalidPattern(field, 'expected an array of strings');
    return patterns.length === 0 ? CapabilitySet.empty : new CapabilitySet(normalize(patterns, field));
  }

  get size(): number {
    return this.patterns.length;
  }

  /** Is the concrete `name` covered? Names containing `*` are never concrete. */
  allows(name: string): boolean {
    if (this.exact.has(name)) return true;
    if (this.prefixes.length === 0 || name.length === 0 || name.includes('*')) return false;
    if (this.all) return true;
    for (const prefix of this.prefixes) {
      if (name.length > prefix.length && name.startsWith(prefix)) return true;
    }
    return false;
  }

  intersect(other: CapabilitySet): CapabilitySet {
    return new CapabilitySet(intersect(this.patterns, other.patterns));
  }

  toJSON(): readonly string[] {
    return this.patterns;
  }
}

/** Does the pattern list (or compiled set) cover the concrete `name`? */
export function allows(caps: readonly string[] | CapabilitySet, name: string): boolean {
  if (caps instanceof CapabilitySet) return caps.allows(name);
  for (const p of caps) if (matches(p, name)) return true;
  return false;
}
