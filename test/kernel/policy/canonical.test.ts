import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/base/errors.js';
import { canonicalJson, hashArgs, snapshotArgs } from '../../../src/kernel/policy/index.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('canonical args hashing', () => {
  it('sorts keys at every depth and hashes the canonical JSON with SHA-256', () => {
    const args = { b: 1, a: { d: [1, 'x', null], c: true } };
    expect(canonicalJson(args)).toBe('{"a":{"c":true,"d":[1,"x",null]},"b":1}');
    expect(hashArgs(args)).toBe(sha('{"a":{"c":true,"d":[1,"x",null]},"b":1}'));
  });

  it('orders keys by UTF-16 code unit, integer-like keys included', () => {
    expect(canonicalJson({ 9: 'a', 10: 'b', B: 1, a: 2, é: 3 })).toBe('{"10":"b","9":"a","B":1,"a":2,"é":3}');
  });

  it('key order does not change the hash; a changed value does', () => {
    expect(hashArgs({ url: 'https://a', depth: 1 })).toBe(hashArgs({ depth: 1, url: 'https://a' }));
    expect(hashArgs({ url: 'https://a', depth: 1 })).not.toBe(hashArgs({ url: 'https://a', depth: 2 }));
    expect(hashArgs(['a', 'b'])).not.toBe(hashArgs(['b', 'a']));
  });

  it('property: the hash depends only on the JSON value, not on key insertion order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const reordered = JSON.parse(JSON.stringify(v), (_k, x: unknown) =>
          x !== null && typeof x === 'object' && !Array.isArray(x)
            ? Object.fromEntries(Object.entries(x as object).reverse())
            : x,
        ) as unknown;
        expect(hashArgs(reordered)).toBe(hashArgs(v));
      }),
    );
  });

  it('property: canonical JSON is JSON.stringify of the value with keys sorted (escapes and surrogates included)', () => {
    // Reference: JSON.stringify for every scalar and key, Array.prototype.sort for key order.
    // (Not via a sorted object: integer-like keys would be re-ordered by the engine.)
    const reference = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(reference).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${reference((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 300 },
    );
  });

  it('skips undefined properties like JSON and treats missing args as null', () => {
    expect(hashArgs({ a: 1, b: undefined })).toBe(hashArgs({ a: 1 }));
    expect(hashArgs(undefined)).toBe(hashArgs(null));
  });

  it.each([
    ['a Map', { m: new Map([['k', 1]]) }, '$.m'],
    ['a Date', { when: new Date(0) }, '$.when'],
    ['NaN', { n: Number.NaN }, '$.n'],
    ['a bigint', { n: 1n }, '$.n'],
    ['a function', [() => 1], '$[0]'],
    ['undefined in an array', [1, undefined], '$[1]'],
  ])('refuses %s with INVALID_ARGS naming the path', (_what, args, path) => {
    let err: unknown;
    try {
      hashArgs(args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('INVALID_ARGS');
    expect((err as ValidationError).field).toBe(path);
  });

  it('refuses cyclic args but accepts shared (acyclic) references', () => {
    const shared = { x: 1 };
    expect(() => hashArgs({ a: shared, b: shared })).not.toThrow();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => hashArgs(cyclic)).toThrow(/cycle/);
  });

  it('the snapshot is a deep-frozen copy in the caller key order, immune to later mutation', () => {
    const args = { z: { list: [1, 2] }, a: 'x' };
    const snap = snapshotArgs(args);
    args.z.list.push(3);
    args.a = 'changed';
    expect(snap.copy).toEqual({ z: { list: [1, 2] }, a: 'x' });
    expect(Object.keys(snap.copy as object)).toEqual(['z', 'a']);
    expect(Object.isFrozen((snap.copy as { z: object }).z)).toBe(true);
  });

  it('a "__proto__" key stays plain data in the copy', () => {
    const args = JSON.parse('{"__proto__":{"polluted":true}}') as object;
    const snap = snapshotArgs(args);
    expect(Object.getPrototypeOf(snap.copy)).toBe(Object.prototype);
    expect(Object.keys(snap.copy as object)).toEqual(['__proto__']);
    expect(snap.canonical).toBe('{"__proto__":{"polluted":true}}');
  });
});
