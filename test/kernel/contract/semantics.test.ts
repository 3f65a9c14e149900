// Rules beyond types: timing per latency class, capabilities and approvals,
// a contract honouring its own must, and binding modes.
import { describe, expect, it } from 'vitest';
import { capabilityCovers, modelGlobMatches, parseBindingTarget, parseContract } from '../../../src/kernel/contract/index.js';
import { expectContractError, minimalObject } from './helpers.js';

const hrt = (slo: Record<string, unknown>) => ({ ...minimalObject(), class: { latency: 'HRT', slo } });
const srt = (slo: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...minimalObject(), class: { latency: 'SRT', slo }, ...extra });

describe('HRT timing: 0 < wcet <= deadline <= period, 0 <= jitter < deadline', () => {
  it('accepts the boundary wcet == deadline == period', () => {
    expect(parseContract(hrt({ period_ms: 10, deadline_ms: 10, wcet_ms: 10 })).class.latency).toBe('HRT');
  });

  it.each([
    [{ period_ms: 10, deadline_ms: 11, wcet_ms: 1 }, 'class.slo.deadline_ms: must be <= period_ms (11 > 10)'],
    [{ period_ms: 10, deadline_ms: 5, wcet_ms: 6 }, 'class.slo.wcet_ms: must be <= deadline_ms (6 > 5)'],
    [{ period_ms: 10, deadline_ms: 5, wcet_ms: 1, jitter_ms: 5 }, 'class.slo.jitter_ms: must be < deadline_ms (5 >= 5)'],
    [{ period_ms: 10, deadline_ms: 5, wcet_ms: 1, jitter_ms: -1 }, 'class.slo.jitter_ms: must be >= 0 (got -1)'],
    [{ period_ms: 0, deadline_ms: 5, wcet_ms: 1 }, 'class.slo.period_ms: must be > 0 (got 0)'],
    [{ period_ms: 10, deadline_ms: 5 }, 'class.slo.wcet_ms: is required'],
    [{ period_ms: 10, deadline_ms: 5, wcet_ms: 1, onset_ms: 3 }, 'class.slo.onset_ms: unknown field'],
  ])('rejects %j', (slo, message) => {
    expectContractError(() => parseContract(hrt(slo)), 'CONTRACT_INVALID', message);
  });

  it('reports every timing violation at once', () => {
    const err = expectContractError(() => parseContract(hrt({ period_ms: 10, deadline_ms: 20, wcet_ms: 30, jitter_ms: 25 })), 'CONTRACT_INVALID');
    expect(err.message.split('\n').map((l) => l.split(': ')[1])).toEqual(['class.slo.wcet_ms', 'class.slo.deadline_ms', 'class.slo.jitter_ms']);
  });
});

describe('SRT and DT', () => {
  it('SRT: onset <= turn, jitter_p95_pct within 0..100, priority 0..9 integer', () => {
    expectContractError(() => parseContract(srt({ onset_ms: 900, turn_ms: 800 })), 'CONTRACT_INVALID', 'class.slo.onset_ms: must be <= turn_ms (900 > 800)');
    expectContractError(() => parseContract(srt({ onset_ms: 1, turn_ms: 8, jitter_p95_pct: 101 })), 'CONTRACT_INVALID', 'class.slo.jitter_p95_pct: must be <= 100');
    expectContractError(() => parseContract(srt({ onset_ms: 1, turn_ms: 8 }, { priority: 10 })), 'CONTRACT_INVALID', 'priority: must be <= 9 (got 10)');
    expectContractError(() => parseContract(srt({ onset_ms: 1, turn_ms: 8 }, { priority: 2.5 })), 'CONTRACT_INVALID', 'priority: must be an integer');
    expect(parseContract(srt({ onset_ms: 1, turn_ms: 8 }, { priority: 9 })).priority).toBe(9);
    expect(parseContract(srt({ onset_ms: 1, turn_ms: 8 }, { priority: 0 })).priority).toBe(0);
  });

  it('priority belongs to SRT only', () => {
    expectContractError(() => parseContract({ ...minimalObject(), class: { latency: 'DT' }, priority: 3 }), 'CONTRACT_INVALID', 'priority: applies only to SRT contracts (class is DT)');
    expectContractError(() => parseContract({ ...minimalObject(), priority: 3 }), 'CONTRACT_INVALID', 'priority: applies only to SRT contracts (class is HRT)');
    expectContractError(() => parseContract({ ...minimalObject(), class: { latency: 'SRT', priority: 3, slo: { onset_ms: 1, turn_ms: 2 } } }), 'CONTRACT_INVALID', 'class.priority: unknown field');
  });

  it('DT: throughput and completion SLA must be positive', () => {
    expectContractError(() => parseContract({ ...minimalObject(), class: { latency: 'DT', slo: { completion_sla_ms: 0 } } }), 'CONTRACT_INVALID', 'class.slo.completion_sla_ms: must be > 0');
    expectContractError(() => parseContract({ ...minimalObject(), class: { latency: 'DT', slo: { throughput_per_min: -3 } } }), 'CONTRACT_INVALID', 'class.slo.throughput_per_min');
  });

  it('latency class names are case-sensitive and listed when wrong', () => {
    expectContractError(() => parseContract({ ...minimalObject(), class: { latency: 'hrt', slo: {} } }), 'CONTRACT_INVALID', 'unknown latency class "hrt"; valid latency classes: HRT, SRT, DT');
  });
});

describe('capabilities and approvals', () => {
  it('capabilityCovers: exact names, and a trailing .* covers everything strictly below', () => {
    expect(capabilityCovers('web.fetch', 'web.fetch')).toBe(true);
    expect(capabilityCovers('web.*', 'web.fetch')).toBe(true);
    expect(capabilityCovers('web.*', 'web.fetch.head')).toBe(true);
    expect(capabilityCovers('web.*', 'web.fetch.*')).toBe(true);
    expect(capabilityCovers('web.*', 'web')).toBe(false);
    expect(capabilityCovers('web.*', 'webhook.send')).toBe(false);
    expect(capabilityCovers('web.fetch', 'web.*')).toBe(false);
  });

  it('consent_for entries must be among capabilities (wildcards count)', () => {
    const ok = parseContract({ ...minimalObject(), capabilities: ['ehr.*', 'web.fetch'], security: { consent_for: ['ehr.write', 'web.fetch'] } });
    expect(ok.security?.consent_for).toEqual(['ehr.write', 'web.fetch']);
    expectContractError(() => parseContract({ ...minimalObject(), capabilities: ['web.fetch'], security: { consent_for: ['web.fetch', 'pay.refund'] } }),
      'CONTRACT_INVALID', 'security.consent_for[1]: "pay.refund" is not among capabilities (web.fetch)');
    expectContractError(() => parseContract({ ...minimalObject(), security: { consent_for: ['pay.refund'] } }), 'CONTRACT_INVALID', 'none declared');
  });

  it('rejects duplicate capabilities', () => {
    expectContractError(() => parseContract({ ...minimalObject(), capabilities: ['a.b', 'c.d', 'a.b'] }), 'CONTRACT_INVALID', 'capabilities[2]: duplicate capability "a.b" (also at index 0)');
  });

  it('accepts underscores, dashes, digits and the trailing wildcard', () => {
    expect(parseContract({ ...minimalObject(), capabilities: ['web.fetch', 'asr_local.v2', 'mcp.git-hub.*', 'tool', 'a.b.c.d'] }).capabilities).toHaveLength(5);
  });
});

describe('a contract honours its own must', () => {
  it('placement and privacy must equal the must', () => {
    expectContractError(() => parseContract({ ...minimalObject(), must: { placement: 'on_prem' }, placement: 'cloud' }), 'CONTRACT_INVALID', 'placement: is "cloud", but must.placement is "on_prem"');
    expectContractError(() => parseContract({ ...minimalObject(), must: { privacy: 'phi' }, modelPolicy: { allow: [], max_context_tokens: 10, privacy: 'public' } }),
      'CONTRACT_INVALID', 'modelPolicy.privacy: is "public", but must.privacy is "phi"');
  });

  it('capabilities and models must stay within the must; limits below it', () => {
    expectContractError(() => parseContract({ ...minimalObject(), capabilities: ['web.fetch', 'fs.write'], must: { capabilities: ['web.*'] } }),
      'CONTRACT_INVALID', 'capabilities[1]: "fs.write" is outside must.capabilities (web.*)');
    expectContractError(() => parseContract({ ...minimalObject(), modelPolicy: { allow: ['a', 'b'], max_context_tokens: 9000 }, must: { models: ['a'], max_context_tokens: 8000 } }),
      'CONTRACT_INVALID', 'modelPolicy.max_context_tokens: is 9000, above must.max_context_tokens 8000');
  });

  it('must.consent_for demands approvals for every overlapping capability', () => {
    expectContractError(() => parseContract({ ...minimalObject(), capabilities: ['pay.refund', 'pay.charge'], security: { consent_for: ['pay.refund'] }, must: { consent_for: ['pay.*'] } }),
      'CONTRACT_INVALID', 'security.consent_for: must require approval for "pay.charge" (must.consent_for)');
    expect(parseContract({ ...minimalObject(), capabilities: ['pay.*'], security: { consent_for: ['pay.*'] }, must: { consent_for: ['pay.refund'] } }).must).toBeDefined();
  });
});

describe('binding modes', () => {
  it('parseBindingTarget: the binder\'s grammar, pinned specs and version ranges', () => {
    expect(parseBindingTarget('asr_local_v2')).toEqual({ text: 'asr_local_v2', name: 'asr_local', low: [2], high: [2], pinned: true });
    expect(parseBindingTarget('asr_local_v2..v3')).toEqual({ text: 'asr_local_v2..v3', name: 'asr_local', low: [2], high: [3], pinned: false });
    expect(parseBindingTarget('asr_local_v2.1..asr_local_v3')).toMatchObject({ low: [2, 1], high: [3], pinned: false });
    expect(parseBindingTarget('asr_local_v3..v2')).toMatch(/is an empty range/);
    expect(parseBindingTarget('asr_v1..tts_v2')).toMatch(/names two different things/);
    expect(parseBindingTarget('gpt-4o')).toMatch(/not a version spec/);
    expect(parseBindingTarget(`a_v1${'.1'.repeat(200)}`)).toMatch(/at most 128/);
  });

  it('strict forbids ranges, canaries and fallbacks', () => {
    expectContractError(() => parseContract({ ...minimalObject(), prefer: { asr: 'asr_local_v2..v3' } }), 'CONTRACT_INVALID', 'prefer.asr: a version range needs binding: smooth or flexible (binding is strict)');
    expectContractError(() => parseContract({ ...minimalObject(), prefer: { asr: { use: 'a_v1..v2', canary_pct: 5 } } }), 'CONTRACT_INVALID', 'prefer.asr.canary_pct: a canary needs binding: smooth (binding is strict)');
    expectContractError(() => parseContract({ ...minimalObject(), prefer: { asr: 'a_v1' }, allow_fallbacks: [{ from: 'asr', to: 'b_v1', when: 'bandwidth_low' }] }),
      'CONTRACT_INVALID', 'allow_fallbacks: fallbacks apply only with binding: flexible (binding is strict)');
    expect(parseContract({ ...minimalObject(), prefer: { asr: 'asr_local_v2' } }).prefer).toEqual({ asr: 'asr_local_v2' });
  });

  it('smooth allows a range with a canary percentage, but no fallbacks', () => {
    const c = parseContract({ ...minimalObject(), binding: 'smooth', prefer: { asr: { use: 'asr_local_v2..v3', canary_pct: 10 } } });
    expect(c.prefer?.asr).toEqual({ use: 'asr_local_v2..v3', canary_pct: 10 });
    expectContractError(() => parseContract({ ...minimalObject(), binding: 'smooth', prefer: { asr: { use: 'asr_local_v2', canary_pct: 10 } } }),
      'CONTRACT_INVALID', 'prefer.asr.canary_pct: a canary needs a version range');
    expectContractError(() => parseContract({ ...minimalObject(), binding: 'smooth', prefer: { asr: { use: 'a_v1..v2', canary_pct: 101 } } }), 'CONTRACT_INVALID', 'prefer.asr.canary_pct: must be <= 100');
    expectContractError(() => parseContract({ ...minimalObject(), binding: 'smooth', prefer: { asr: 'a_v1' }, allow_fallbacks: [{ from: 'asr', to: 'b_v1', when: 'bandwidth_low' }] }),
      'CONTRACT_INVALID', 'binding is smooth');
  });

  it('flexible allows ranges and fallbacks for known slots under the three conditions, but no canary', () => {
    const c = parseContract({
      ...minimalObject(), binding: 'flexible', prefer: { asr: 'asr_local_v2..v3', llm: 'llama3_v1' },
      allow_fallbacks: [
        { from: 'asr', to: 'asr_cloud_v1', when: 'bandwidth_low' },
        { from: 'llm', to: 'gpt-4o_v1', when: 'context_exceeds_local' },
        { from: 'llm', to: 'llama3-small_v1..v2', when: 'provider_unavailable' },
      ],
    });
    expect(c.allow_fallbacks).toHaveLength(3);
    expectContractError(() => parseContract({ ...minimalObject(), binding: 'flexible', prefer: { asr: { use: 'a_v1..v2', canary_pct: 5 } } }), 'CONTRACT_INVALID', 'a canary needs binding: smooth (binding is flexible)');
    expectContractError(() => parseContract({ ...minimalObject(), binding: 'flexible', prefer: { asr: 'a_v1' }, allow_fallbacks: [{ from: 'asr', to: 'b_v1', when: 'raining' }] }),
      'CONTRACT_INVALID', 'allow_fallbacks[0].when: must be one of bandwidth_low, context_exceeds_local, provider_unavailable (got "raining")');
    expectContractError(() => parseContract({ ...minimalObject(), binding: 'flexible', prefer: { asr: 'a_v1' }, allow_fallbacks: [{ from: 'tts', to: 'b_v1', when: 'bandwidth_low' }] }),
      'CONTRACT_INVALID', 'allow_fallbacks[0].from: "tts" is not a slot of prefer (asr)');
    expectContractError(() => parseContract({ ...minimalObject(), binding: 'flexible', prefer: { asr: 'a_v1' }, allow_fallbacks: [{ from: 'asr', to: 'b_v2..v1', when: 'bandwidth_low' }] }),
      'CONTRACT_INVALID', 'allow_fallbacks[0].to: "b_v2..v1" is an empty range');
    expectContractError(() => parseContract({
      ...minimalObject(), binding: 'flexible', prefer: { asr: 'a_v1' },
      allow_fallbacks: [{ from: 'asr', to: 'b_v1', when: 'bandwidth_low' }, { from: 'asr', to: 'c_v1', when: 'bandwidth_low' }],
    }), 'CONTRACT_INVALID', 'allow_fallbacks[1]: a second fallback for "asr" when bandwidth_low is ambiguous');
  });

  it('rejects malformed prefer entries', () => {
    expectContractError(() => parseContract({ ...minimalObject(), prefer: { ASR: 'a_v1' } }), 'CONTRACT_INVALID', 'prefer.ASR: invalid key "ASR"');
    expectContractError(() => parseContract({ ...minimalObject(), prefer: { asr: 5 } }), 'CONTRACT_INVALID', 'prefer.asr: must be a binding target like "asr_local_v2" or { use, canary_pct } (got 5)');
    expectContractError(() => parseContract({ ...minimalObject(), prefer: { asr: 'gpt-4o' } }), 'CONTRACT_INVALID', 'prefer.asr: a version spec must match');
  });
});

describe('model policy', () => {
  it('allow lists model ids and globs; must.models bounds them glob-aware', () => {
    const ok = parseContract({ ...minimalObject(), modelPolicy: { allow: ['local/llama3-*', 'openai/gpt-4o'], max_context_tokens: 8000 }, must: { models: ['local/*', 'openai/**'] } });
    expect(ok.modelPolicy?.allow).toEqual(['local/llama3-*', 'openai/gpt-4o']);
    expectContractError(() => parseContract({ ...minimalObject(), modelPolicy: { allow: ['local/a/b'], max_context_tokens: 1 }, must: { models: ['local/*'] } }),
      'CONTRACT_INVALID', 'modelPolicy.allow[0]: "local/a/b" is outside must.models (local/*)');
    expectContractError(() => parseContract({ ...minimalObject(), modelPolicy: { allow: ['local/*'], max_context_tokens: 1 }, must: { models: ['local/llama'] } }),
      'CONTRACT_INVALID', 'modelPolicy.allow[0]: "local/*" is outside must.models');
    expectContractError(() => parseContract({ ...minimalObject(), modelPolicy: { allow: ['bad model'], max_context_tokens: 1 } }), 'CONTRACT_INVALID', 'modelPolicy.allow[0]: a model id or glob must match');
  });

  it('modelGlobMatches: ids by glob, globs only by an equal glob or a wider trailing wildcard', () => {
    expect(modelGlobMatches('local/*', 'local/llama3')).toBe(true);
    expect(modelGlobMatches('local/*', 'local/a/b')).toBe(false);
    expect(modelGlobMatches('local/**', 'local/a/b')).toBe(true);
    expect(modelGlobMatches('gpt-4o?', 'gpt-4om')).toBe(true);
    expect(modelGlobMatches('local/*', 'local/llama3-*')).toBe(true);
    expect(modelGlobMatches('local/*', 'local/**')).toBe(false);
    expect(modelGlobMatches('local/**', 'local/x/*')).toBe(true);
    expect(modelGlobMatches('**', '*')).toBe(true);
    expect(modelGlobMatches('local/llama3', 'local/*')).toBe(false);
    expect(modelGlobMatches('a*b', 'a*b')).toBe(true);
    expect(modelGlobMatches('a*b', 'a?b')).toBe(false);
  });
});

describe('other sections', () => {
  it('validates memory, mailbox, budgets and observability fields', () => {
    expectContractError(() => parseContract({ ...minimalObject(), memory: { namespace: '../etc', retention_days: 1 } }), 'CONTRACT_INVALID', 'memory.namespace: a memory namespace must match');
    expectContractError(() => parseContract({ ...minimalObject(), memory: { namespace: 'a', retention_days: -1 } }), 'CONTRACT_INVALID', 'memory.retention_days: must be >= 0');
    expectContractError(() => parseContract({ ...minimalObject(), memory: { namespace: 'a', retention_days: 1, rag: { top_k: 0 } } }), 'CONTRACT_INVALID', 'memory.rag.top_k: must be >= 1');
    expectContractError(() => parseContract({ ...minimalObject(), mailbox: { capacity: 0 } }), 'CONTRACT_INVALID', 'mailbox.capacity: must be >= 1');
    expectContractError(() => parseContract({ ...minimalObject(), mailbox: { capacity: 8, overflow: 'drop' } }), 'CONTRACT_INVALID', 'mailbox.overflow: must be one of reject, drop-oldest, drop-newest');
    expectContractError(() => parseContract({ ...minimalObject(), budgets: { currency: { amount: 5, code: 'usd' } } }), 'CONTRACT_INVALID', 'budgets.currency.code: currency code must be ISO 4217');
    expectContractError(() => parseContract({ ...minimalObject(), observability: { tracing: 'yes' } }), 'CONTRACT_INVALID', 'observability.tracing: must be true or false');
    expect(parseContract({ ...minimalObject(), mailbox: { capacity: 8 }, observability: {} })).toMatchObject({ mailbox: { capacity: 8, overflow: 'reject' }, observability: { tracing: true, log_fields: [] } });
  });
});
