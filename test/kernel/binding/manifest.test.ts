import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Binder, canonicalJson, sealManifest, sha256Hex, verifyManifest, type BindingManifest } from '../../../src/kernel/binding/index.js';
import { registry, signer, verifier } from './fixtures.js';

const binder = new Binder({ registry, sign: signer });
const manifest = (): BindingManifest => binder.bind({
  id: 'scribe', mode: 'flexible', requires: [{ slot: 'asr', want: 'asr_cloud_v3' }, { slot: 'llm', want: 'llm_local_v1' }],
  must: { privacy: 'phi' }, prefer: { accelerator: 'gpu' }, conditions: new Set(['bandwidth_low'] as const),
  allowFallbacks: [{ from: 'asr', to: 'asr_local_v2..v3', when: 'bandwidth_low' }], slo: { p95LatencyMs: 400 },
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/\$\.a/);
    expect(() => canonicalJson({ a: new Set([1]) })).toThrow(/Set/);
    expect(() => canonicalJson(undefined)).toThrow();
  });

  it('is independent of key insertion order', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
      const reversed = Object.fromEntries(Object.entries(obj).reverse());
      expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
    }));
  });
});

describe('sealed manifests', () => {
  it('carries selections with hashes, placement, SLOs and reasons, hashed and Ed25519-signed', () => {
    const m = manifest();
    expect(m.body).toMatchObject({
      format: 'agentos.binding/1', bindingId: expect.stringMatching(/^scribe#\d+$/), requestId: 'scribe', mode: 'flexible',
      conditions: ['bandwidth_low'], slo: { p95LatencyMs: 400 },
    });
    expect(m.body.selections.map((s) => [s.slot, s.name, s.version, s.hash, s.placement])).toEqual([
      ['asr', 'asr_local', 'v3', 'sha256:asr_local-v3', 'on_prem'],
      ['llm', 'llm_local', 'v1', 'sha256:llm_local-v1', 'on_prem'],
    ]);
    expect(m.body.selections[0].slo).toEqual({ p95LatencyMs: 200 });
    expect(m.body.substitutions).toHaveLength(1);
    expect(m.hash).toBe(sha256Hex(canonicalJson(m.body)));
    expect(m.signature).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyManifest(m, verifier)).toEqual({ ok: true });
  });

  it('is frozen, and survives a JSON round trip', () => {
    const m = manifest();
    expect(Object.isFrozen(m.body.selections[0].reasons)).toBe(true);
    expect(() => { (m.body.selections[0] as { version: string }).version = 'v4'; }).toThrow(TypeError);
    expect(verifyManifest(JSON.parse(JSON.stringify(m)) as BindingManifest, verifier)).toEqual({ ok: true });
  });

  it('detects a changed version, hash, reason, or a re-hashed body without a matching signature', () => {
    const edit = (f: (m: { body: any; hash: string; signature: string }) => void): BindingManifest => {
      const copy = structuredClone(manifest()) as { body: any; hash: string; signature: string };
      f(copy);
      return copy as BindingManifest;
    };
    expect(verifyManifest(edit((m) => { m.body.selections[0].version = 'v4'; }), verifier)).toMatchObject({ ok: false, reason: expect.stringContaining('hash mismatch') });
    expect(verifyManifest(edit((m) => { m.body.selections[1].reasons.push('trust me'); }), verifier).ok).toBe(false);
    expect(verifyManifest(edit((m) => { m.body.must = {}; m.hash = sha256Hex(canonicalJson(m.body)); }), verifier))
      .toEqual({ ok: false, reason: 'signature does not verify' });
    expect(verifyManifest(edit((m) => { m.signature = m.signature.replace(/^./, (c) => (c === '0' ? '1' : '0')); }), verifier).ok).toBe(false);
    expect(verifyManifest(edit((m) => { m.body.extra = undefined; m.body.boundAtMs = Number.NaN; }), verifier).ok).toBe(false);
  });

  it('detects a change at any leaf of the body (property)', () => {
    const sealed = manifest();
    const leaves: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]): void => {
      if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
      else leaves.push(path);
    };
    walk(sealed.body, []);
    fc.assert(fc.property(fc.constantFrom(...leaves), fc.jsonValue(), (path, value) => {
      const copy = structuredClone(sealed) as { body: any };
      let target = copy.body;
      for (const key of path.slice(0, -1)) target = target[key];
      const last = path[path.length - 1];
      fc.pre(canonicalJson(target[last]) !== canonicalJson(value ?? null));
      target[last] = value;
      expect(verifyManifest(copy as BindingManifest, verifier).ok).toBe(false);
    }), { numRuns: 300 });
  });

  it('requires the signer to return hex', () => {
    expect(() => sealManifest(manifest().body, () => 'not hex!')).toThrow(/hex/);
  });
});
