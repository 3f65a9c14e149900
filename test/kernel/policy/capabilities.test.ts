import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import {
  CapabilitySet,
  allows,
  covers,
  intersect,
  matches,
  normalize,
  validateCapability,
} from '../../../src/kernel/policy/index.js';

describe('capability matching', () => {
  it('an exact pattern matches only that name', () => {
    expect(matches('web.fetch', 'web.fetch')).toBe(true);
    expect(matches('web.fetch', 'web.fetch.x')).toBe(false);
    expect(matches('web.fetch', 'web')).toBe(false);
  });

  it('web.* covers every name under web. at any depth, but not web itself nor lookalikes', () => {
    expect(matches('web.*', 'web.fetch')).toBe(true);
    expect(matches('web.*', 'web.search.deep')).toBe(true);
    expect(matches('web.*', 'web')).toBe(false);
    expect(matches('web.*', 'webx.fetch')).toBe(false);
    expect(matches('web.*', 'db.read')).toBe(false);
  });

  it('* alone covers every concrete name', () => {
    expect(allows(['*'], 'anything.at.all')).toBe(true);
    expect(allows(['*'], 'x')).toBe(true);
  });

  it('a name containing * or an empty name is never allowed, even by *', () => {
    const set = CapabilitySet.of(['*', 'web.*']);
    expect(set.allows('web.*')).toBe(false);
    expect(set.allows('*')).toBe(false);
    expect(set.allows('')).toBe(false);
    expect(allows(['web.*'], 'web.*')).toBe(false);
  });

  it('permission-style patterns use : as a separator too', () => {
    expect(allows(['approve:*'], 'approve:web.fetch')).toBe(true);
    expect(allows(['approve:web.*'], 'approve:web.fetch')).toBe(true);
    expect(allows(['approve:web.*'], 'approve:db.read')).toBe(false);
  });

  it.each(['', 'we*b', 'web.*.x', 'web..fetch', '.web', 'web.', 'web fetch', 'web.f*'])(
    'rejects the malformed pattern %j with INVALID_CAPABILITY naming the field',
    (pattern) => {
      let err: unknown;
      try {
        CapabilitySet.of([pattern], 'actors.a1.capabilities');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ContractError);
      expect((err as ContractError).code).toBe('INVALID_CAPABILITY');
      expect((err as ContractError).field).toBe('actors.a1.capabilities');
    },
  );

  it('rejects a non-array capability list and non-string entries', () => {
    expect(() => CapabilitySet.of('web.*' as never)).toThrow(/array/);
    expect(() => validateCapability(42)).toThrow(ContractError);
  });
});

describe('covers, normalize and intersect', () => {
  it('covers orders patterns by the names they match', () => {
    expect(covers('*', 'web.*')).toBe(true);
    expect(covers('web.*', 'web.search.*')).toBe(true);
    expect(covers('web.search.*', 'web.*')).toBe(false);
    expect(covers('web.*', 'web.fetch')).toBe(true);
    expect(covers('web.fetch', 'web.*')).toBe(false);
    expect(covers('web.*', 'web')).toBe(false);
  });

  it('normalize dedupes, drops covered patterns and sorts', () => {
    expect(normalize(['web.fetch', 'web.*', 'db.read', 'web.*', 'web.search.*'])).toEqual(['db.read', 'web.*']);
    expect(normalize(['b', 'a', '*'])).toEqual(['*']);
  });

  it("['web.*'] ∩ ['web.fetch', 'db.read'] = ['web.fetch']", () => {
    expect(intersect(['web.*'], ['web.fetch', 'db.read'])).toEqual(['web.fetch']);
  });

  it('the meet of nested wildcards is the narrower one; disjoint sets meet in nothing', () => {
    expect(intersect(['web.*'], ['web.search.*'])).toEqual(['web.search.*']);
    expect(intersect(['*'], ['db.read', 'web.*'])).toEqual(['db.read', 'web.*']);
    expect(intersect(['web.*'], ['db.*'])).toEqual([]);
    expect(intersect([], ['*'])).toEqual([]);
  });

  it('CapabilitySet.intersect agrees with intersect', () => {
    const a = CapabilitySet.of(['web.*', 'db.read']);
    const b = CapabilitySet.of(['web.fetch', 'db.*']);
    expect(a.intersect(b).patterns).toEqual(['db.read', 'web.fetch']);
  });
});

// A small universe makes collisions between patterns and names frequent.
const segment = fc.constantFrom('a', 'b', 'c');
const concrete = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
const pattern = fc.oneof(
  concrete,
  fc.array(segment, { minLength: 0, maxLength: 3 }).map((s) => [...s, '*'].join('.')),
);
const patterns = fc.array(pattern, { maxLength: 6 });

function universe(): string[] {
  const out: string[] = [];
  const grow = (prefix: string[], depth: number): void => {
    if (prefix.length > 0) out.push(prefix.join('.'));
    if (depth === 0) return;
    for (const s of ['a', 'b', 'c', 'd']) grow([...prefix, s], depth - 1);
  };
  grow([], 4);
  return out;
}
const NAMES = universe();

describe('intersection properties', () => {
  it('property: on every concrete name, allows(a ∩ b) equals allows(a) && allows(b)', () => {
    fc.assert(
      fc.property(patterns, patterns, (a, b) => {
        const both = intersect(a, b);
        const wrong = NAMES.filter((n) => allows(both, n) !== (allows(a, n) && allows(b, n)));
        expect(wrong).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('property: every pattern of a ∩ b is covered by a pattern of a and by a pattern of b', () => {
    fc.assert(
      fc.property(patterns, patterns, (a, b) => {
        for (const p of intersect(a, b)) {
          expect(a.some((x) => covers(x, p))).toBe(true);
          expect(b.some((y) => covers(y, p))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: intersection is commutative and idempotent', () => {
    fc.assert(
      fc.property(patterns, patterns, (a, b) => {
        expect(intersect(a, b)).toEqual(intersect(b, a));
        expect(intersect(a, a)).toEqual(normalize(a));
      }),
    );
  });

  it('property: a compiled CapabilitySet answers like the pattern list', () => {
    fc.assert(
      fc.property(patterns, (a) => {
        const set = CapabilitySet.of(a);
        expect(NAMES.filter((n) => set.allows(n) !== allows(a, n))).toEqual([]);
      }),
    );
  });
});
