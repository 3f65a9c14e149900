import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdmissionError, ContractError } from '../../../src/base/errors.js';
import {
  BINDING_CONDITIONS, Binder, mustViolations, parseVersionSpec, staticRegistry, verifyManifest,
  type BindingRequest, type RegistryEntry,
} from '../../../src/kernel/binding/index.js';
import { signer, verifier } from './fixtures.js';

const NAMES = ['asr_local', 'asr_cloud', 'llm_small'];
const PLACEMENTS = ['on_prem', 'cloud'];

const entryArb: fc.Arbitrary<RegistryEntry> = fc.record({
  name: fc.constantFrom(...NAMES),
  major: fc.integer({ min: 1, max: 3 }),
  minor: fc.integer({ min: 0, max: 1 }),
  placement: fc.constantFrom(...PLACEMENTS),
  privacy: fc.subarray(['phi']),
  gpu: fc.boolean(),
}).map((e) => ({
  name: e.name, version: `v${e.major}.${e.minor}`, hash: `sha256:${e.name}-${e.major}.${e.minor}-${e.placement}-${e.privacy.join('+')}-${e.gpu}`,
  attributes: { placement: e.placement, privacy: e.privacy, gpu: e.gpu },
}));

const specArb = fc.record({ name: fc.constantFrom(...NAMES), lo: fc.integer({ min: 1, max: 3 }), span: fc.integer({ min: 0, max: 2 }), pinned: fc.boolean() })
  .map((s) => (s.pinned ? `${s.name}_v${s.lo}` : `${s.name}_v${s.lo}..v${s.lo + s.span}`));

const registryArb = fc.uniqueArray(entryArb, { minLength: 4, maxLength: 40, selector: (e) => e.hash });

const requestArb: fc.Arbitrary<BindingRequest> = fc.record({
  mode: fc.constantFrom('strict', 'smooth', 'flexible' as const),
  requires: fc.uniqueArray(fc.record({ slot: fc.constantFrom('asr', 'llm', 'tts'), want: specArb }), { minLength: 1, maxLength: 2, selector: (r) => r.slot }),
  must: fc.record({ placement: fc.constantFrom(...PLACEMENTS), privacy: fc.constant('phi'), gpu: fc.boolean() }, { requiredKeys: [] }),
  allowFallbacks: fc.array(fc.record({ from: fc.oneof(fc.constantFrom('asr', 'llm', 'tts'), fc.constantFrom(...NAMES)), to: specArb, when: fc.constantFrom(...BINDING_CONDITIONS) }), { maxLength: 6 }),
  conditions: fc.subarray([...BINDING_CONDITIONS]),
  canary: fc.option(fc.record({ percent: fc.integer({ min: 0, max: 100 }), seed: fc.integer() }), { nil: undefined }),
}).map((r) => ({ ...r, ...(r.mode === 'strict' && { requires: r.requires.map((q) => ({ ...q, want: q.want.replace(/\.\.v\d+$/, '') })) }) }));

function bindOrError(entries: RegistryEntry[], request: BindingRequest) {
  const binder = new Binder({ registry: staticRegistry(entries), sign: signer });
  try {
    return { manifest: binder.bind(request) };
  } catch (error) {
    if (error instanceof AdmissionError || error instanceof ContractError) return { error };
    throw error;
  }
}

describe('binding properties', () => {
  it('every bound selection satisfies every must constraint, or the call throws a typed error', () => {
    const seen = { bound: 0, refused: 0 };
    fc.assert(fc.property(registryArb, requestArb, (entries, request) => {
      const r = bindOrError(entries, request);
      if (r.error) {
        seen.refused++;
        return;
      }
      seen.bound++;
      for (const s of r.manifest.body.selections) {
        const entry = entries.find((e) => e.hash === s.hash);
        expect(entry).toBeDefined();
        expect(mustViolations(entry!, request.must ?? {})).toEqual([]);
      }
      expect(verifyManifest(r.manifest, verifier)).toEqual({ ok: true });
    }), { numRuns: 500 });
    expect(seen.bound).toBeGreaterThan(50);
    expect(seen.refused).toBeGreaterThan(50);
  });

  it('flexible substitutes only while the condition holds, and only to what allow_fallbacks names', () => {
    let substituted = 0;
    fc.assert(fc.property(registryArb, requestArb, (entries, raw) => {
      const request = { ...raw, mode: 'flexible' as const, canary: undefined };
      const r = bindOrError(entries, request);
      if (r.error) return;
      request.requires.forEach((req, i) => {
        const s = r.manifest.body.selections[i];
        const primary = parseVersionSpec(req.want);
        if (s.role !== 'fallback') {
          expect(s.name).toBe(primary.name);
          return;
        }
        substituted++;
        const sub = r.manifest.body.substitutions.find((x) => x.slot === req.slot);
        expect(sub).toMatchObject({ name: s.name, version: s.version, hash: s.hash });
        const rule = request.allowFallbacks?.find((f) => f.to === sub?.to && f.when === sub?.when && [req.slot, req.want, primary.name].includes(f.from));
        expect(rule).toBeDefined();
        expect(request.conditions).toContain(rule!.when);
        expect(parseVersionSpec(rule!.to).name).toBe(s.name);
      });
    }), { numRuns: 500 });
    expect(substituted).toBeGreaterThan(20);
  });

  it('binding is deterministic: the same registry and request give the same body', () => {
    fc.assert(fc.property(registryArb, requestArb, (entries, request) => {
      const a = bindOrError(entries, request);
      const b = bindOrError(entries, request);
      if (a.error) expect(b.error?.message).toBe(a.error.message);
      else expect(b.manifest?.hash).toBe(a.manifest.hash);
    }), { numRuns: 200 });
  });
});
