// Model-policy admission against a model catalog: the contract's allow globs must match at
// least one catalogued model with enough context that also meets the privacy and placement
// requirements. Every model considered and why it failed is reported, so refusals explain themselves.

import { ContractError } from '../../base/errors.js';
import { segmentGlobRegExp } from '../../base/glob.js';

export const INVALID_ADMISSION_REQUEST = 'INVALID_ADMISSION_REQUEST';

/** One model the node can reach. `id` is `provider/model`; `privacy` lists the guarantees it gives (e.g. `phi`, `no_retention`). */
export interface CatalogModel {
  id: string;
  contextTokens: number;
  placement: string;
  privacy: readonly string[];
}

/** The catalog interface the kernel's model gateway implements; a stub for now. */
export interface ModelCatalog {
  list(): readonly CatalogModel[];
}

/** A catalog over a fixed list. */
export function staticCatalog(models: readonly CatalogModel[]): ModelCatalog {
  const copy = models.map((m) => ({ ...m, privacy: [...m.privacy] }));
  return { list: () => copy };
}

/**
 * What a contract asks of models. `allow` globs are in preference order: `*` matches within one
 * `/`-separated segment, `**` across segments, `?` one character (`local/*`, `openai/gpt-4o*`).
 * Every `privacy` tag must be among the model's; `placement`, if given, must equal (one of) the model's.
 */
export interface ModelPolicy {
  allow: readonly string[];
  maxContextTokens: number;
  privacy?: readonly string[];
  placement?: string | readonly string[];
}

export interface ModelRejection {
  id: string;
  reasons: string[];
}

export interface ModelMatch {
  /** Models satisfying the whole policy, best first (allow-glob order, then catalog order). */
  eligible: string[];
  /** Models an allow glob matched that failed on context, privacy or placement. */
  rejected: ModelRejection[];
  /** How many catalogued models no allow glob matched. */
  unmatched: number;
}

/** Compile an allow glob to a RegExp (base/glob.ts); ContractError on an empty or non-string glob. */
export function globToRegExp(glob: string, field = 'model.allow'): RegExp {
  if (typeof glob !== 'string' || glob.trim().length === 0) {
    throw new ContractError(INVALID_ADMISSION_REQUEST, `${field}: an allow glob must be a non-empty string, got ${JSON.stringify(glob)}`, { field });
  }
  return segmentGlobRegExp(glob);
}

/** Validate a model policy; throws ContractError naming the field. */
export function validateModelPolicy(policy: ModelPolicy, path = 'model'): void {
  if (!Array.isArray(policy?.allow) || policy.allow.length === 0) {
    throw new ContractError(INVALID_ADMISSION_REQUEST, `${path}.allow must list at least one model glob`, { field: `${path}.allow` });
  }
  policy.allow.forEach((g, i) => globToRegExp(g, `${path}.allow[${i}]`));
  const max = policy.maxContextTokens;
  if (typeof max !== 'number' || !Number.isFinite(max) || max < 0) {
    throw new ContractError(INVALID_ADMISSION_REQUEST, `${path}.maxContextTokens must be a finite number ≥ 0, got ${String(max)}`, { field: `${path}.maxContextTokens` });
  }
}

function placements(policy: ModelPolicy): readonly string[] | undefined {
  if (policy.placement === undefined) return undefined;
  return typeof policy.placement === 'string' ? [policy.placement] : policy.placement;
}

/** Match a policy against the catalog (pure). */
export function matchModels(catalog: ModelCatalog, policy: ModelPolicy): ModelMatch {
  validateModelPolicy(policy);
  const globs = policy.allow.map((g) => globToRegExp(g));
  const wantPlacement = placements(policy);
  const scored: { id: string; rank: number; order: number }[] = [];
  const rejected: ModelRejection[] = [];
  let unmatched = 0;
  catalog.list().forEach((model, order) => {
    const rank = globs.findIndex((re) => re.test(model.id));
    if (rank < 0) {
      unmatched++;
      return;
    }
    const reasons: string[] = [];
    if (model.contextTokens < policy.maxContextTokens) {
      reasons.push(`context ${model.contextTokens} < ${policy.maxContextTokens} tokens`);
    }
    const missing = (policy.privacy ?? []).filter((tag) => !model.privacy.includes(tag));
    if (missing.length > 0) reasons.push(`privacy lacks ${missing.join(', ')}`);
    if (wantPlacement && !wantPlacement.includes(model.placement)) {
      reasons.push(`placement ${model.placement} not in ${wantPlacement.join('|')}`);
    }
    if (reasons.length > 0) rejected.push({ id: model.id, reasons });
    else scored.push({ id: model.id, rank, order });
  });
  scored.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return { eligible: scored.map((s) => s.id), rejected, unmatched };
}

/** One line describing why no model fits (or undefined when one does). */
export function describeModelRefusal(policy: ModelPolicy, match: ModelMatch): string | undefined {
  if (match.eligible.length > 0) return undefined;
  const wants = [`context ≥ ${policy.maxContextTokens} tokens`];
  if (policy.privacy && policy.privacy.length > 0) wants.push(`privacy ${policy.privacy.join('+')}`);
  const place = placements(policy);
  if (place) wants.push(`placement ${place.join('|')}`);
  const head = `no catalogued model satisfies allow [${policy.allow.join(', ')}] with ${wants.join(', ')}`;
  const tried = match.rejected.map((r) => `${r.id}: ${r.reasons.join('; ')}`);
  const tail = match.rejected.length === 0
    ? `no catalogued model matches the allow globs (${match.unmatched} models listed)`
    : tried.join('; ');
  return `${head} (${tail})`;
}
