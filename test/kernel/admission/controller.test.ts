import { describe, expect, it } from 'vitest';
import { AdmissionError, ContractError } from '../../../src/base/errors.js';
import { AdmissionController, staticCatalog, type AdmissionRequest } from '../../../src/kernel/admission/index.js';

const GiB = 1024 ** 3;
const catalog = staticCatalog([
  { id: 'local/llama3-8b', contextTokens: 8_192, placement: 'on_prem', privacy: ['phi'] },
  { id: 'local/qwen2-72b', contextTokens: 131_072, placement: 'on_prem', privacy: ['phi'] },
  { id: 'openai/gpt-4o', contextTokens: 128_000, placement: 'cloud', privacy: [] },
]);
const node = (hrtPolicy: 'edf' | 'rm' = 'edf'): AdmissionController =>
  new AdmissionController({ hrtPolicy, capacity: { cpuMillis: 2_000, memBytes: 2 * GiB }, catalog });
const hrt = (id: string, periodMs: number, wcetMs: number, extra: Partial<AdmissionRequest['hrt']> = {}): AdmissionRequest =>
  ({ id, latency: 'HRT', hrt: { periodMs, wcetMs, ...extra } });

function refusal(controller: AdmissionController, request: AdmissionRequest): AdmissionError {
  try {
    controller.admit(request);
  } catch (error) {
    if (error instanceof AdmissionError) return error;
    throw error;
  }
  throw new Error(`"${request.id}" was admitted`);
}

describe('AdmissionController', () => {
  it('refuses an HRT actor that would push EDF utilisation past 1, naming the figures', () => {
    const c = node();
    c.admit(hrt('guard1', 25, 18));
    const e = refusal(c, hrt('guard2', 10, 4));
    expect(e.code).toBe('ADMISSION_REFUSED');
    expect(e.field).toBe('hrt');
    expect(e.message).toContain('HRT utilisation would be 1.12 > 1.00 (adding "guard2": wcet 4 ms / period 10 ms)');
    expect(e.details).toMatchObject({ id: 'guard2', constraint: 'hrt', figures: { policy: 'edf', test: 'utilisation', bound: 1 } });
    const figures = e.details?.figures as Record<string, number>;
    expect(figures.utilisationBefore).toBeCloseTo(0.72);
    expect(figures.utilisationAfter).toBeCloseTo(1.12);
    expect(figures.excess).toBeCloseTo(0.12);
  });

  it('check decides without reserving; admit reserves; release gives it back', () => {
    const c = node();
    expect(c.check(hrt('a', 10, 6)).admitted).toBe(true);
    expect(c.check(hrt('a', 10, 6)).admitted).toBe(true);
    const d = c.admit(hrt('a', 10, 6));
    expect(d.hrt).toMatchObject({ policy: 'edf', before: { tasks: 0, utilisation: 0 }, after: { utilisation: 0.6, schedulable: true } });
    expect(c.check(hrt('b', 10, 6)).admitted).toBe(false);
    expect(c.release('a')).toBe(true);
    expect(c.release('a')).toBe(false);
    expect(c.admit(hrt('b', 10, 6)).hrt?.before.utilisation).toBe(0);
  });

  it('under RM admits what fits the Liu–Layland bound and falls back to response-time analysis', () => {
    const c = node('rm');
    c.admit(hrt('a', 7, 3));
    c.admit(hrt('b', 12, 3));
    const d = c.admit(hrt('c', 20, 5));
    expect(d.hrt?.after).toMatchObject({ test: 'response-time', schedulable: true });
    expect(d.hrt?.after.responseTimes?.map((r) => r.responseMs)).toEqual([3, 6, 20]);
  });

  it('under RM names the task whose response time would exceed its deadline', () => {
    const c = node('rm');
    c.admit(hrt('b', 40, 10));
    c.admit(hrt('c', 30, 10));
    const e = refusal(c, hrt('a', 50, 12));
    expect(e.message).toContain('HRT response time of "a" would be ≥ 52 ms > deadline 50 ms under RM');
    expect(e.details?.figures).toMatchObject({ failingTask: 'a', responseMs: 52, deadlineMs: 50, excessMs: 2, test: 'response-time' });
    // EDF fits the same set (U = 0.82).
    const edf = node('edf');
    for (const r of [hrt('b', 40, 10), hrt('c', 30, 10), hrt('a', 50, 12)]) edf.admit(r);
  });

  it('reports EDF processor-demand refusals for constrained deadlines', () => {
    const c = node();
    c.admit(hrt('a', 4, 2, { deadlineMs: 3 }));
    const e = refusal(c, hrt('b', 6, 2, { deadlineMs: 3 }));
    expect(e.message).toContain('HRT processor demand would be 4 ms in the first 3 ms > 3 ms under EDF');
    expect(e.details?.figures).toMatchObject({ atMs: 3, demandMs: 4, excessMs: 1 });
  });

  it('blames the jitter budget when the set fits without release jitter', () => {
    const c = node('rm');
    c.admit(hrt('hi', 10, 2, { jitterMs: 3 }));
    // lo: R = 2 + 12 = 14 > 13 with jitter; 10 without.
    const e = refusal(c, hrt('lo', 20, 8, { deadlineMs: 13, jitterMs: 2 }));
    expect(e.details).toMatchObject({ constraint: 'jitter', figures: { responseMs: 14, deadlineMs: 13, jitterMs: 2 } });
    expect(e.field).toBe('hrt.jitterMs');
    expect(e.message).toContain('HRT jitter budget exceeded');
    expect(e.message).toContain('without jitter the set fits');
    expect(c.check(hrt('lo', 20, 8, { deadlineMs: 13 })).admitted).toBe(true);
  });

  it('refuses CPU and memory reservations beyond capacity, saying by how much', () => {
    const c = node();
    c.admit({ id: 'big', latency: 'DT', compute: { cpuMillis: 1_500, memBytes: 1.5 * GiB } });
    const e = refusal(c, { id: 'more', latency: 'SRT', compute: { cpuMillis: 1_000, memBytes: 1 * GiB } });
    expect(e.details?.refusals).toHaveLength(2);
    expect(e.message).toContain('CPU reservation would be 2500 m > 2000 m capacity, over by 500 m (adding "more": 1000 m; 1500 m already reserved)');
    expect(e.message).toContain('memory reservation would be 2.5 GiB > 2 GiB capacity, over by 512 MiB');
    expect(e.details).toMatchObject({ constraint: 'cpu', figures: { requested: 1_000, reserved: 1_500, capacity: 2_000, excess: 500 } });
    expect(c.check({ id: 'fits', latency: 'DT', compute: { cpuMillis: 500, memBytes: 0.5 * GiB } }).admitted).toBe(true);
  });

  it('admits a model policy the catalog satisfies and records the chosen model', () => {
    const c = node();
    const d = c.admit({ id: 'scribe', latency: 'SRT', model: { allow: ['local/*'], maxContextTokens: 32_000, privacy: ['phi'], placement: 'on_prem' } });
    expect(d.model).toMatchObject({ eligible: ['local/qwen2-72b'], chosen: 'local/qwen2-72b' });
    expect(c.snapshot().reservations[0].model).toBe('local/qwen2-72b');
  });

  it('refuses a model policy nothing satisfies, listing why each candidate failed', () => {
    const c = node();
    const e = refusal(c, { id: 'scribe', latency: 'SRT', model: { allow: ['local/*'], maxContextTokens: 200_000, privacy: ['phi'] } });
    expect(e.details?.constraint).toBe('model');
    expect(e.field).toBe('model.allow');
    expect(e.message).toContain('no catalogued model satisfies allow [local/*] with context ≥ 200000 tokens, privacy phi');
    expect(e.message).toContain('local/qwen2-72b: context 131072 < 200000 tokens');
    const none = refusal(c, { id: 'x', latency: 'DT', model: { allow: ['anthropic/*'], maxContextTokens: 1 } });
    expect(none.message).toContain('no catalogued model matches the allow globs (3 models listed)');
    const bare = new AdmissionController({ capacity: { cpuMillis: 1, memBytes: 1 } });
    expect(refusal(bare, { id: 'y', latency: 'DT', model: { allow: ['**'], maxContextTokens: 1 } }).message).toContain('no model catalog');
  });

  it('reports every failing constraint at once, the first as the error field', () => {
    const c = node();
    c.admit(hrt('g', 10, 9));
    const e = refusal(c, { ...hrt('h', 10, 2), compute: { cpuMillis: 5_000 }, model: { allow: ['none/*'], maxContextTokens: 1 } });
    expect((e.details?.refusals as { constraint: string }[]).map((r) => r.constraint)).toEqual(['hrt', 'cpu', 'model']);
  });

  it('refuses a second reservation under the same id', () => {
    const c = node();
    c.admit({ id: 'a', latency: 'DT' });
    expect(refusal(c, { id: 'a', latency: 'DT' }).details?.constraint).toBe('id');
  });

  it('ignores HRT timing for SRT and DT actors', () => {
    const c = node();
    c.admit(hrt('g', 10, 10));
    expect(c.check({ id: 's', latency: 'SRT', hrt: { periodMs: 1, wcetMs: 1 } }).admitted).toBe(true);
  });

  it('throws ContractError for malformed requests instead of deciding', () => {
    const c = node();
    expect(() => c.check({ id: '', latency: 'DT' })).toThrow(ContractError);
    expect(() => c.check({ id: 'x', latency: 'RT' as 'DT' })).toThrow(/latency/);
    expect(() => c.check({ id: 'x', latency: 'HRT' })).toThrow(/hrt/);
    expect(() => c.check(hrt('x', 10, -1))).toThrow(/hrt\.wcetMs/);
    expect(() => c.check({ id: 'x', latency: 'DT', compute: { cpuMillis: Number.NaN } })).toThrow(/compute\.cpuMillis/);
    expect(() => new AdmissionController({ hrtPolicy: 'llf' as 'edf', capacity: { cpuMillis: 1, memBytes: 1 } })).toThrow(/hrtPolicy/);
  });

  it('snapshots reservations', () => {
    const c = node();
    c.admit({ ...hrt('g', 10, 3), compute: { cpuMillis: 100, memBytes: 1_000 } });
    c.admit({ id: 'd', latency: 'DT', compute: { cpuMillis: 50 } });
    expect(c.snapshot()).toMatchObject({ hrtPolicy: 'edf', cpuMillis: 150, memBytes: 1_000, hrtUtilisation: 0.3 });
    expect(c.has('d')).toBe(true);
  });
});
