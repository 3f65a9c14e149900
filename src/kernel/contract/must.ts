// `must` constraints and what it means to loosen one. A `must` never widens:
//   privacy, placement      enums — the constrained field must EQUAL the must value
//                           (placement binds both `placement` and `modelPolicy.placement`);
//   capabilities            a set that can only SHRINK — every capability must be covered by must.capabilities;
//   models                  a set that can only SHRINK — each modelPolicy.allow entry matched by a
//                           must.models glob (a glob entry only by the same glob or `**`);
//   max_context_tokens, tokens_per_minute, tokens
//                           numeric limits that can only DECREASE — field <= must value;
//   currency                a limit that can only DECREASE in the SAME currency code;
//   consent_for             approvals that can only GROW — every capability the agent holds that a
//                           must.consent_for entry overlaps must be listed in security.consent_for.
// An unset field does not violate a must (the must travels with the contract); merge tightens it.
import type { IssuePath } from './issues.js';
import { showValue } from './issues.js';
import { capabilityCovers, coveredBy, modelGlobMatches } from './names.js';
import type { CurrencyBudget, Must } from './schema.js';

export type MustKey = keyof Must;
type RuleKind = 'equal' | 'shrink-capabilities' | 'shrink-models' | 'decrease' | 'decrease-currency' | 'grow-consent';

export interface MustRule {
  key: MustKey;
  kind: RuleKind;
  /** Contract fields the key constrains. */
  targets: readonly IssuePath[];
}

export const MUST_RULES: readonly MustRule[] = [
  { key: 'privacy', kind: 'equal', targets: [['modelPolicy', 'privacy']] },
  { key: 'placement', kind: 'equal', targets: [['placement'], ['modelPolicy', 'placement']] },
  { key: 'capabilities', kind: 'shrink-capabilities', targets: [['capabilities']] },
  { key: 'models', kind: 'shrink-models', targets: [['modelPolicy', 'allow']] },
  { key: 'max_context_tokens', kind: 'decrease', targets: [['modelPolicy', 'max_context_tokens']] },
  { key: 'tokens_per_minute', kind: 'decrease', targets: [['budgets', 'tokens_per_minute']] },
  { key: 'tokens', kind: 'decrease', targets: [['budgets', 'tokens']] },
  { key: 'currency', kind: 'decrease-currency', targets: [['budgets', 'currency']] },
  { key: 'consent_for', kind: 'grow-consent', targets: [['security', 'consent_for']] },
];

export interface MustViolation {
  key: MustKey;
  path: IssuePath;
  /** Reads after the field path: `is "cloud", but must.placement is "on_prem"`. */
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function getPath(root: unknown, path: IssuePath): unknown {
  let cur = root;
  for (const seg of path) {
    if (!isObj(cur) && !Array.isArray(cur)) return undefined;
    cur = Object.hasOwn(cur, seg) ? (cur as Obj)[seg as string] : undefined;
  }
  return cur;
}

const modelsCover = (globs: readonly string[], id: string): boolean => globs.some((g) => modelGlobMatches(g, id));

const currencyLooser = (v: unknown, bound: CurrencyBudget): boolean =>
  !isObj(v) || v.code !== bound.code || typeof v.amount !== 'number' || v.amount > bound.amount;

/**
 * Names that need an approval: for each held capability `c` and required
 * consent `r`, `c` itself when `r` covers it, or `r` when `c` is the wider grant.
 */
export function requiredConsents(capabilities: readonly string[], required: readonly string[]): string[] {
  const out = new Set<string>();
  for (const c of capabilities) {
    for (const r of required) {
      if (capabilityCovers(r, c)) out.add(c);
      else if (capabilityCovers(c, r)) out.add(r);
    }
  }
  return [...out];
}

/** Required approvals that `consentFor` does not cover. */
export function missingConsents(capabilities: readonly string[], consentFor: readonly string[], required: readonly string[]): string[] {
  return requiredConsents(capabilities, required).filter((n) => !coveredBy(consentFor, n));
}

/**
 * Fields of `obj` (a contract or a partial configuration layer) that violate
 * `must`. The consent rule needs the agent's final capabilities, so layers
 * skip it (`consent: false`) and merge checks it on the merged result.
 */
export function mustViolations(obj: unknown, must: Must | undefined, opts: { consent: boolean }): MustViolation[] {
  const out: MustViolation[] = [];
  if (!must) return out;
  for (const rule of MUST_RULES) {
    const bound = must[rule.key];
    if (bound === undefined) continue;
    const name = `must.${rule.key}`;
    if (rule.kind === 'grow-consent') {
      if (!opts.consent) continue;
      const missing = missingConsents(strings(getPath(obj, ['capabilities'])), strings(getPath(obj, ['security', 'consent_for'])), bound as string[]);
      for (const m of missing) out.push({ key: rule.key, path: ['security', 'consent_for'], message: `must require approval for "${m}" (${name})` });
      continue;
    }
    for (const target of rule.targets) {
      const value = getPath(obj, target);
      if (value === undefined) continue;
      switch (rule.kind) {
        case 'equal':
          if (value !== bound) out.push({ key: rule.key, path: target, message: `is ${showValue(value)}, but ${name} is ${showValue(bound)}` });
          break;
        case 'shrink-capabilities':
        case 'shrink-models': {
          if (!Array.isArray(value)) break;
          const allowed = bound as string[];
          value.forEach((v, i) => {
            const ok = typeof v === 'string' && (rule.kind === 'shrink-models' ? modelsCover(allowed, v) : coveredBy(allowed, v));
            if (!ok) out.push({ key: rule.key, path: [...target, i], message: `${showValue(v)} is outside ${name} (${allowed.join(', ') || 'none'})` });
          });
          break;
        }
        case 'decrease':
          if (typeof value !== 'number' || value > (bound as number)) {
            out.push({ key: rule.key, path: target, message: `is ${showValue(value)}, above ${name} ${String(bound)}` });
          }
          break;
        case 'decrease-currency':
          if (currencyLooser(value, bound as CurrencyBudget)) {
            const b = bound as CurrencyBudget;
            out.push({ key: rule.key, path: target, message: `exceeds ${name} (${b.amount} ${b.code}); a currency limit may only decrease, in the same currency` });
          }
          break;
      }
    }
  }
  return out;
}

/** Keys where `lower` (a higher-precedence layer's must) is looser than `higher`'s. */
export function mustLoosenings(lower: Must, higher: Must): MustViolation[] {
  const out: MustViolation[] = [];
  for (const rule of MUST_RULES) {
    const lo = lower[rule.key];
    const hi = higher[rule.key];
    if (lo === undefined || hi === undefined) continue;
    const name = `must.${rule.key}`;
    let looser: boolean;
    switch (rule.kind) {
      case 'equal': looser = lo !== hi; break;
      case 'shrink-capabilities': looser = (lo as string[]).some((c) => !coveredBy(hi as string[], c)); break;
      case 'shrink-models': looser = (lo as string[]).some((m) => !modelsCover(hi as string[], m)); break;
      case 'decrease': looser = (lo as number) > (hi as number); break;
      case 'decrease-currency': looser = currencyLooser(lo, hi as CurrencyBudget); break;
      case 'grow-consent': looser = (hi as string[]).some((c) => !coveredBy(lo as string[], c)); break;
    }
    if (looser) out.push({ key: rule.key, path: ['must', rule.key], message: `${showValue(lo)} is looser than ${name} ${showValue(hi)}` });
  }
  return out;
}

/**
 * Tightens a merged (plain, not yet validated) contract in place so it meets
 * `must`: enums are set, sets filtered, limits lowered, missing budgets
 * filled in, required approvals added. Never loosens anything.
 */
export function tightenToMust(obj: Obj, must: Must, opts: { consent: boolean } = { consent: true }): void {
  const modelPolicy = isObj(obj.modelPolicy) ? obj.modelPolicy : undefined;
  const budgets = (): Obj => (isObj(obj.budgets) ? obj.budgets : (obj.budgets = {}));
  if (must.placement !== undefined) {
    obj.placement = must.placement;
    if (modelPolicy) modelPolicy.placement = must.placement;
  }
  if (must.privacy !== undefined && modelPolicy) modelPolicy.privacy = must.privacy;
  if (must.capabilities !== undefined && Array.isArray(obj.capabilities)) {
    const before = strings(obj.capabilities);
    const after = before.filter((c) => coveredBy(must.capabilities as string[], c));
    obj.capabilities = obj.capabilities.filter((c) => typeof c !== 'string' || after.includes(c));
    // Approvals for capabilities the agent just lost are moot; drop only those.
    const security = obj.security;
    if (isObj(security) && Array.isArray(security.consent_for)) {
      security.consent_for = security.consent_for.filter((e) => typeof e !== 'string' || !coveredBy(before, e) || coveredBy(after, e));
    }
  }
  if (must.models !== undefined && modelPolicy && Array.isArray(modelPolicy.allow)) {
    modelPolicy.allow = modelPolicy.allow.filter((m) => typeof m !== 'string' || modelsCover(must.models as string[], m));
  }
  const lower = (holder: Obj, key: string, bound: number) => {
    const v = holder[key];
    holder[key] = typeof v === 'number' ? Math.min(v, bound) : bound;
  };
  if (must.max_context_tokens !== undefined && modelPolicy) lower(modelPolicy, 'max_context_tokens', must.max_context_tokens);
  if (must.tokens_per_minute !== undefined) lower(budgets(), 'tokens_per_minute', must.tokens_per_minute);
  if (must.tokens !== undefined) lower(budgets(), 'tokens', must.tokens);
  if (must.currency !== undefined && currencyLooser(getPath(obj, ['budgets', 'currency']), must.currency)) {
    budgets().currency = { ...must.currency };
  }
  if (must.consent_for !== undefined && opts.consent) {
    const security = isObj(obj.security) ? obj.security : undefined;
    const current = strings(security?.consent_for);
    const missing = missingConsents(strings(obj.capabilities), current, must.consent_for);
    if (missing.length > 0) {
      const target = security ?? (obj.security = {});
      target.consent_for = [...(Array.isArray(target.consent_for) ? target.consent_for : []), ...missing];
    }
  }
}
