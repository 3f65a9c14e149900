// Rules a type cannot express: timing consistency per latency class, capability
// and approval coherence, a contract honouring its own `must`, and binding modes
// (ranges need smooth or flexible; a canary needs smooth; fallbacks need flexible).
import type { ContractIssue } from './issues.js';
import { mustViolations } from './must.js';
import { coveredBy, parseBindingTarget } from './names.js';
import type { Contract } from './schema.js';
import { cpuMillicores, memoryBytes } from './units.js';

function duplicates(list: readonly string[], path: readonly (string | number)[], what: string): ContractIssue[] {
  const seen = new Map<string, number>();
  const out: ContractIssue[] = [];
  list.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else out.push({ path: [...path, i], message: `duplicate ${what} "${v}" (also at index ${first})` });
  });
  return out;
}

function timing(c: Contract): ContractIssue[] {
  const out: ContractIssue[] = [];
  const cls = c.class;
  if (cls.latency === 'HRT') {
    const { period_ms: period, deadline_ms: deadline, wcet_ms: wcet, jitter_ms: jitter } = cls.slo;
    const at = (f: string) => ['class', 'slo', f];
    if (wcet > deadline) out.push({ path: at('wcet_ms'), message: `must be <= deadline_ms (${wcet} > ${deadline})` });
    if (deadline > period) out.push({ path: at('deadline_ms'), message: `must be <= period_ms (${deadline} > ${period})` });
    if (jitter >= deadline) out.push({ path: at('jitter_ms'), message: `must be < deadline_ms (${jitter} >= ${deadline})` });
  } else if (cls.latency === 'SRT') {
    const { onset_ms: onset, turn_ms: turn } = cls.slo;
    if (onset > turn) out.push({ path: ['class', 'slo', 'onset_ms'], message: `must be <= turn_ms (${onset} > ${turn})` });
  }
  return out;
}

function computeRules(c: Contract): ContractIssue[] {
  if (!c.compute) return [];
  const out: ContractIssue[] = [];
  const cpu = cpuMillicores(c.compute.cpu);
  if (!cpu.ok) out.push({ path: ['compute', 'cpu'], message: cpu.reason });
  const mem = memoryBytes(c.compute.mem);
  if (!mem.ok) out.push({ path: ['compute', 'mem'], message: mem.reason });
  return out;
}

function capabilityRules(c: Contract): ContractIssue[] {
  const out = duplicates(c.capabilities, ['capabilities'], 'capability');
  const consent = c.security?.consent_for ?? [];
  out.push(...duplicates(consent, ['security', 'consent_for'], 'consent entry'));
  consent.forEach((entry, i) => {
    if (!coveredBy(c.capabilities, entry)) {
      const held = c.capabilities.length > 0 ? c.capabilities.join(', ') : 'none declared';
      out.push({ path: ['security', 'consent_for', i], message: `"${entry}" is not among capabilities (${held})` });
    }
  });
  if (c.modelPolicy) out.push(...duplicates(c.modelPolicy.allow, ['modelPolicy', 'allow'], 'model'));
  return out;
}

function bindingRules(c: Contract): ContractIssue[] {
  const out: ContractIssue[] = [];
  const mode = c.binding;
  const slots = Object.keys(c.prefer ?? {});
  for (const [slot, pref] of Object.entries(c.prefer ?? {})) {
    const isObject = typeof pref === 'object';
    const path = isObject ? ['prefer', slot, 'use'] : ['prefer', slot];
    const target = parseBindingTarget(isObject ? pref.use : pref);
    if (typeof target === 'string') {
      out.push({ path, message: target });
      continue;
    }
    if (!target.pinned && mode === 'strict') out.push({ path, message: 'a version range needs binding: smooth or flexible (binding is strict)' });
    if (isObject && pref.canary_pct !== undefined) {
      if (mode !== 'smooth') out.push({ path: ['prefer', slot, 'canary_pct'], message: `a canary needs binding: smooth (binding is ${mode})` });
      else if (target.pinned) out.push({ path: ['prefer', slot, 'canary_pct'], message: `a canary needs a version range to roll between, like asr_local_v2..v3 (got "${target.text}")` });
    }
  }
  if (c.allow_fallbacks.length > 0 && mode !== 'flexible') {
    out.push({ path: ['allow_fallbacks'], message: `fallbacks apply only with binding: flexible (binding is ${mode})` });
  }
  const seen = new Set<string>();
  c.allow_fallbacks.forEach((fb, i) => {
    if (!slots.includes(fb.from)) {
      out.push({ path: ['allow_fallbacks', i, 'from'], message: `"${fb.from}" is not a slot of prefer (${slots.join(', ') || 'prefer is empty'})` });
    }
    const target = parseBindingTarget(fb.to);
    if (typeof target === 'string') out.push({ path: ['allow_fallbacks', i, 'to'], message: target });
    const key = `${fb.from}\u0000${fb.when}`;
    if (seen.has(key)) out.push({ path: ['allow_fallbacks', i], message: `a second fallback for "${fb.from}" when ${fb.when} is ambiguous` });
    seen.add(key);
  });
  return out;
}

function priorityRule(c: Contract): ContractIssue[] {
  if (c.priority === undefined || c.class.latency === 'SRT') return [];
  return [{ path: ['priority'], message: `applies only to SRT contracts (class is ${c.class.latency})` }];
}

/** Every semantic problem of a schema-valid contract, in field order. */
export function contractSemanticIssues(c: Contract): ContractIssue[] {
  return [
    ...timing(c),
    ...priorityRule(c),
    ...computeRules(c),
    ...capabilityRules(c),
    ...mustViolations(c, c.must, { consent: true }).map((v) => ({ path: v.path, message: v.message })),
    ...bindingRules(c),
  ];
}
