// The registry of model and tool versions a binding chooses from, and the attribute checks
// (`must` never relaxed, `prefer` only ranks) applied to every candidate. Pure data and predicates.

import { ContractError } from '../../base/errors.js';
import { parseVersion, type Version } from './version.js';

export const INVALID_BINDING_REQUEST = 'INVALID_BINDING_REQUEST';

/** An attribute value: list-valued attributes (e.g. `privacy: ['phi', 'pii']`) match a wanted value they contain. */
export type AttributeValue = string | number | boolean | readonly string[];

/** A constraint value in `must` / `prefer`. */
export type ConstraintValue = string | number | boolean;

/** One available version of a model or tool. */
export interface RegistryEntry {
  name: string;
  /** `v2`, `2` or `2.1.0`. */
  version: string;
  /** Content hash of the artifact (e.g. `sha256:…`), copied into manifests. */
  hash: string;
  kind?: 'model' | 'tool';
  /** `placement`, `privacy`, `provider`, … */
  attributes: Readonly<Record<string, AttributeValue>>;
  /** The SLOs this version is published with (e.g. `{ p95LatencyMs: 300 }`). */
  slo?: Readonly<Record<string, number>>;
}

export interface Registry {
  list(): readonly RegistryEntry[];
}

/** A registry entry with its parsed version. */
export interface Candidate {
  entry: RegistryEntry;
  version: Version;
}

/** A registry over a fixed list; validates every entry once (names, versions, unique hashes). */
export function staticRegistry(entries: readonly RegistryEntry[]): Registry {
  entries.forEach((e, i) => {
    const field = `registry[${i}]`;
    if (typeof e?.name !== 'string' || e.name.length === 0) throw new ContractError(INVALID_BINDING_REQUEST, `${field}.name must be a non-empty string`, { field: `${field}.name` });
    if (typeof e.hash !== 'string' || e.hash.length === 0) throw new ContractError(INVALID_BINDING_REQUEST, `${field}.hash must be a non-empty string`, { field: `${field}.hash` });
    parseVersion(e.version, `${field}.version`);
    const twin = entries.findIndex((other) => other.hash === e.hash);
    if (twin !== i) throw new ContractError(INVALID_BINDING_REQUEST, `${field}.hash repeats registry[${twin}].hash: a hash names one artifact`, { field: `${field}.hash` });
  });
  const copy = entries.map((e) => ({ ...e, attributes: { ...e.attributes }, ...(e.slo && { slo: { ...e.slo } }) }));
  return { list: () => copy };
}

/** Every entry named `name`, with parsed versions. */
export function candidatesNamed(registry: Registry, name: string): Candidate[] {
  return registry.list().filter((e) => e.name === name).map((entry) => ({ entry, version: parseVersion(entry.version) }));
}

export function matchesValue(actual: AttributeValue | undefined, wanted: ConstraintValue): boolean {
  if (actual === undefined) return false;
  if (Array.isArray(actual)) return actual.includes(wanted as string);
  return actual === wanted;
}

export interface MustViolation {
  attribute: string;
  expected: ConstraintValue;
  actual: AttributeValue | null;
}

/** Every `must` constraint the entry fails (empty: it satisfies all of them). */
export function mustViolations(entry: RegistryEntry, must: Readonly<Record<string, ConstraintValue>>): MustViolation[] {
  return Object.keys(must).sort().flatMap((attribute) => {
    const actual = entry.attributes[attribute];
    return matchesValue(actual, must[attribute]) ? [] : [{ attribute, expected: must[attribute], actual: actual ?? null }];
  });
}

export function describeViolation(v: MustViolation): string {
  const actual = v.actual === null ? 'no ' + v.attribute : `${v.attribute}=${Array.isArray(v.actual) ? `[${v.actual.join(',')}]` : String(v.actual)}`;
  return `has ${actual}, must be ${v.attribute}=${String(v.expected)}`;
}

/** How many `prefer` entries the candidate meets. */
export function preferenceScore(entry: RegistryEntry, prefer: Readonly<Record<string, ConstraintValue>> | undefined): number {
  if (!prefer) return 0;
  return Object.keys(prefer).filter((k) => matchesValue(entry.attributes[k], prefer[k])).length;
}
