import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import { globToRegExp, matchModels, staticCatalog } from '../../../src/kernel/admission/index.js';

const catalog = staticCatalog([
  { id: 'local/llama3-8b', contextTokens: 8_192, placement: 'on_prem', privacy: ['phi', 'no_retention'] },
  { id: 'local/qwen2-72b', contextTokens: 131_072, placement: 'on_prem', privacy: ['phi', 'no_retention'] },
  { id: 'local/phi3', contextTokens: 131_072, placement: 'edge', privacy: [] },
  { id: 'openai/gpt-4o', contextTokens: 128_000, placement: 'cloud', privacy: ['no_retention'] },
  { id: 'hf/meta/llama-guard', contextTokens: 8_192, placement: 'on_prem', privacy: ['phi'] },
]);

describe('globToRegExp', () => {
  it('matches * within one segment, ** across segments, ? one character', () => {
    expect(globToRegExp('local/*').test('local/phi3')).toBe(true);
    expect(globToRegExp('local/*').test('localx/phi3')).toBe(false);
    expect(globToRegExp('hf/*').test('hf/meta/llama-guard')).toBe(false);
    expect(globToRegExp('hf/**').test('hf/meta/llama-guard')).toBe(true);
    expect(globToRegExp('openai/gpt-4?').test('openai/gpt-4o')).toBe(true);
    expect(globToRegExp('openai/gpt-4.1').test('openai/gpt-4x1')).toBe(false);
  });

  it('refuses empty globs with a ContractError', () => {
    expect(() => globToRegExp('  ')).toThrow(ContractError);
  });
});

describe('matchModels', () => {
  it('keeps models that match a glob and have the context, privacy and placement asked for', () => {
    const m = matchModels(catalog, { allow: ['local/*'], maxContextTokens: 32_000, privacy: ['phi'], placement: 'on_prem' });
    expect(m.eligible).toEqual(['local/qwen2-72b']);
    expect(m.rejected).toEqual([
      { id: 'local/llama3-8b', reasons: ['context 8192 < 32000 tokens'] },
      { id: 'local/phi3', reasons: ['privacy lacks phi', 'placement edge not in on_prem'] },
    ]);
    expect(m.unmatched).toBe(2);
  });

  it('orders eligible models by allow-glob preference, then catalog order', () => {
    const m = matchModels(catalog, { allow: ['openai/*', 'local/*'], maxContextTokens: 100_000 });
    expect(m.eligible).toEqual(['openai/gpt-4o', 'local/qwen2-72b', 'local/phi3']);
  });

  it('accepts a list of placements', () => {
    const m = matchModels(catalog, { allow: ['**'], maxContextTokens: 0, placement: ['edge', 'cloud'] });
    expect(m.eligible).toEqual(['local/phi3', 'openai/gpt-4o']);
  });

  it('validates the policy', () => {
    expect(() => matchModels(catalog, { allow: [], maxContextTokens: 1 })).toThrow(/model\.allow/);
    expect(() => matchModels(catalog, { allow: ['local/*'], maxContextTokens: -1 })).toThrow(/maxContextTokens/);
  });
});
