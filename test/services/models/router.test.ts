import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelGlobMatches } from '../../../src/kernel/contract/index.js';
import { PLACEMENTS, PRIVACY_LEVELS } from '../../../src/kernel/contract/schema.js';
import { route, SENSITIVE, type RoutableModel, type RouteInput } from '../../../src/services/models/router.js';

const local = (id: string, contextTokens: number): RoutableModel => ({ id, contextTokens, placement: 'edge', privacy: [...PRIVACY_LEVELS], network: 'none' });
const CATALOG: RoutableModel[] = [
  local('local/rules', 8_192),
  local('local/echo', 32_768),
  { id: 'ollama/llama3.2', contextTokens: 128_000, placement: 'on_prem', privacy: ['public', 'internal', 'confidential', 'pii', 'phi'], network: 'loopback' },
  { id: 'lan/mixtral', contextTokens: 32_000, placement: 'on_prem', privacy: ['public', 'internal', 'confidential', 'pii', 'phi'], network: 'remote' },
  { id: 'cloud/gpt', contextTokens: 200_000, placement: 'cloud', privacy: ['public', 'internal', 'confidential', 'pii'], network: 'remote' },
];

const base: RouteInput = { requested: 'local/rules', policy: { allow: ['local/*', 'ollama/*', 'lan/*', 'cloud/*'], maxContextTokens: 200_000 }, wantTokens: 1000, minTokens: 500, mode: 'hybrid' };
const ids = (input: Partial<RouteInput>) => route(CATALOG, { ...base, ...input }).candidates.map((c) => c.id);

describe('router', () => {
  it('puts the requested model first when it holds the conversation, then fallbacks by allow order, cloud last in hybrid mode', () => {
    expect(ids({})).toEqual(['local/rules', 'local/echo', 'ollama/llama3.2', 'lan/mixtral', 'cloud/gpt']);
    expect(ids({ policy: { ...base.policy, allow: ['cloud/*', 'local/*'] } })).toEqual(['local/rules', 'local/echo', 'cloud/gpt']);
    expect(ids({ mode: 'edge', policy: { ...base.policy, allow: ['cloud/*', 'local/*'] } })).toEqual(['local/rules', 'local/echo']);
  });

  it('escalates to a model that holds the whole conversation before trimming it for a small one', () => {
    const d = route(CATALOG, { ...base, wantTokens: 20_000, minTokens: 2_000 });
    expect(d.candidates.map((c) => [c.id, c.fits])).toEqual([
      ['local/echo', 'whole'],
      ['ollama/llama3.2', 'whole'],
      ['lan/mixtral', 'whole'],
      ['cloud/gpt', 'whole'],
      ['local/rules', 'trimmed'],
    ]);
    expect(d.reason).toContain('chose local/echo');
    expect(d.reason).toContain('escalated');
  });

  it('never offers a model that cannot hold even the unremovable part; caps windows at max_context_tokens', () => {
    const d = route(CATALOG, { ...base, policy: { ...base.policy, maxContextTokens: 16_000 }, wantTokens: 50_000, minTokens: 10_000 });
    expect(d.candidates.map((c) => [c.id, c.window, c.fits])).toEqual([
      ['local/echo', 16_000, 'trimmed'],
      ['ollama/llama3.2', 16_000, 'trimmed'],
      ['lan/mixtral', 16_000, 'trimmed'],
      ['cloud/gpt', 16_000, 'trimmed'],
    ]);
    expect(d.rejected.find((r) => r.id === 'local/rules')?.reasons[0]).toMatch(/context 8192 < 10000/);
  });

  it('keeps PHI away from models that do not take it, and de-identifies sensitive data for the cloud', () => {
    expect(ids({ policy: { ...base.policy, privacy: 'phi' } })).not.toContain('cloud/gpt');
    const pii = route(CATALOG, { ...base, policy: { ...base.policy, privacy: 'pii' } });
    expect(pii.candidates.find((c) => c.id === 'cloud/gpt')?.redact).toBe(true);
    expect(pii.candidates.filter((c) => c.redact).map((c) => c.id)).toEqual(['cloud/gpt']);
    expect(route(CATALOG, { ...base, policy: { ...base.policy, privacy: 'public' } }).candidates.some((c) => c.redact)).toBe(false);
    expect(route(CATALOG, { ...base, redactCloud: 'always' }).candidates.find((c) => c.id === 'cloud/gpt')?.redact).toBe(true);
    expect(route(CATALOG, { ...base, policy: { ...base.policy, privacy: 'pii' }, redactCloud: 'never' }).candidates.some((c) => c.redact)).toBe(false);
  });

  it('air-gapped refuses every provider that leaves the machine, saying so', () => {
    const d = route(CATALOG, { ...base, mode: 'air-gapped' });
    expect(d.candidates.map((c) => c.id)).toEqual(['local/rules', 'local/echo', 'ollama/llama3.2']);
    expect(d.rejected.map((r) => r.id)).toEqual(['lan/mixtral', 'cloud/gpt']);
    expect(d.reason).toContain('air-gapped node');
  });

  it('honours fallbacks: none, or an explicit ordered list', () => {
    expect(ids({ fallbacks: false })).toEqual(['local/rules']);
    expect(ids({ fallbacks: ['cloud/gpt', 'local/echo'] })).toEqual(['local/rules', 'local/echo', 'cloud/gpt']);
    expect(ids({ mode: 'edge', fallbacks: ['lan/mixtral', 'local/echo'] })).toEqual(['local/rules', 'lan/mixtral', 'local/echo']);
  });

  it('explains a refusal: unknown model, nothing allowed, or a request over max_context_tokens', () => {
    const unknown = route(CATALOG, { ...base, requested: 'local/nope', policy: { allow: ['local/nope'] } });
    expect(unknown.candidates).toEqual([]);
    expect(unknown.reason).toContain('local/nope (not in the catalog)');
    const over = route(CATALOG, { ...base, policy: { allow: ['local/*'], maxContextTokens: 1000 }, minTokens: 1500, wantTokens: 3000 });
    expect(over.candidates).toEqual([]);
    expect(over.reason).toContain('over max_context_tokens 1000');
  });
});

// ── properties ────────────────────────────────────────────────────────────

const providers = ['local', 'ollama', 'lan', 'cloud'] as const;
const modelArb: fc.Arbitrary<RoutableModel> = fc.record({
  id: fc.tuple(fc.constantFrom(...providers), fc.constantFrom('a', 'b', 'c', 'big/x', 'v1:7b')).map(([p, m]) => `${p}/${m}`),
  contextTokens: fc.integer({ min: 1, max: 200_000 }),
  placement: fc.constantFrom(...PLACEMENTS),
  privacy: fc.subarray([...PRIVACY_LEVELS]),
  network: fc.constantFrom('none', 'loopback', 'remote'),
}) as fc.Arbitrary<RoutableModel>;
const catalogArb = fc.uniqueArray(modelArb, { selector: (m) => m.id, maxLength: 12 });
const globArb = fc.constantFrom('local/*', 'ollama/*', 'lan/**', 'cloud/*', '**', 'local/a', 'cloud/big/x', 'ollama/v1:7b', '*/b');
const inputArb = (models: RoutableModel[]) =>
  fc.record({
    requested: models.length > 0 ? fc.oneof(fc.constantFrom(...models.map((m) => m.id)), fc.constant('local/zzz')) : fc.constant('local/a'),
    policy: fc.record(
      {
        allow: fc.array(globArb, { maxLength: 4 }),
        maxContextTokens: fc.integer({ min: 1, max: 250_000 }),
        privacy: fc.constantFrom(...PRIVACY_LEVELS),
        placement: fc.constantFrom(...PLACEMENTS),
      },
      { requiredKeys: ['allow'] },
    ),
    wantTokens: fc.integer({ min: 1, max: 250_000 }),
    minTokens: fc.integer({ min: 1, max: 250_000 }),
    mode: fc.constantFrom('edge', 'hybrid', 'air-gapped'),
    fallbacks: fc.oneof(fc.constant(false as const), fc.constant('auto' as const), fc.uniqueArray(fc.constantFrom(...models.map((m) => m.id), 'local/q'), { maxLength: 5 })),
    redactCloud: fc.constantFrom('sensitive', 'always', 'never'),
  }).map((i) => ({ ...i, minTokens: Math.min(i.minTokens, i.wantTokens) }) as RouteInput);
const scenario = catalogArb.chain((models) => inputArb(models).map((input) => ({ models, input })));

describe('router properties', () => {
  it('never picks a disallowed, too-small, wrong-privacy, wrong-placement or (air-gapped) non-local model', () => {
    fc.assert(
      fc.property(scenario, ({ models, input }) => {
        const { candidates } = route(models, input);
        const byId = new Map(models.map((m) => [m.id, m]));
        const max = input.policy.maxContextTokens ?? Infinity;
        expect(new Set(candidates.map((c) => c.id)).size).toBe(candidates.length);
        for (const c of candidates) {
          const m = byId.get(c.id)!;
          expect(m).toBeDefined();
          expect(input.policy.allow.some((g) => modelGlobMatches(g, m.id))).toBe(true);
          if (input.policy.privacy) expect(m.privacy).toContain(input.policy.privacy);
          if (input.policy.placement) expect(m.placement).toBe(input.policy.placement);
          if (input.mode === 'air-gapped') {
            expect(m.network).not.toBe('remote');
            expect(m.placement).not.toBe('cloud');
          }
          if (input.mode === 'edge') expect(m.placement).not.toBe('cloud');
          expect(c.window).toBe(Math.min(m.contextTokens, max));
          expect(c.window).toBeGreaterThanOrEqual(input.minTokens);
          expect(c.fits).toBe(c.window >= input.wantTokens ? 'whole' : 'trimmed');
          const sensitive = input.redactCloud === 'always' || (input.redactCloud !== 'never' && input.policy.privacy !== undefined && SENSITIVE.includes(input.policy.privacy));
          expect(c.redact).toBe(m.placement === 'cloud' && sensitive);
          if (input.fallbacks === false) expect(c.id).toBe(input.requested);
          if (Array.isArray(input.fallbacks) && c.id !== input.requested) expect(input.fallbacks).toContain(c.id);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('is deterministic: the same inputs give the same decision and reason', () => {
    fc.assert(
      fc.property(scenario, ({ models, input }) => {
        const again = route(structuredClone(models), structuredClone(input) as RouteInput);
        expect(again).toEqual(route(models, input));
      }),
      { numRuns: 300 },
    );
  });

  it('prefers the requested model when eligible and holding the whole conversation, and whole fits before trimmed ones', () => {
    fc.assert(
      fc.property(scenario, ({ models, input }) => {
        const { candidates, reason } = route(models, input);
        const req = candidates.find((c) => c.id === input.requested);
        if (req?.fits === 'whole') expect(candidates[0]).toBe(req);
        const firstTrimmed = candidates.findIndex((c) => c.fits === 'trimmed');
        if (firstTrimmed >= 0) expect(candidates.slice(firstTrimmed).every((c) => c.fits === 'trimmed')).toBe(true);
        expect(reason.length).toBeGreaterThan(0);
        if (candidates.length === 0) expect(reason).toMatch(/^no model may serve/);
        else expect(reason).toContain(`chose ${candidates[0]!.id}`);
      }),
      { numRuns: 500 },
    );
  });

  it('is complete under auto fallbacks: every allowed model is either a candidate or rejected with a reason', () => {
    fc.assert(
      fc.property(scenario, ({ models, input }) => {
        const d = route(models, { ...input, fallbacks: 'auto' });
        const seen = new Set([...d.candidates.map((c) => c.id), ...d.rejected.map((r) => r.id)]);
        for (const m of models) if (input.policy.allow.some((g) => modelGlobMatches(g, m.id))) expect(seen.has(m.id)).toBe(true);
        for (const r of d.rejected) expect(r.reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
