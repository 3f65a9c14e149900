import { describe, expect, it } from 'vitest';
import { AdmissionError, ContractError } from '../../../src/base/errors.js';
import { Binder, resolveBinding, staticRegistry, type BindingRequest } from '../../../src/kernel/binding/index.js';
import { entries, registry } from './fixtures.js';

const phiOnPrem = { placement: 'on_prem', privacy: 'phi' };

function refused(request: BindingRequest, reg = registry): AdmissionError {
  try {
    resolveBinding(request, reg);
  } catch (error) {
    if (error instanceof AdmissionError) return error;
    throw error;
  }
  throw new Error('bound');
}

describe('strict binding', () => {
  it('binds the pinned version when every must holds', () => {
    const r = resolveBinding({ mode: 'strict', requires: [{ slot: 'asr', want: 'asr_local_v2' }], must: phiOnPrem }, registry);
    expect(r.selections[0]).toMatchObject({ slot: 'asr', name: 'asr_local', version: 'v2', hash: 'sha256:asr_local-v2', role: 'pinned', placement: 'on_prem' });
    expect(r.selections[0].reasons).toEqual(['pinned asr_local_v2', 'must placement=on_prem, privacy=phi satisfied']);
  });

  it('pins exactly: v2 is not v2.1', () => {
    const e = refused({ mode: 'strict', requires: [{ slot: 'asr', want: 'asr_local_v2.2' }] });
    expect(e.message).toContain('available: v1, v2, v2.1, v3, v4');
  });

  it('refuses a must mismatch naming slot, attribute, expected and actual', () => {
    const e = refused({ mode: 'strict', requires: [{ slot: 'asr', want: 'asr_local_v4' }], must: phiOnPrem });
    expect(e.code).toBe('BINDING_REFUSED');
    expect(e.field).toBe('must.privacy');
    expect(e.message).toBe('strict binding of slot "asr": every asr_local v4 is ruled out: asr_local v4 has privacy=[], must be privacy=phi');
    expect(e.details).toMatchObject({ slot: 'asr', attribute: 'privacy', expected: 'phi', actual: [] });
  });

  it('refuses an unknown name or a hash that does not match the pin', () => {
    expect(refused({ mode: 'strict', requires: [{ slot: 'tts', want: 'tts_v1' }] }).message).toContain('no tts in the registry');
    const e = refused({ mode: 'strict', requires: [{ slot: 'asr', want: 'asr_local_v2', hash: 'sha256:other' }] });
    expect(e.field).toBe('requires[0].hash');
    expect(e.message).toContain('has hash sha256:asr_local-v2, not the pinned sha256:other');
  });

  it('refuses ranges: strict needs a pinned version', () => {
    expect(() => resolveBinding({ mode: 'strict', requires: [{ slot: 'asr', want: 'asr_local_v2..v3' }] }, registry)).toThrow(ContractError);
  });
});

describe('smooth binding', () => {
  it('picks the highest compatible version in the range', () => {
    const r = resolveBinding({ mode: 'smooth', requires: [{ slot: 'asr', want: 'asr_local_v2..v4' }], must: phiOnPrem }, registry);
    expect(r.selections[0]).toMatchObject({ version: 'v3', role: 'highest', slo: { p95LatencyMs: 200 } });
    expect(r.selections[0].reasons[0]).toBe('highest compatible version in v2..v4');
  });

  it('refuses when every version in range fails a must, listing each', () => {
    const e = refused({ mode: 'smooth', requires: [{ slot: 'asr', want: 'asr_local_v2..v4' }], must: { placement: 'edge' } });
    expect(e.field).toBe('must.placement');
    expect(e.message).toContain('asr_local v4 has placement=on_prem, must be placement=edge');
    expect(e.message).toContain('asr_local v2 has placement=on_prem, must be placement=edge');
  });

  it('refuses an empty intersection of range and registry', () => {
    expect(refused({ mode: 'smooth', requires: [{ slot: 'asr', want: 'asr_local_v5..v9' }] }).message)
      .toBe('smooth binding of slot "asr": no asr_local version in v5..v9 (available: v1, v2, v2.1, v3, v4)');
  });

  it('uses prefer only to rank equal versions, and reports unmet preferences', () => {
    const reg = staticRegistry([
      ...entries,
      { name: 'asr_local', version: 'v3', hash: 'sha256:asr_local-v3-cpu', attributes: { placement: 'on_prem', privacy: ['phi'], accelerator: 'cpu' } },
    ]);
    const gpu = resolveBinding({ mode: 'smooth', requires: [{ slot: 'asr', want: 'asr_local_v3' }], prefer: { accelerator: 'gpu' } }, reg);
    const cpu = resolveBinding({ mode: 'smooth', requires: [{ slot: 'asr', want: 'asr_local_v3' }], prefer: { accelerator: 'cpu' } }, reg);
    expect([gpu.selections[0].hash, cpu.selections[0].hash]).toEqual(['sha256:asr_local-v3', 'sha256:asr_local-v3-cpu']);
    const tpu = resolveBinding({ mode: 'smooth', requires: [{ slot: 'asr', want: 'asr_local_v2..v3' }], prefer: { accelerator: 'tpu' } }, reg);
    expect(tpu.selections[0].reasons).toContain('preference accelerator=tpu not met');
  });
});

describe('flexible binding', () => {
  const base: BindingRequest = {
    mode: 'flexible',
    requires: [{ slot: 'asr', want: 'asr_cloud_v3' }],
    must: { privacy: 'phi' },
    allowFallbacks: [{ from: 'asr_cloud_v3', to: 'asr_local_v2..v3', when: 'bandwidth_low' }],
  };

  it('binds the primary while no condition holds', () => {
    const r = resolveBinding({ ...base, conditions: new Set(['provider_unavailable'] as const) }, registry);
    expect(r.selections[0]).toMatchObject({ name: 'asr_cloud', role: 'highest' });
    expect(r.substitutions).toEqual([]);
  });

  it('substitutes from allow_fallbacks when the condition holds, and records why', () => {
    const r = resolveBinding({ ...base, conditions: new Set(['bandwidth_low'] as const) }, registry);
    expect(r.selections[0]).toMatchObject({ name: 'asr_local', version: 'v3', role: 'fallback' });
    expect(r.selections[0].reasons[0]).toBe('substituted for asr_cloud_v3 because bandwidth_low holds (allow_fallbacks asr_cloud_v3 → asr_local_v2..v3)');
    expect(r.substitutions).toEqual([{
      slot: 'asr', from: 'asr_cloud_v3', to: 'asr_local_v2..v3', when: 'bandwidth_low', name: 'asr_local', version: 'v3', hash: 'sha256:asr_local-v3',
      validated: ['condition bandwidth_low holds', 'allow_fallbacks permits asr_cloud_v3 → asr_local_v2..v3', 'must privacy=phi'],
    }]);
  });

  it('never relaxes must: a fallback that breaks it is skipped, and with none left the binding is refused', () => {
    const request: BindingRequest = {
      ...base,
      must: { placement: 'cloud' },
      conditions: ['bandwidth_low'],
      allowFallbacks: [{ from: 'asr', to: 'asr_local_v2..v3', when: 'bandwidth_low' }, { from: 'asr', to: 'asr_edge_v1', when: 'bandwidth_low' }],
    };
    const e = refused(request);
    expect(e.field).toBe('must.placement');
    expect(e.message).toContain('bandwidth_low holds but no allowed fallback can be bound without relaxing must');
    expect(e.message).toContain('asr_edge v1 has placement=edge, must be placement=cloud');
    expect(e.details).toMatchObject({ slot: 'asr', attribute: 'placement', expected: 'cloud' });
  });

  it('takes the first allowed fallback that satisfies must and records the ones skipped', () => {
    const r = resolveBinding({
      ...base, must: { placement: 'edge' }, conditions: ['provider_unavailable'],
      allowFallbacks: [{ from: 'asr_cloud', to: 'asr_local_v3', when: 'provider_unavailable' }, { from: 'asr_cloud', to: 'asr_edge_v1', when: 'provider_unavailable' }],
    }, registry);
    expect(r.selections[0]).toMatchObject({ name: 'asr_edge', role: 'fallback' });
    expect(r.selections[0].reasons[1]).toContain('fallback asr_local_v3: asr_local v3 has placement=on_prem, must be placement=edge skipped');
  });

  it('does not substitute a slot the rule does not name, nor on a different condition', () => {
    const r = resolveBinding({
      mode: 'flexible', requires: [{ slot: 'llm', want: 'llm_local_v1' }, { slot: 'asr', want: 'asr_cloud_v3' }],
      allowFallbacks: [{ from: 'llm', to: 'llm_cloud_v5', when: 'context_exceeds_local' }, { from: 'asr', to: 'asr_local_v3', when: 'bandwidth_low' }],
      conditions: ['context_exceeds_local'],
    }, registry);
    expect(r.selections.map((s) => [s.slot, s.name, s.role])).toEqual([['llm', 'llm_cloud', 'fallback'], ['asr', 'asr_cloud', 'highest']]);
  });

  it('refuses the primary when it breaks must and no condition allows a fallback', () => {
    const e = refused({ ...base, must: { placement: 'on_prem' }, conditions: [] });
    expect(e.message).toContain('flexible binding of slot "asr"');
    expect(e.field).toBe('must.placement');
  });
});

describe('request validation', () => {
  it.each([
    [{ mode: 'loose', requires: [{ slot: 'a', want: 'asr_local_v1' }] }, 'mode'],
    [{ mode: 'smooth', requires: [] }, 'requires'],
    [{ mode: 'smooth', requires: [{ slot: 'a', want: 'asr_local_v1' }, { slot: 'a', want: 'asr_local_v2' }] }, 'requires[1].slot'],
    [{ mode: 'smooth', requires: [{ slot: 'a', want: 'asr_local' }] }, 'requires[0].want'],
    [{ mode: 'smooth', requires: [{ slot: 'a', want: 'asr_local_v1' }], conditions: ['sunny'] }, 'conditions[0]'],
    [{ mode: 'flexible', requires: [{ slot: 'a', want: 'asr_local_v1' }], allowFallbacks: [{ from: 'a', to: 'x', when: 'bandwidth_low' }] }, 'allowFallbacks[0].to'],
    [{ mode: 'smooth', requires: [{ slot: 'a', want: 'asr_local_v1' }], must: { placement: ['a'] } }, 'must.placement'],
    [{ mode: 'smooth', requires: [{ slot: 'a', want: 'asr_local_v1' }], canary: { percent: 120, seed: 1 } }, 'canary.percent'],
  ])('refuses %j with a ContractError on %s', (request, field) => {
    expect(() => resolveBinding(request as unknown as BindingRequest, registry)).toThrow(expect.objectContaining({ field }));
    expect(() => resolveBinding(request as unknown as BindingRequest, registry)).toThrow(ContractError);
  });

  it('needs a signer and a valid registry', () => {
    expect(() => new Binder({ registry, sign: undefined as unknown as () => string })).toThrow(ContractError);
    expect(() => staticRegistry([{ name: 'a', version: 'latest', hash: 'h', attributes: {} }])).toThrow(/registry\[0\]\.version/);
  });
});
