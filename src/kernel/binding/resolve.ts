// Binding resolution, pure: for each required slot pick a registry entry by the request's mode,
// never relaxing `must`, and say why. Refusals are AdmissionErrors (`BINDING_REFUSED`) naming
// the slot and, when a constraint was the obstacle, the attribute with expected and actual values.

import { AdmissionError, ContractError } from '../../base/errors.js';
import { seededRng, type Rng } from '../../base/rng.js';
import {
  INVALID_BINDING_REQUEST, candidatesNamed, describeViolation, mustViolations, preferenceScore,
  type AttributeValue, type Candidate, type MustViolation, type Registry,
} from './registry.js';
import { checkRequest, type BindingCondition, type BindingMode, type BindingRequest, type CheckedRequest, type FallbackRule } from './request.js';
import { compareVersions, formatVersion, inRange, isExactly, type VersionSpec } from './version.js';

export const BINDING_REFUSED = 'BINDING_REFUSED';

/** How a selection came about. */
export type SelectionRole = 'pinned' | 'highest' | 'canary' | 'stable' | 'fallback';

export interface Selection {
  slot: string;
  want: string;
  name: string;
  version: string;
  hash: string;
  kind: 'model' | 'tool' | null;
  placement: string | null;
  attributes: Record<string, AttributeValue>;
  slo: Record<string, number>;
  role: SelectionRole;
  reasons: string[];
  /** Smooth canary routing: the draw in [0, 1) and the two versions it chose between. */
  canary?: { percent: number; draw: number; newest: string; stable: string };
}

/** A recorded flexible substitution, with the policy checks it passed. */
export interface Substitution {
  slot: string;
  from: string;
  to: string;
  when: BindingCondition;
  name: string;
  version: string;
  hash: string;
  validated: string[];
}

export interface Resolution {
  mode: BindingMode;
  must: Record<string, string | number | boolean>;
  prefer: Record<string, string | number | boolean>;
  conditions: BindingCondition[];
  selections: Selection[];
  substitutions: Substitution[];
}

export interface ResolveOptions {
  /** Versions not to bind in smooth or flexible mode (rolled back): returns why, or undefined. */
  excluded?: (name: string, version: string) => string | undefined;
  /** Canary draws when the request carries neither `canary.rng` nor `canary.seed`. */
  rng?: Rng;
}

interface Screened {
  /** Entries with the name whose version fits the spec (and hash pin). */
  fitting: Candidate[];
  /** Of those, the ones that pass `must` and are not excluded, best first. */
  eligible: Candidate[];
  violations: { candidate: Candidate; violations: MustViolation[] }[];
  excluded: { candidate: Candidate; why: string }[];
}

const label = (c: Candidate): string => `${c.entry.name} ${formatVersion(c.version)}`;

function screen(registry: Registry, spec: VersionSpec, exact: boolean, hash: string | undefined, checked: CheckedRequest, options: ResolveOptions): Screened {
  const fitting = candidatesNamed(registry, spec.name)
    .filter((c) => (exact ? isExactly(c.version, spec) : inRange(c.version, spec)))
    .filter((c) => hash === undefined || c.entry.hash === hash);
  const violations: Screened['violations'] = [];
  const excluded: Screened['excluded'] = [];
  const eligible = fitting.filter((candidate) => {
    const v = mustViolations(candidate.entry, checked.must);
    if (v.length > 0) {
      violations.push({ candidate, violations: v });
      return false;
    }
    const why = options.excluded?.(candidate.entry.name, candidate.entry.version);
    if (why !== undefined) excluded.push({ candidate, why });
    return why === undefined;
  });
  eligible.sort((a, b) =>
    compareVersions(b.version, a.version) ||
    preferenceScore(b.entry, checked.prefer) - preferenceScore(a.entry, checked.prefer) ||
    (a.entry.hash < b.entry.hash ? -1 : a.entry.hash > b.entry.hash ? 1 : 0));
  return { fitting, eligible, violations, excluded };
}

function refuse(mode: BindingMode, slot: string, problem: string, field: string, details: Record<string, unknown> = {}): never {
  throw new AdmissionError(BINDING_REFUSED, `${mode} binding of slot "${slot}": ${problem}`, { field, details: { slot, mode, ...details } });
}

/** Refuse because nothing fitting survived: name the first `must` attribute in the way. */
function refuseScreened(mode: BindingMode, slot: string, what: string, s: Screened, registry: Registry, spec: VersionSpec): never {
  if (s.fitting.length === 0) {
    const available = candidatesNamed(registry, spec.name).map((c) => formatVersion(c.version));
    const listed = available.length === 0 ? `no ${spec.name} in the registry` : `available: ${available.join(', ')}`;
    refuse(mode, slot, `no ${what} (${listed})`, 'requires', { want: spec.text, available });
  }
  const first = s.violations[0]?.violations[0];
  const lines = [
    ...s.violations.map((v) => `${label(v.candidate)} ${v.violations.map(describeViolation).join(' and ')}`),
    ...s.excluded.map((x) => `${label(x.candidate)} ${x.why}`),
  ];
  refuse(mode, slot, `every ${what} is ruled out: ${lines.join('; ')}`, first ? `must.${first.attribute}` : 'requires', {
    want: spec.text,
    ...(first && { attribute: first.attribute, expected: first.expected, actual: first.actual }),
    candidates: lines,
  });
}

function selection(slot: string, want: string, c: Candidate, role: SelectionRole, reasons: string[], checked: CheckedRequest): Selection {
  const { entry } = c;
  const met = Object.keys(checked.must).sort().map((k) => `${k}=${String(checked.must[k])}`);
  const unmet = Object.keys(checked.prefer).sort().filter((k) => preferenceScore(entry, { [k]: checked.prefer[k] }) === 0);
  const placement = entry.attributes.placement;
  return {
    slot, want, name: entry.name, version: entry.version, hash: entry.hash, kind: entry.kind ?? null,
    placement: typeof placement === 'string' ? placement : null,
    attributes: Object.fromEntries(Object.entries(entry.attributes).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])),
    slo: { ...entry.slo },
    role,
    reasons: [
      ...reasons,
      ...(met.length > 0 ? [`must ${met.join(', ')} satisfied`] : []),
      ...unmet.map((k) => `preference ${k}=${String(checked.prefer[k])} not met`),
    ],
  };
}

function bindStrict(i: number, checked: CheckedRequest, registry: Registry): Selection {
  const req = checked.request.requires[i];
  const spec = checked.specs[i];
  const s = screen(registry, spec, true, req.hash, checked, {});
  if (s.fitting.length === 0 && req.hash !== undefined) {
    const hashes = candidatesNamed(registry, spec.name).filter((c) => isExactly(c.version, spec)).map((c) => c.entry.hash);
    if (hashes.length > 0) refuse('strict', req.slot, `${spec.text} has hash ${hashes.join(', ')}, not the pinned ${req.hash}`, `requires[${i}].hash`, { expected: req.hash, actual: hashes });
  }
  if (s.eligible.length === 0) refuseScreened('strict', req.slot, `${spec.name} ${formatVersion(spec.low)}`, s, registry, spec);
  return selection(req.slot, req.want, s.eligible[0], 'pinned', [`pinned ${spec.text}`], checked);
}

function bindRange(i: number, checked: CheckedRequest, registry: Registry, options: ResolveOptions, draw: (() => number) | undefined): Selection {
  const req = checked.request.requires[i];
  const spec = checked.specs[i];
  const mode = checked.request.mode;
  const range = spec.pinned ? formatVersion(spec.low) : `${formatVersion(spec.low)}..${formatVersion(spec.high)}`;
  const s = screen(registry, spec, false, req.hash, checked, options);
  if (s.eligible.length === 0) refuseScreened(mode, req.slot, `${spec.name} version in ${range}`, s, registry, spec);
  const newest = s.eligible[0];
  const notes = s.excluded.map((x) => `${label(x.candidate)} skipped: ${x.why}`);
  const rolledBack = s.excluded.some((x) => compareVersions(x.candidate.version, newest.version) > 0);
  if (rolledBack) return selection(req.slot, req.want, newest, 'stable', [`highest version in ${range} not rolled back`, ...notes], checked);
  const stable = s.eligible.find((c) => compareVersions(c.version, newest.version) < 0);
  const canary = checked.request.canary;
  if (canary && draw) {
    if (!stable) return selection(req.slot, req.want, newest, 'highest', [`only one compatible version in ${range}; no canary split`, ...notes], checked);
    const d = draw();
    const toCanary = d < canary.percent / 100;
    const pick = toCanary ? newest : stable;
    const sel = selection(req.slot, req.want, pick, toCanary ? 'canary' : 'stable', [
      `canary ${canary.percent}%: draw ${d.toFixed(4)} ${toCanary ? '<' : '≥'} ${(canary.percent / 100).toFixed(4)} → ${toCanary ? 'newest' : 'previous stable'} ${label(pick)}`,
      ...notes,
    ], checked);
    return { ...sel, canary: { percent: canary.percent, draw: d, newest: newest.entry.version, stable: stable.entry.version } };
  }
  return selection(req.slot, req.want, newest, 'highest', [`highest compatible version in ${range}`, ...notes], checked);
}

function ruleApplies(rule: FallbackRule, req: { slot: string; want: string }, spec: VersionSpec): boolean {
  return rule.from === req.slot || rule.from === req.want || rule.from === spec.name;
}

function bindFlexible(i: number, checked: CheckedRequest, registry: Registry, options: ResolveOptions): { selection: Selection; substitution?: Substitution } {
  const req = checked.request.requires[i];
  const spec = checked.specs[i];
  const applicable = checked.fallbacks.filter((f) => ruleApplies(f.rule, req, spec) && checked.conditions.includes(f.rule.when));
  if (applicable.length === 0) return { selection: bindRange(i, checked, registry, options, undefined) };
  const tried: string[] = [];
  let firstViolation: MustViolation | undefined;
  for (const { rule, spec: to } of applicable) {
    const s = screen(registry, to, false, undefined, checked, options);
    const pick = s.eligible[0];
    if (!pick) {
      const why = s.fitting.length === 0
        ? 'not in the registry'
        : [...s.violations.map((v) => `${label(v.candidate)} ${v.violations.map(describeViolation).join(' and ')}`), ...s.excluded.map((x) => `${label(x.candidate)} ${x.why}`)].join('; ');
      firstViolation ??= s.violations[0]?.violations[0];
      tried.push(`${rule.to}: ${why}`);
      continue;
    }
    const validated = [
      `condition ${rule.when} holds`,
      `allow_fallbacks permits ${rule.from} → ${rule.to}`,
      ...Object.keys(checked.must).sort().map((k) => `must ${k}=${String(checked.must[k])}`),
    ];
    const sel = selection(req.slot, req.want, pick, 'fallback', [
      `substituted for ${req.want} because ${rule.when} holds (allow_fallbacks ${rule.from} → ${rule.to})`,
      ...tried.map((t) => `fallback ${t} skipped`),
    ], checked);
    return {
      selection: sel,
      substitution: { slot: req.slot, from: req.want, to: rule.to, when: rule.when, name: pick.entry.name, version: pick.entry.version, hash: pick.entry.hash, validated },
    };
  }
  const when = [...new Set(applicable.map((f) => f.rule.when))].join(', ');
  return refuse('flexible', req.slot, `${when} holds but no allowed fallback can be bound without relaxing must (${tried.join('; ')})`,
    firstViolation ? `must.${firstViolation.attribute}` : 'allowFallbacks', {
      conditions: checked.conditions, tried,
      ...(firstViolation && { attribute: firstViolation.attribute, expected: firstViolation.expected, actual: firstViolation.actual }),
    });
}

/** Resolve every slot of `request` against `registry`. Throws ContractError (malformed) or AdmissionError (`BINDING_REFUSED`). */
export function resolveBinding(request: BindingRequest, registry: Registry, options: ResolveOptions = {}): Resolution {
  const checked = checkRequest(request);
  const { mode, canary } = checked.request;
  let rng: Rng | undefined;
  const draw = (): number => {
    rng ??= canary?.rng ?? (canary?.seed !== undefined ? seededRng(canary.seed) : options.rng);
    if (!rng) throw new ContractError(INVALID_BINDING_REQUEST, 'canary needs canary.seed, canary.rng or a binder rng to draw from', { field: 'canary' });
    return rng.next();
  };
  const selections: Selection[] = [];
  const substitutions: Substitution[] = [];
  checked.request.requires.forEach((_, i) => {
    if (mode === 'strict') selections.push(bindStrict(i, checked, registry));
    else if (mode === 'smooth') selections.push(bindRange(i, checked, registry, options, canary ? draw : undefined));
    else {
      const r = bindFlexible(i, checked, registry, options);
      selections.push(r.selection);
      if (r.substitution) substitutions.push(r.substitution);
    }
  });
  return { mode, must: checked.must, prefer: checked.prefer, conditions: checked.conditions, selections, substitutions };
}
