// Version specs for binding: `name_vA` (pinned) and `name_vA..vB` (an inclusive range whose
// bounds cover every version they prefix, so `asr_v2..v3` spans 2.x and 3.x). Malformed specs
// are ContractErrors that quote the input and say what a valid spec looks like.

import { ContractError } from '../../base/errors.js';

export const INVALID_VERSION_RANGE = 'INVALID_VERSION_RANGE';

/** Numeric version segments: `v2.1` → [2, 1]. */
export type Version = readonly number[];

export interface VersionSpec {
  /** The spec as written. */
  text: string;
  /** Model or tool name, e.g. `asr_local`. */
  name: string;
  low: Version;
  high: Version;
  /** Written without `..`. */
  pinned: boolean;
}

const NUMBER = String.raw`\d+(?:\.\d+)*`;
const NAME = String.raw`[A-Za-z0-9][A-Za-z0-9_.-]*?`;
const VERSION = new RegExp(`^v?${NUMBER}$`);
const SPEC = new RegExp(`^(${NAME})_v(${NUMBER})(?:\\.\\.(?:(${NAME})_)?v(${NUMBER}))?$`);

function segments(text: string): Version {
  return text.split('.').map(Number);
}

/** Parse a registry version (`v2`, `2`, `2.1.0`). */
export function parseVersion(text: string, field = 'version'): Version {
  if (typeof text !== 'string' || !VERSION.test(text)) {
    throw new ContractError(INVALID_VERSION_RANGE, `${field}: "${String(text)}" is not a version (expected v2, 2 or 2.1.0)`, { field });
  }
  return segments(text.replace(/^v/, ''));
}

/** Compare as numbers segment by segment, missing segments being 0 (so v2 = v2.0). */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `bound` is a prefix of `v` (v3 prefixes 3.1.4). */
function prefixes(bound: Version, v: Version): boolean {
  return bound.every((s, i) => (v[i] ?? 0) === s);
}

/** `v` ≥ low and (v ≤ high or high prefixes v). */
export function inRange(v: Version, spec: VersionSpec): boolean {
  return compareVersions(v, spec.low) >= 0 && (compareVersions(v, spec.high) <= 0 || prefixes(spec.high, v));
}

/** `v` equals the pinned version exactly (v2 = v2.0 but not v2.1). */
export function isExactly(v: Version, spec: VersionSpec): boolean {
  return compareVersions(v, spec.low) === 0;
}

export function formatVersion(v: Version): string {
  return `v${v.join('.')}`;
}

/** Parse `name_vA` or `name_vA..vB` (the upper bound may repeat the name: `name_vA..name_vB`). */
export function parseVersionSpec(text: string, field = 'want'): VersionSpec {
  const example = 'expected name_vA or name_vA..vB, e.g. asr_local_v2..v3';
  if (typeof text !== 'string') {
    throw new ContractError(INVALID_VERSION_RANGE, `${field}: version spec must be a string (${example})`, { field });
  }
  const m = SPEC.exec(text.trim());
  if (!m) {
    throw new ContractError(INVALID_VERSION_RANGE, `${field}: "${text}" is not a version spec (${example})`, { field });
  }
  const [, name, lowText, upperName, highText] = m;
  if (upperName !== undefined && upperName !== name) {
    throw new ContractError(INVALID_VERSION_RANGE, `${field}: "${text}" names two different things (${name} and ${upperName})`, { field });
  }
  const low = segments(lowText);
  const high = highText === undefined ? low : segments(highText);
  if (compareVersions(low, high) > 0) {
    throw new ContractError(INVALID_VERSION_RANGE, `${field}: "${text}" is an empty range (v${lowText} is above v${highText})`, { field });
  }
  return { text: text.trim(), name, low, high, pinned: highText === undefined };
}
