import { describe, expect, it } from 'vitest';
import { segmentGlobRegExp } from '../../src/base/glob.js';

const matches = (glob: string, id: string): boolean => segmentGlobRegExp(glob).test(id);

describe('segmentGlobRegExp', () => {
  it.each([
    ['local/*', 'local/phi3', true],
    ['local/*', 'local/a/b', false],
    ['local/**', 'local/a/b', true],
    ['**', 'a/b/c', true],
    ['gpt-4o?', 'gpt-4om', true],
    ['gpt-4o?', 'gpt-4o/', false],
    ['openai/gpt-4.1', 'openai/gpt-4x1', false],
    ['a+b(c)', 'a+b(c)', true],
    ['local/*', 'xlocal/phi3', false],
  ])('%s matches %s: %s', (glob, id, expected) => {
    expect(matches(glob, id)).toBe(expected);
  });
});
