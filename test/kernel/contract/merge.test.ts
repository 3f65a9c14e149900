// mergeContractLayers: request → role → tenant → platform, earlier wins,
// except that no layer may loosen the `must` of a layer it overrides.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import {
  PLACEMENTS, PRIVACY_LEVELS, contractHash, loadContractLayer, mergeContractLayers, parseContract, type Contract,
} from '../../../src/kernel/contract/index.js';
import { expectContractError } from './helpers.js';

const platform = () => ({
  apiVersion: 'agentos/v0.2',
  kind: 'AgentContract',
  name: 'agent',
  class: { latency: 'DT' },
  capabilities: ['web.fetch', 'ehr.read'],
  modelPolicy: { allow: ['m1', 'm2'], max_context_tokens: 50_000 },
  budgets: { tokens: 100_000 },
});

describe('precedence', () => {
  it('earlier layers win field by field; mappings merge per key, lists replace', () => {
    const c = mergeContractLayers({
      platform: platform(),
      tenant: { name: 'triage', modelPolicy: { privacy: 'phi' }, budgets: { tokens_per_minute: 900 } },
      role: { capabilities: ['ehr.read'], class: { latency: 'DT', slo: { max_batch: 8 } } },
      request: { budgets: { tokens: 10 }, class: { slo: { completion_sla_ms: 500 } } },
    });
    expect(c.name).toBe('triage');
    expect(c.capabilities).toEqual(['ehr.read']);
    expect(c.modelPolicy).toEqual({ allow: ['m1', 'm2'], max_context_tokens: 50_000, privacy: 'phi' });
    expect(c.budgets).toEqual({ tokens: 10, tokens_per_minute: 900 });
    expect(c.class).toEqual({ latency: 'DT', slo: { max_batch: 8, completion_sla_ms: 500 } });
  });

  it('replaces class whole when the latency class changes', () => {
    const c = mergeContractLayers({
      platform: { ...platform(), class: { latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 1 } } },
      request: { class: { latency: 'SRT', slo: { onset_ms: 100, turn_ms: 900 } } },
    });
    expect(c.class).toEqual({ latency: 'SRT', slo: { onset_ms: 100, turn_ms: 900 } });
  });

  it('does not mutate the layers', () => {
    const layers = { platform: platform(), tenant: { must: { tokens: 5 } }, request: { capabilities: ['web.fetch'] } };
    const before = structuredClone(layers);
    mergeContractLayers(layers);
    expect(layers).toEqual(before);
  });

  it('validates the result and names the layer that set a bad field', () => {
    expectContractError(() => mergeContractLayers({ platform: platform(), request: { class: { latency: 'DT', slo: { max_batch: 0 } } } }),
      'CONTRACT_INVALID', '<merge>: request: class.slo.max_batch: must be >= 1 (got 0)');
    expectContractError(() => mergeContractLayers({ platform: platform(), role: { capabilites: [] } }), 'CONTRACT_INVALID', '<merge>: role: capabilites: unknown field (did you mean "capabilities"?)');
    expectContractError(() => mergeContractLayers({ platform: { ...platform(), apiVersion: 'agentos/v9' } }), 'CONTRACT_VERSION', 'platform: apiVersion: unsupported version');
  });
});

describe('must: a lower-precedence override cannot loosen a higher-authority must', () => {
  const tenant = { must: { privacy: 'phi', placement: 'on_prem' } };

  it('the issue example: tenant must placement on_prem, request placement cloud', () => {
    const err = expectContractError(() => mergeContractLayers({ platform: platform(), tenant, request: { placement: 'cloud' } }), 'CONTRACT_MERGE',
      '<merge>: request: placement: is "cloud", but must.placement is "on_prem" — cannot loosen tenant\'s must.placement');
    expect(err.field).toBe('placement');
    expect(err.details).toMatchObject({ issues: [{ layer: 'request', field: 'placement' }] });
  });

  it('enums must be equal: privacy and model placement too', () => {
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant, role: { modelPolicy: { privacy: 'internal' } } }), 'CONTRACT_MERGE', 'role: modelPolicy.privacy: is "internal"');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant, request: { modelPolicy: { placement: 'edge' } } }), 'CONTRACT_MERGE', 'request: modelPolicy.placement');
    const ok = mergeContractLayers({ platform: platform(), tenant, request: { placement: 'on_prem' } });
    expect(ok).toMatchObject({ placement: 'on_prem', modelPolicy: { privacy: 'phi', placement: 'on_prem' }, must: { privacy: 'phi', placement: 'on_prem' } });
  });

  it('sets can only shrink: capabilities (wildcard-aware) and models', () => {
    const t = { must: { capabilities: ['web.*', 'ehr.read'], models: ['m1', 'm2'] } };
    expect(mergeContractLayers({ platform: platform(), tenant: t, request: { capabilities: ['web.search', 'ehr.read'] } }).capabilities).toEqual(['web.search', 'ehr.read']);
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: t, request: { capabilities: ['web.fetch', 'ehr.write'] } }),
      'CONTRACT_MERGE', 'request: capabilities[1]: "ehr.write" is outside must.capabilities (web.*, ehr.read)');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: t, request: { capabilities: ['ehr.*'] } }), 'CONTRACT_MERGE', '"ehr.*" is outside');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: t, role: { modelPolicy: { allow: ['m1', 'gpt-4o'] } } }), 'CONTRACT_MERGE', 'role: modelPolicy.allow[1]: "gpt-4o" is outside must.models');
  });

  it('numeric limits can only decrease; currency only in the same code', () => {
    const t = { must: { tokens: 1000, max_context_tokens: 8000, currency: { amount: 10, code: 'USD' } } };
    expect(mergeContractLayers({ platform: platform(), tenant: t, request: { budgets: { tokens: 400 } } }).budgets?.tokens).toBe(400);
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: t, request: { budgets: { tokens: 1001 } } }), 'CONTRACT_MERGE', 'request: budgets.tokens: is 1001, above must.tokens 1000');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: t, request: { modelPolicy: { max_context_tokens: 9000 } } }), 'CONTRACT_MERGE', 'modelPolicy.max_context_tokens');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: t, request: { budgets: { currency: { amount: 1, code: 'EUR' } } } }), 'CONTRACT_MERGE', 'budgets.currency: exceeds must.currency (10 USD)');
    expect(mergeContractLayers({ platform: platform(), tenant: t, request: { budgets: { currency: { amount: 2, code: 'USD' } } } }).budgets?.currency).toEqual({ amount: 2, code: 'USD' });
  });

  it('inherited defaults are tightened instead: the platform default budget is lowered to the tenant bound', () => {
    const c = mergeContractLayers({
      platform: { ...platform(), placement: 'cloud', capabilities: ['web.fetch', 'ehr.read', 'fs.write'], modelPolicy: { allow: ['m1', 'm2', 'm3'], max_context_tokens: 50_000, privacy: 'public' } },
      tenant: { must: { placement: 'on_prem', privacy: 'phi', capabilities: ['web.*', 'ehr.read'], models: ['m2'], tokens: 1000, tokens_per_minute: 60, max_context_tokens: 8000, currency: { amount: 3, code: 'EUR' } } },
    });
    expect(c).toMatchObject({
      placement: 'on_prem',
      capabilities: ['web.fetch', 'ehr.read'],
      modelPolicy: { allow: ['m2'], max_context_tokens: 8000, privacy: 'phi', placement: 'on_prem' },
      budgets: { tokens: 1000, tokens_per_minute: 60, currency: { amount: 3, code: 'EUR' } },
    });
  });

  it('a layer\'s own values must satisfy its own must', () => {
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: { placement: 'cloud', must: { placement: 'on_prem' } } }),
      'CONTRACT_MERGE', 'tenant: placement: is "cloud", but must.placement is "on_prem" — cannot loosen its own must.placement');
  });

  it('the platform\'s must binds every other layer, including the tenant', () => {
    expectContractError(() => mergeContractLayers({ platform: { ...platform(), must: { tokens: 100 } }, tenant: { budgets: { tokens: 500 } } }), 'CONTRACT_MERGE', "tenant: budgets.tokens: is 500, above must.tokens 100 — cannot loosen platform's must.tokens");
  });

  it('a must of an overriding layer may tighten but not loosen the one it overrides', () => {
    const c = mergeContractLayers({ platform: platform(), tenant: { must: { tokens: 1000, capabilities: ['web.*'] } }, request: { must: { tokens: 10, capabilities: ['web.fetch'] } } });
    expect(c.must).toEqual({ tokens: 10, capabilities: ['web.fetch'] });
    expect(c.budgets?.tokens).toBe(10);
    expect(c.capabilities).toEqual(['web.fetch']);
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: { must: { placement: 'on_prem' } }, request: { must: { placement: 'cloud' } } }),
      'CONTRACT_MERGE', 'request: must.placement: "cloud" is looser than must.placement "on_prem"');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: { must: { tokens: 10 } }, role: { must: { tokens: 11 } } }), 'CONTRACT_MERGE', 'role: must.tokens');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: { must: { consent_for: ['pay.*'] } }, request: { must: { consent_for: [] } } }), 'CONTRACT_MERGE', 'request: must.consent_for');
  });

  it('approvals can only grow: an override may not drop one, an inherited list is extended', () => {
    const t = { must: { consent_for: ['pay.*'] } };
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: t, request: { capabilities: ['pay.refund'], security: { consent_for: [] } } }),
      'CONTRACT_MERGE', 'request: security.consent_for: drops the approval for "pay.refund" — cannot loosen tenant\'s must.consent_for');
    const c = mergeContractLayers({ platform: platform(), tenant: t, request: { capabilities: ['pay.refund', 'web.fetch'] } });
    expect(c.security?.consent_for).toEqual(['pay.refund']);
    const wide = mergeContractLayers({ platform: platform(), tenant: { must: { consent_for: ['pay.refund'] } }, request: { capabilities: ['pay.*'] } });
    expect(wide.security?.consent_for).toEqual(['pay.refund']);
  });

  it('reads layers from YAML with the same safety as contracts', () => {
    const tenant = loadContractLayer('must:\n  placement: on_prem\nbudgets: { tokens: 50 }\n', { filename: 'tenant.yaml' });
    expect(mergeContractLayers({ platform: platform(), tenant })).toMatchObject({ placement: 'on_prem', budgets: { tokens: 50 } });
    expectContractError(() => loadContractLayer('must:\n  __proto__: { polluted: 1 }\n', { filename: 'tenant.yaml' }), 'CONTRACT_INVALID', 'tenant.yaml:2:3: must.__proto__');
    expectContractError(() => loadContractLayer('- a\n- b\n'), 'CONTRACT_INVALID', '<inline>:1:1: (root): the document must be a mapping');
  });

  it('rejects hostile or malformed layers, naming the layer', () => {
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown> }), 'CONTRACT_INVALID', 'tenant: __proto__: key "__proto__" is forbidden');
    expectContractError(() => mergeContractLayers({ platform: platform(), tenant: { must: { placement: 'moon' } } }), 'CONTRACT_INVALID', 'tenant: must.placement: must be one of on_prem, edge, cloud (got "moon")');
    expectContractError(() => mergeContractLayers({ platform: platform(), role: [] as unknown as Record<string, unknown> }), 'CONTRACT_INVALID', 'role: (root): a configuration layer must be a mapping');
    expectContractError(() => mergeContractLayers({} as never), 'CONTRACT_INVALID', 'the platform layer is required');
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

// ---- properties -----------------------------------------------------------

const CAPS = ['web.fetch', 'web.search', 'ehr.read', 'ehr.write', 'pay.refund', 'pay.charge', 'web.*', 'ehr.*', 'pay.*'];
const MODELS = ['m1', 'm2', 'm3', 'm4'];
const covers = (g: string, n: string) => g === n || (g.endsWith('.*') && n.startsWith(g.slice(0, -1)) && n.length > g.length - 1);

/** A record whose keys are each present with probability 1/4 (dense records almost always conflict). */
function sparse<T extends Record<string, fc.Arbitrary<unknown>>>(model: T): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(model).map(([k, arb]) => [k, fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb })] as const);
  return fc.record(Object.fromEntries(entries)).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}

const mustArb = sparse({
  placement: fc.constantFrom(...PLACEMENTS),
  privacy: fc.constantFrom(...PRIVACY_LEVELS),
  capabilities: fc.subarray(CAPS),
  models: fc.subarray(MODELS),
  max_context_tokens: fc.integer({ min: 1, max: 100_000 }),
  tokens: fc.integer({ min: 1, max: 200_000 }),
  tokens_per_minute: fc.integer({ min: 1, max: 10_000 }),
  consent_for: fc.subarray(CAPS),
});

const overrideArb = sparse({
  placement: fc.constantFrom(...PLACEMENTS),
  capabilities: fc.subarray(CAPS),
  modelPolicy: sparse({
    allow: fc.subarray(MODELS),
    max_context_tokens: fc.integer({ min: 1, max: 100_000 }),
    privacy: fc.constantFrom(...PRIVACY_LEVELS),
    placement: fc.constantFrom(...PLACEMENTS),
  }),
  budgets: sparse({ tokens: fc.integer({ min: 1, max: 200_000 }), tokens_per_minute: fc.integer({ min: 1, max: 10_000 }) }),
  security: sparse({ consent_for: fc.subarray(CAPS) }),
});

/** Independent oracle: does `c` meet `must`? */
function meets(c: Contract, must: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const m = must as { placement?: string; privacy?: string; capabilities?: string[]; models?: string[]; max_context_tokens?: number; tokens?: number; tokens_per_minute?: number; consent_for?: string[] };
  if (m.placement && (c.placement !== m.placement || (c.modelPolicy?.placement ?? m.placement) !== m.placement)) bad.push('placement');
  if (m.privacy && c.modelPolicy?.privacy !== m.privacy) bad.push('privacy');
  if (m.capabilities && !c.capabilities.every((x) => m.capabilities?.some((g) => covers(g, x)))) bad.push('capabilities');
  if (m.models && !(c.modelPolicy?.allow ?? []).every((x) => m.models?.includes(x))) bad.push('models');
  if (m.max_context_tokens && !((c.modelPolicy?.max_context_tokens ?? Infinity) <= m.max_context_tokens)) bad.push('max_context_tokens');
  if (m.tokens && !((c.budgets?.tokens ?? Infinity) <= m.tokens)) bad.push('tokens');
  if (m.tokens_per_minute && !((c.budgets?.tokens_per_minute ?? Infinity) <= m.tokens_per_minute)) bad.push('tokens_per_minute');
  for (const r of m.consent_for ?? []) {
    for (const cap of c.capabilities) {
      const need = covers(r, cap) ? cap : covers(cap, r) ? r : undefined;
      if (need && !(c.security?.consent_for ?? []).some((g) => covers(g, need))) bad.push(`consent ${need}`);
    }
  }
  return bad;
}

/** Does `layer` itself set a value looser than `must`? (The oracle for "must be refused".) */
function loosens(layer: Record<string, any>, must: Record<string, any>): boolean {
  if (must.placement && ((layer.placement ?? must.placement) !== must.placement || (layer.modelPolicy?.placement ?? must.placement) !== must.placement)) return true;
  if (must.privacy && (layer.modelPolicy?.privacy ?? must.privacy) !== must.privacy) return true;
  if (must.capabilities && (layer.capabilities ?? []).some((x: string) => !must.capabilities.some((g: string) => covers(g, x)))) return true;
  if (must.models && (layer.modelPolicy?.allow ?? []).some((x: string) => !must.models.includes(x))) return true;
  if (must.max_context_tokens && (layer.modelPolicy?.max_context_tokens ?? 0) > must.max_context_tokens) return true;
  if (must.tokens && (layer.budgets?.tokens ?? 0) > must.tokens) return true;
  if (must.tokens_per_minute && (layer.budgets?.tokens_per_minute ?? 0) > must.tokens_per_minute) return true;
  return false;
}

describe('merge properties', () => {
  it('property: no lower layer ever loosens a tenant or role must; loosening attempts are refused with CONTRACT_MERGE', () => {
    const outcomes = { merged: 0, refused: 0, invalid: 0 };
    fc.assert(fc.property(mustArb, mustArb, overrideArb, overrideArb, (tenantMust, roleMust, role, request) => {
      const layers = { platform: platform(), tenant: { must: tenantMust }, role: { ...role, must: roleMust }, request };
      let result: Contract | undefined;
      try {
        result = mergeContractLayers(layers);
      } catch (err) {
        expect(err).toBeInstanceOf(ContractError);
        const code = (err as ContractError).code;
        expect(['CONTRACT_MERGE', 'CONTRACT_INVALID']).toContain(code);
        if (code === 'CONTRACT_MERGE') outcomes.refused++;
        else outcomes.invalid++;
      }
      if (loosens(request, tenantMust) || loosens(request, roleMust) || loosens(role, tenantMust) || loosens(role, roleMust)) {
        expect(result, 'a loosening override must be refused').toBeUndefined();
      }
      if (result) {
        outcomes.merged++;
        expect(meets(result, tenantMust)).toEqual([]);
        expect(meets(result, roleMust)).toEqual([]);
      }
    }), { numRuns: 1000 });
    // Both branches must actually be exercised for the property to mean anything.
    expect(outcomes.merged).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });

  it('property: whatever merge returns is a valid contract, fixed under parseContract', () => {
    fc.assert(fc.property(mustArb, overrideArb, overrideArb, (tenantMust, tenant, request) => {
      let result: Contract;
      try {
        result = mergeContractLayers({ platform: platform(), tenant: { ...tenant, must: tenantMust }, request });
      } catch (err) {
        expect(err).toBeInstanceOf(ContractError);
        return;
      }
      const again = parseContract(JSON.parse(JSON.stringify(result)));
      expect(again).toEqual(result);
      expect(contractHash(again)).toBe(contractHash(result));
    }), { numRuns: 300 });
  });

  it('property: arbitrary JSON layers only ever produce ContractError and never touch Object.prototype', () => {
    const layer = fc.option(fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'must', 'capabilities', 'budgets', 'class', 'placement', 'x'), fc.jsonValue({ maxDepth: 3 })), { nil: undefined });
    fc.assert(fc.property(layer, layer, layer, (tenant, role, request) => {
      try {
        mergeContractLayers({ platform: platform(), ...(tenant && { tenant }), ...(role && { role }), ...(request && { request }) });
      } catch (err) {
        expect(err).toBeInstanceOf(ContractError);
      }
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS);
    }), { numRuns: 300 });
  });
});

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
