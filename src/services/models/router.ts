// Policy routing, as a pure function: which catalogued models may serve a call,
// best first, and why. A model must be allowed by the contract's
// `modelPolicy.allow`, take the contract's privacy class, sit where the contract
// and the node's placement mode allow (air-gapped: no provider that leaves the
// machine), and hold at least the part of the conversation that cannot be cut.
// The requested model comes first; a model that holds the whole conversation
// beats one that needs it trimmed (escalation); in hybrid mode cloud models
// come after on-prem/edge ones. Each candidate says whether its prompt is
// de-identified and by which rule (the contract's `redact_pii` / `deidentify`,
// or the node's `redactCloud`): the stricter always wins. Same input, same decision.

import { modelGlobMatches } from '../../kernel/contract/index.js';
import type { Deidentify, Placement, Privacy } from '../../kernel/contract/schema.js';
import type { ModelEntry } from './catalog.js';
import type { ProviderNetwork } from './types.js';

export const PLACEMENT_MODES = ['edge', 'hybrid', 'air-gapped'] as const;
/** edge: no cloud models; hybrid: any placement, cloud last; air-gapped: only models whose provider stays on this machine, never cloud. */
export type PlacementMode = (typeof PLACEMENT_MODES)[number];

/** What the contract's `modelPolicy` says (field names as in the contract, camel-cased). */
export interface RoutePolicy {
  allow: readonly string[];
  maxContextTokens?: number;
  privacy?: Privacy;
  placement?: Placement;
  /** `modelPolicy.redact_pii`: de-identify before every model. */
  redactPii?: boolean;
  /** `modelPolicy.deidentify`: before cloud models, every model, or as the node says ('none'). */
  deidentify?: Deidentify;
}

export interface RoutableModel extends ModelEntry {
  /** Where its provider's traffic goes. */
  network: ProviderNetwork;
}

export type Fallbacks = false | 'auto' | readonly string[];
export type RedactCloud = 'sensitive' | 'always' | 'never';

/** Privacy classes whose data is de-identified before it goes to a cloud model (under `redactCloud: 'sensitive'`). */
export const SENSITIVE: readonly Privacy[] = ['confidential', 'pii', 'phi'];

export interface RouteInput {
  requested: string;
  policy: RoutePolicy;
  /** Tokens the whole conversation needs: prompt plus the completion reserve. */
  wantTokens: number;
  /** Tokens it needs at the least: system prompt, latest turn, completion reserve. */
  minTokens: number;
  mode: PlacementMode;
  /** false: only the requested model; 'auto' (default): any eligible model; a list: those, in that order. */
  fallbacks?: Fallbacks;
  /** When to de-identify before a cloud model (default 'sensitive': when the contract's privacy is confidential, pii or phi). */
  redactCloud?: RedactCloud;
}

export interface RouteCandidate {
  id: string;
  /** Context tokens this call may use on it: the model's context, capped by max_context_tokens. */
  window: number;
  /** Whether the whole conversation fits, or it must be trimmed to `window`. */
  fits: 'whole' | 'trimmed';
  /** De-identify the prompt before sending (a cloud model and a sensitive contract, or the contract asks). */
  redact: boolean;
  /** The rule that asked for it, when `redact`. */
  redactBy?: string;
}

export interface RouteDecision {
  /** Best first; empty when nothing may serve the call. */
  candidates: RouteCandidate[];
  reason: string;
  /** Models considered (requested, or matched by an allow glob) that may not serve it, and why. */
  rejected: { id: string; reasons: string[] }[];
}

export function route(models: readonly RoutableModel[], input: RouteInput): RouteDecision {
  const { policy, mode } = input;
  const max = policy.maxContextTokens ?? Infinity;
  const fallbacks = input.fallbacks ?? 'auto';
  const deidentifyBy = redactionRule(input);
  const rejected: RouteDecision['rejected'] = [];
  const eligible: (RouteCandidate & { rank: number; order: number; cloud: boolean })[] = [];

  models.forEach((m, order) => {
    const rank = policy.allow.findIndex((g) => modelGlobMatches(g, m.id));
    const requested = m.id === input.requested;
    if (rank < 0 && !requested) return; // not the contract's business: not reported
    const reasons: string[] = [];
    if (rank < 0) reasons.push('not in modelPolicy.allow');
    if (policy.privacy !== undefined && !m.privacy.includes(policy.privacy)) reasons.push(`does not take ${policy.privacy} data`);
    if (policy.placement !== undefined && m.placement !== policy.placement) reasons.push(`placement ${m.placement} ≠ ${policy.placement}`);
    if (mode === 'air-gapped' && (m.network === 'remote' || m.placement === 'cloud')) reasons.push(`air-gapped node: ${m.placement === 'cloud' ? 'a cloud model' : 'its provider is on the network'}`);
    if (mode === 'edge' && m.placement === 'cloud') reasons.push('edge node: no cloud models');
    const window = Math.min(m.contextTokens, max);
    if (window < input.minTokens) reasons.push(`context ${window} < ${input.minTokens} tokens needed at the least`);
    if (!requested && fallbacks !== 'auto' && (fallbacks === false || !fallbacks.includes(m.id))) reasons.push('not a fallback of this call');
    if (reasons.length > 0) {
      rejected.push({ id: m.id, reasons });
      return;
    }
    const listed = Array.isArray(fallbacks) ? fallbacks.indexOf(m.id) : -1;
    const redactBy = deidentifyBy(m.placement === 'cloud');
    eligible.push({
      id: m.id,
      window,
      fits: window >= input.wantTokens ? 'whole' : 'trimmed',
      redact: redactBy !== undefined,
      ...(redactBy === undefined ? {} : { redactBy }),
      rank: requested ? -1 : listed >= 0 ? listed : rank,
      order,
      cloud: m.placement === 'cloud',
    });
  });
  if (!models.some((m) => m.id === input.requested)) rejected.unshift({ id: input.requested, reasons: ['not in the catalog'] });

  const tier = (c: (typeof eligible)[number]): number => (c.rank === -1 ? 0 : 1) + (c.fits === 'whole' ? 0 : 2);
  eligible.sort((a, b) => tier(a) - tier(b) || (mode === 'hybrid' ? Number(a.cloud) - Number(b.cloud) : 0) || a.rank - b.rank || a.order - b.order);
  const candidates = eligible.map(({ rank: _r, order: _o, cloud: _c, ...c }): RouteCandidate => c);
  return { candidates, rejected, reason: explain(input, candidates, rejected) };
}

/** Which rule (if any) de-identifies a prompt for a cloud or a non-cloud model: the contract's first, then the node's. */
function redactionRule(input: RouteInput): (cloud: boolean) => string | undefined {
  const { policy } = input;
  const node = input.redactCloud ?? 'sensitive';
  return (cloud) => {
    if (policy.redactPii === true) return 'modelPolicy.redact_pii';
    if (policy.deidentify === 'always') return 'modelPolicy.deidentify: always';
    if (!cloud) return undefined;
    if (policy.deidentify === 'cloud') return 'modelPolicy.deidentify: cloud';
    if (node === 'always') return 'node redactCloud: always';
    if (node === 'sensitive' && policy.privacy !== undefined && SENSITIVE.includes(policy.privacy)) return `${policy.privacy} data for a cloud model`;
    return undefined;
  };
}

function explain(input: RouteInput, candidates: RouteCandidate[], rejected: RouteDecision['rejected']): string {
  const skipped = rejected.map((r) => `${r.id} (${r.reasons.join('; ')})`);
  const head = candidates[0];
  if (!head) {
    const need = input.policy.maxContextTokens !== undefined && input.minTokens > input.policy.maxContextTokens
      ? `the call needs ${input.minTokens} tokens at the least, over max_context_tokens ${input.policy.maxContextTokens}; `
      : '';
    return `no model may serve ${input.requested} in ${input.mode} mode: ${need}${skipped.length > 0 ? skipped.join(', ') : 'no catalogued model matches modelPolicy.allow'}`;
  }
  const why = head.id === input.requested ? 'requested' : `${input.requested} could not hold the whole conversation or may not serve it; escalated`;
  const fit = head.fits === 'whole' ? `holds all ${input.wantTokens} tokens` : `conversation trimmed to its ${head.window}-token window`;
  const parts = [`chose ${head.id} (${why}; ${fit}${head.redact ? `; prompt de-identified (${head.redactBy})` : ''}) in ${input.mode} mode`];
  if (candidates.length > 1) parts.push(`fallbacks ${candidates.slice(1).map((c) => c.id).join(', ')}`);
  if (skipped.length > 0) parts.push(`skipped ${skipped.join(', ')}`);
  return parts.join('; ');
}
