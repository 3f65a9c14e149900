import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contractHash, loadContract, parseContract, type Contract } from '../../../src/kernel/contract/index.js';
import { FIXTURES, MINIMAL_LINES, expectContractError, minimalObject, yaml } from './helpers.js';

describe('loadContract with the canonical examples', () => {
  it('loads the HRT guard (10 ms period) with its timing and placement', () => {
    const c = loadContract(join(FIXTURES, 'guard.agent.yaml'));
    expect(c.class).toEqual({ latency: 'HRT', slo: { period_ms: 10, deadline_ms: 8, wcet_ms: 2, jitter_ms: 1 } });
    expect(c.capabilities).toEqual(['sensor.read', 'pump.stop', 'pump.alarm']);
    expect(c.migratable).toBe(false);
    expect(c.mailbox).toEqual({ capacity: 64, overflow: 'drop-oldest' });
    expect(c.must).toEqual({ placement: 'on_prem' });
  });

  it('loads the SRT copilot with priority, model policy, memory, budgets and flexible binding', () => {
    const c = loadContract(join(FIXTURES, 'copilot.agent.yaml'));
    expect(c.class).toEqual({ latency: 'SRT', slo: { onset_ms: 300, turn_ms: 1200, jitter_p95_pct: 15 } });
    expect(c.priority).toBe(7);
    expect(c.modelPolicy).toEqual({ allow: ['local/llama3-8b-*', 'asr_local_v3'], max_context_tokens: 16000, privacy: 'phi', placement: 'on_prem' });
    expect(c.memory).toEqual({ namespace: 'clinic/triage', retention_days: 30, rag: { top_k: 5, require_grounding: true } });
    expect(c.security?.consent_for).toEqual(['ehr.write']);
    expect(c.budgets).toEqual({ tokens_per_minute: 20000, tokens: 2000000, currency: { amount: 25, code: 'USD' } });
    expect(c.binding).toBe('flexible');
    expect(c.prefer).toEqual({ asr: 'asr_local_v2..v3', llm: 'llama3-8b-instruct_v1' });
    expect(c.allow_fallbacks[0]).toEqual({ from: 'asr', to: 'asr_tiny_v1', when: 'bandwidth_low' });
    expect(c.allow_fallbacks.map((f) => f.when)).toEqual(['bandwidth_low', 'context_exceeds_local']);
  });

  it('loads the DT indexer with throughput and completion SLA', () => {
    const c = loadContract(join(FIXTURES, 'indexer.agent.yaml'));
    expect(c.class).toEqual({ latency: 'DT', slo: { throughput_per_min: 600, completion_sla_ms: 14_400_000, max_batch: 64 } });
    expect(c.compute).toEqual({ cpu: 0.5, mem: '1G' });
    expect(c.binding).toBe('smooth');
    expect(c.prefer?.embed).toEqual({ use: 'bge-small-en_v1..v2', canary_pct: 5 });
  });

  it('accepts a file URL as a path', () => {
    const c = loadContract(pathToFileURL(join(FIXTURES, 'guard.agent.yaml')));
    expect(c.name).toBe('infusion-guard');
  });

  it('applies defaults: capabilities [], binding strict, migratable true, jitter 0, DT slo {}; SRT priority stays absent', () => {
    const hrt = loadContract(yaml(MINIMAL_LINES));
    expect(hrt).toMatchObject({ capabilities: [], binding: 'strict', migratable: true, allow_fallbacks: [] });
    expect(hrt.class).toEqual({ latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 2, jitter_ms: 0 } });
    const srt = parseContract({ ...minimalObject(), class: { latency: 'SRT', slo: { onset_ms: 100, turn_ms: 500 } } });
    expect(srt.class).toEqual({ latency: 'SRT', slo: { onset_ms: 100, turn_ms: 500 } });
    expect(srt.priority).toBeUndefined(); // DEFAULT_SRT_PRIORITY (5) applies
    const dt = parseContract({ ...minimalObject(), class: { latency: 'DT' } });
    expect(dt.class).toEqual({ latency: 'DT', slo: {} });
  });

  it('drops the editor-only $schema key and keeps it out of the hash', () => {
    const withHint = loadContract(yaml(['$schema: ./schemas/agent-contract.v0.2.json', ...MINIMAL_LINES]));
    expect(withHint).not.toHaveProperty('$schema');
    expect(contractHash(withHint)).toBe(contractHash(loadContract(yaml(MINIMAL_LINES))));
  });
});

describe('loadContract text-or-path heuristic', () => {
  it('treats a string with a newline as YAML text', () => {
    expect(loadContract(yaml(MINIMAL_LINES)).name).toBe('hello');
  });

  it('treats a one-line string starting with { as text (JSON is YAML)', () => {
    expect(loadContract(JSON.stringify(minimalObject())).name).toBe('hello');
  });

  it('treats a one-line string starting with apiVersion as text', () => {
    expectContractError(() => loadContract('apiVersion: agentos/v0.2'), 'CONTRACT_INVALID', '<inline>:1:1: kind: is required ("AgentContract")');
  });

  it('treats anything else as a path and says how to pass text instead', () => {
    expectContractError(() => loadContract('name: hello'), 'CONTRACT_READ', 'name: hello', 'ENOENT', 'pass YAML text');
  });

  it('names inline text <inline>, or the given filename', () => {
    expectContractError(() => loadContract(`${yaml(MINIMAL_LINES)}bogus: 1\n`), 'CONTRACT_INVALID', '<inline>:10:1: bogus: unknown field');
    expectContractError(() => loadContract(`${yaml(MINIMAL_LINES)}bogus: 1\n`, { filename: 'x.agent.yaml' }), 'CONTRACT_INVALID', 'x.agent.yaml:10:1');
  });

  it('reads from files and names them in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentos-contract-'));
    const file = join(dir, 'bad.agent.yaml');
    writeFileSync(file, yaml([...MINIMAL_LINES.slice(0, 6), '    period_ms: -5', ...MINIMAL_LINES.slice(7)]));
    const err = expectContractError(() => loadContract(file), 'CONTRACT_INVALID', `${file}:7:5: class.slo.period_ms: must be > 0 (got -5)`);
    expect(err.field).toBe('class.slo.period_ms');
    expect(err.details).toMatchObject({ source: file, line: 7, col: 5 });
  });
});

describe('parseContract', () => {
  it('validates JS objects with the same rules and returns a fresh object', () => {
    const input = minimalObject();
    const c: Contract = parseContract(input);
    expect(c.name).toBe('hello');
    c.class.slo = { ...c.class.slo };
    expect(input.class.slo).toEqual({ period_ms: 10, deadline_ms: 10, wcet_ms: 2 });
    expect(input).not.toHaveProperty('capabilities'); // defaults are not written back
  });

  it('reports <object> as the source and no line', () => {
    const err = expectContractError(() => parseContract({ ...minimalObject(), name: 'Hello World' }), 'CONTRACT_INVALID', '<object>: name: an agent name must match');
    expect(err.details).not.toHaveProperty('line');
  });

  it('accepts what loadContract returns (round trip is identity)', () => {
    for (const f of ['guard', 'copilot', 'indexer']) {
      const c = loadContract(join(FIXTURES, `${f}.agent.yaml`));
      expect(parseContract(JSON.parse(JSON.stringify(c)))).toEqual(c);
    }
  });
});

describe('contractHash', () => {
  it('is SHA-256 hex, stable across key order and YAML formatting', () => {
    const a = loadContract(yaml(MINIMAL_LINES));
    const b = loadContract(JSON.stringify({ class: { slo: { wcet_ms: 2, deadline_ms: 10, period_ms: 10 }, latency: 'HRT' }, name: 'hello', kind: 'AgentContract', apiVersion: 'agentos/v0.2' }));
    expect(contractHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(contractHash(a)).toBe(contractHash(b));
  });

  it('changes when any field changes, including list order', () => {
    const base = parseContract({ ...minimalObject(), capabilities: ['a.x', 'b.y'] });
    const other = parseContract({ ...minimalObject(), capabilities: ['b.y', 'a.x'] });
    const slower = parseContract({ ...minimalObject(), capabilities: ['a.x', 'b.y'], class: { latency: 'HRT', slo: { period_ms: 20, deadline_ms: 10, wcet_ms: 2 } } });
    expect(new Set([contractHash(base), contractHash(other), contractHash(slower)]).size).toBe(3);
  });

  it('hashes defaults: an explicit default equals an omitted one', () => {
    const implicit = parseContract(minimalObject());
    const explicit = parseContract({ ...minimalObject(), migratable: true, binding: 'strict', capabilities: [] });
    expect(contractHash(implicit)).toBe(contractHash(explicit));
  });
});
