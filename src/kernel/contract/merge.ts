// The binding algorithm's configuration merge: request override → role template
// → tenant policy → platform defaults, earlier wins field by field — except that a
// layer's `must` binds every layer that overrides it, which may tighten but never loosen.
import type { ContractLimits } from './guard.js';
import { guardTree } from './guard.js';
import {
  ContractErrorCodes, contractError, describeZodIssue, fromZodIssues, type ContractIssue, type IssuePath,
} from './issues.js';
import { getPath, missingConsents, mustLoosenings, mustViolations, tightenToMust } from './must.js';
import { asContractError, resolveLimits, validateContractData } from './parse.js';
import { MustSchema, type Contract, type Must } from './schema.js';

/** Highest precedence first; authority runs the other way (platform is the highest authority). */
export const LAYER_ORDER = ['request', 'role', 'tenant', 'platform'] as const;
export type LayerName = (typeof LAYER_ORDER)[number];

/** Partial contracts, as plain data (parsed YAML/JSON or objects built in code). */
export interface ContractLayers {
  request?: Record<string, unknown>;
  role?: Record<string, unknown>;
  tenant?: Record<string, unknown>;
  platform: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const SOURCE = '<merge>';
const pathKey = (path: IssuePath): string => path.map(String).join('\u0000');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

interface Layer {
  name: LayerName;
  rank: number; // 0 = request … 3 = platform
  data: Obj;
  must: Must | undefined;
}

function fail(code: typeof ContractErrorCodes.merge | typeof ContractErrorCodes.invalid | typeof ContractErrorCodes.tooLarge,
  layer: LayerName, issues: ContractIssue[]): never {
  throw contractError(code, issues, { source: SOURCE, layer: () => layer });
}

function readLayer(name: LayerName, rank: number, value: unknown, limits: ContractLimits): Layer {
  const finding = guardTree(value, limits);
  if (finding) fail(finding.kind === 'limit' ? ContractErrorCodes.tooLarge : ContractErrorCodes.invalid, name, [finding.issue]);
  if (!isObj(value)) fail(ContractErrorCodes.invalid, name, [{ path: [], message: 'a configuration layer must be a mapping' }]);
  let must: Must | undefined;
  if (value.must !== undefined) {
    const parsed = MustSchema.safeParse(value.must, { error: describeZodIssue });
    if (!parsed.success) {
      fail(ContractErrorCodes.invalid, name, fromZodIssues(parsed.error.issues, () => Object.keys(MustSchema.shape)).map((i) => ({ ...i, path: ['must', ...i.path] })));
    }
    must = parsed.data;
  }
  return { name, rank, data: value, must };
}

/**
 * Field-by-field overlay, lowest precedence first. Mappings merge key by key;
 * lists and scalars replace; `class` is replaced whole when the latency class
 * changes (an HRT slo cannot absorb SRT fields). Records which layer set each path.
 */
function overlay(target: Obj, src: Obj, layer: LayerName, path: IssuePath, origin: Map<string, LayerName>): void {
  for (const [key, value] of Object.entries(src)) {
    const here = [...path, key];
    const current = target[key];
    const classSwap = path.length === 0 && key === 'class' && isObj(value) && isObj(current)
      && value.latency !== undefined && value.latency !== current.latency;
    if (isObj(value) && isObj(current) && !classSwap) {
      overlay(current, value, layer, here, origin);
      continue;
    }
    const prefix = pathKey(here);
    for (const k of [...origin.keys()]) if (k === prefix || k.startsWith(`${prefix}\u0000`)) origin.delete(k);
    target[key] = structuredClone(value);
    origin.set(prefix, layer);
  }
}

function originOf(origin: Map<string, LayerName>, path: IssuePath): LayerName | undefined {
  for (let n = path.length; n > 0; n--) {
    const hit = origin.get(pathKey(path.slice(0, n)));
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Merges configuration layers into one validated Contract.
 *
 * Precedence: request > role > tenant > platform (the first layer that sets a
 * field wins; mappings merge per key, lists replace). Authority runs the other
 * way. For every layer L with a `must`, each layer K of equal or higher
 * precedence (K overrides L, or K is L) must not loosen it (see must.ts for
 * what loosening means per key): K's own fields must satisfy L's must, and K's
 * own `must` must be at least as tight → else CONTRACT_MERGE naming K and the
 * field. Values K inherits from lower-precedence layers (defaults) are instead
 * tightened to the must: enums set, sets filtered, limits lowered, approvals added.
 * The result carries the combined (tightest) `must` and is fully validated.
 */
export function mergeContractLayers(layers: ContractLayers, opts: Partial<ContractLimits> = {}): Contract {
  try {
    return mergeUnchecked(layers, resolveLimits(opts));
  } catch (err) {
    throw asContractError(err, SOURCE);
  }
}

function mergeUnchecked(input: ContractLayers, limits: ContractLimits): Contract {
  if (!isObj(input)) fail(ContractErrorCodes.invalid, 'platform', [{ path: [], message: 'layers must be { request?, role?, tenant?, platform }' }]);
  if (input.platform === undefined) fail(ContractErrorCodes.invalid, 'platform', [{ path: [], message: 'the platform layer is required' }]);
  const layers: Layer[] = [];
  LAYER_ORDER.forEach((name, rank) => {
    if (input[name] !== undefined) layers.push(readLayer(name, rank, input[name], limits));
  });

  // 1. No layer may loosen the must of itself or of any layer it overrides.
  for (const k of layers) {
    for (const l of layers) {
      if (l.rank < k.rank || !l.must) continue;
      const whose = l === k ? 'its own' : `${l.name}'s`;
      const issues = mustViolations(k.data, l.must, { consent: false }).map((v) => ({ path: v.path, message: `${v.message} — cannot loosen ${whose} must.${v.key}` }));
      if (l !== k && k.must) {
        issues.push(...mustLoosenings(k.must, l.must).map((v) => ({ path: v.path, message: `${v.message} — cannot loosen ${l.name}'s must.${v.key}` })));
      }
      if (issues.length > 0) fail(ContractErrorCodes.merge, k.name, issues);
    }
  }

  // 2. Overlay, lowest precedence first, remembering who set what.
  const merged: Obj = {};
  const origin = new Map<string, LayerName>();
  for (const layer of [...layers].reverse()) overlay(merged, layer.data, layer.name, [], origin);

  // 3. Tighten inherited values to every must (a no-op for values checked in step 1).
  for (const l of layers) if (l.must) tightenToMust(merged, l.must, { consent: false });

  // 4. Required approvals, against the final capabilities: a layer that set
  //    security.consent_for may not drop one demanded by a must binding it;
  //    an inherited (or absent) list is extended instead.
  const consentFrom = getPath(merged, ['security', 'consent_for']) === undefined ? undefined : originOf(origin, ['security', 'consent_for']);
  const consentRank = consentFrom === undefined ? Infinity : LAYER_ORDER.indexOf(consentFrom);
  for (const l of layers) {
    if (!l.must?.consent_for) continue;
    if (consentRank <= l.rank) {
      const missing = missingConsents(strings(merged.capabilities), strings(getPath(merged, ['security', 'consent_for'])), l.must.consent_for);
      if (missing.length > 0) {
        const whose = l.name === consentFrom ? 'its own' : `${l.name}'s`;
        fail(ContractErrorCodes.merge, consentFrom as LayerName, missing.map((m) => ({
          path: ['security', 'consent_for'], message: `drops the approval for "${m}" — cannot loosen ${whose} must.consent_for`,
        })));
      }
    } else {
      tightenToMust(merged, { consent_for: l.must.consent_for }, { consent: true });
    }
  }

  // 5. Full validation; issues are attributed to the layer that set the field.
  return validateContractData(merged, { source: SOURCE, layer: (path) => originOf(origin, path) }, limits);
}
