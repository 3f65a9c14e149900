import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import { compareVersions, inRange, parseVersion, parseVersionSpec } from '../../../src/kernel/binding/index.js';

describe('version specs', () => {
  it('parses pinned versions and ranges', () => {
    expect(parseVersionSpec('asr_local_v2')).toMatchObject({ name: 'asr_local', low: [2], high: [2], pinned: true });
    expect(parseVersionSpec('asr_local_v2..v3')).toMatchObject({ name: 'asr_local', low: [2], high: [3], pinned: false });
    expect(parseVersionSpec('asr_local_v2..asr_local_v3.1')).toMatchObject({ low: [2], high: [3, 1] });
    expect(parseVersionSpec('asr_v2_local_v3')).toMatchObject({ name: 'asr_v2_local', low: [3] });
  });

  it('covers every version a bound prefixes: v2..v3 spans 2.x and 3.x but not 4', () => {
    const spec = parseVersionSpec('m_v2..v3');
    const hits = ['v1.9', 'v2', 'v2.0.1', 'v3', 'v3.7', 'v4'].filter((v) => inRange(parseVersion(v), spec));
    expect(hits).toEqual(['v2', 'v2.0.1', 'v3', 'v3.7']);
  });

  it('compares numerically, padding with zeros', () => {
    expect(compareVersions([2], [2, 0, 0])).toBe(0);
    expect(compareVersions([10], [9, 9])).toBeGreaterThan(0);
    expect(compareVersions(parseVersion('2.1'), parseVersion('v2.10'))).toBeLessThan(0);
  });

  it.each([
    ['asr_local', 'is not a version spec'],
    ['asr_local_v', 'is not a version spec'],
    ['asr_local_v2..', 'is not a version spec'],
    ['asr_local_v2...v3', 'is not a version spec'],
    ['asr_local_vx..v3', 'is not a version spec'],
    ['_v2', 'is not a version spec'],
    ['asr_local_v3..v2', 'is an empty range (v3 is above v2)'],
    ['asr_local_v2..asr_cloud_v3', 'names two different things (asr_local and asr_cloud)'],
  ])('refuses %s with a ContractError', (text, why) => {
    try {
      parseVersionSpec(text, 'requires[0].want');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractError);
      expect(error).toMatchObject({ code: 'INVALID_VERSION_RANGE', field: 'requires[0].want' });
      expect((error as Error).message).toContain(why);
      expect((error as Error).message).toContain(text);
    }
  });

  it('refuses malformed registry versions', () => {
    expect(() => parseVersion('2.x')).toThrow(ContractError);
  });
});
