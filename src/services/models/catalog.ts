// The model catalog: every model the gateway can route to, with what routing
// needs to know — context length, where it runs, which privacy classes of data
// it may see, what it costs. It is also what admission checks contracts against
// (`forAdmission()`), so admission and routing agree on the same list.

import type { CatalogModel } from '../../kernel/admission/index.js';
import { PLACEMENTS, PRIVACY_LEVELS, type Placement, type Privacy } from '../../kernel/contract/schema.js';
import { ModelCodes, ModelError } from './errors.js';

export interface ModelCost {
  /** Price of 1,000 prompt tokens. */
  inputPer1k: number;
  /** Price of 1,000 completion tokens. */
  outputPer1k: number;
  /** ISO 4217, default USD. */
  currency?: string;
}

export interface ModelEntry {
  /** `provider/model`: the provider's registered name, then its own model name (which may contain `/` and `:`). */
  id: string;
  contextTokens: number;
  placement: Placement;
  /** The privacy classes of data this model may be given (a contract's `privacy` must be among them). */
  privacy: readonly Privacy[];
  cost?: ModelCost;
}

const MODEL_ID = /^[a-z][a-z0-9_-]{0,63}\/[A-Za-z0-9._:-][A-Za-z0-9._:/-]{0,190}$/;

const ALL_PRIVACY: readonly Privacy[] = PRIVACY_LEVELS;

/** The local models: in process, free, allowed any data. */
export const LOCAL_MODELS: readonly ModelEntry[] = [
  { id: 'local/echo', contextTokens: 32_768, placement: 'edge', privacy: ALL_PRIVACY },
  { id: 'local/rules', contextTokens: 8_192, placement: 'edge', privacy: ALL_PRIVACY },
  { id: 'local/seeded', contextTokens: 8_192, placement: 'edge', privacy: ALL_PRIVACY },
];

export function providerOf(id: string): string {
  return id.slice(0, id.indexOf('/'));
}

export function modelNameOf(id: string): string {
  return id.slice(id.indexOf('/') + 1);
}

export function validateEntry(entry: ModelEntry): ModelEntry {
  const bad = (field: string, why: string): never => {
    throw new ModelError(ModelCodes.badConfig, `model catalog: ${field} ${why}`, { field });
  };
  if (typeof entry !== 'object' || entry === null) bad('entry', 'must be an object');
  if (typeof entry.id !== 'string' || !MODEL_ID.test(entry.id)) bad('id', `must be "provider/model" (got ${JSON.stringify(entry.id)})`);
  if (!Number.isInteger(entry.contextTokens) || entry.contextTokens <= 0) bad('contextTokens', `of ${entry.id} must be a positive integer`);
  if (!PLACEMENTS.includes(entry.placement)) bad('placement', `of ${entry.id} must be one of ${PLACEMENTS.join(', ')}`);
  if (!Array.isArray(entry.privacy) || entry.privacy.some((p) => !ALL_PRIVACY.includes(p))) bad('privacy', `of ${entry.id} must list classes among ${ALL_PRIVACY.join(', ')}`);
  const cost = entry.cost;
  if (cost !== undefined) {
    for (const k of ['inputPer1k', 'outputPer1k'] as const) {
      if (!(Number.isFinite(cost[k]) && cost[k] >= 0)) bad(`cost.${k}`, `of ${entry.id} must be a number ≥ 0`);
    }
    if (cost.currency !== undefined && !/^[A-Z]{3}$/.test(cost.currency)) bad('cost.currency', `of ${entry.id} must be an ISO 4217 code like "USD"`);
  }
  return { ...entry, privacy: [...entry.privacy], ...(cost ? { cost: { ...cost } } : {}) };
}

export class ModelCatalog {
  private readonly entries = new Map<string, ModelEntry>();

  constructor(entries: readonly ModelEntry[] = LOCAL_MODELS) {
    for (const e of entries) this.add(e);
  }

  /** Add or replace a model. */
  add(entry: ModelEntry): void {
    const e = validateEntry(entry);
    this.entries.set(e.id, e);
  }

  get(id: string): ModelEntry | undefined {
    return this.entries.get(id);
  }

  require(id: string): ModelEntry {
    const e = this.entries.get(id);
    if (!e) throw new ModelError(ModelCodes.unknownModel, `no model "${id}" in the catalog (has ${[...this.entries.keys()].join(', ')})`, { field: 'model' });
    return e;
  }

  /** In insertion order (routing's tie-break). */
  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  /** The view admission checks `modelPolicy` against: pass it as createNode's `models`. */
  forAdmission(): CatalogModel[] {
    return this.list().map((e) => ({ id: e.id, contextTokens: e.contextTokens, placement: e.placement, privacy: [...e.privacy] }));
  }

  /** Price of a call, in the model's currency. */
  cost(id: string, promptTokens: number, completionTokens: number): { amount: number; currency: string } {
    const c = this.entries.get(id)?.cost;
    if (!c) return { amount: 0, currency: 'USD' };
    return { amount: (promptTokens / 1000) * c.inputPer1k + (completionTokens / 1000) * c.outputPer1k, currency: c.currency ?? 'USD' };
  }
}
