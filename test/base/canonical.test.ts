import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, NOT_JSON_DATA, canonicalJson, sha256Hex } from '../../src/base/canonical.js';
import { AgentOsError } from '../../src/base/errors.js';

const refusal = (fn: () => unknown): CanonicalJsonError => {
  try {
    fn();
  } catch (err) {
    return err as CanonicalJsonError;
  }
  throw new Error('expected a refusal');
};

/** The same data with every object's keys in reverse insertion order (fromEntries keeps "__proto__" an own key). */
const reversed = (x: unknown): unknown =>
  Array.isArray(x)
    ? x.map(reversed)
    : x !== null && typeof x === 'object'
      ? Object.fromEntries(Object.entries(x).reverse().map(([k, v]) => [k, reversed(v)]))
      : x;

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units at every depth, without whitespace, dropping undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ b: 1, 10: 2, 2: 3, '\u{1F600}': 4, '\uFFFF': 5, A: 6 })).toBe('{"10":2,"2":3,"A":6,"b":1,"\u{1F600}":4,"\uFFFF":5}');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });

  it('writes numbers in ECMAScript form and strings as JSON.stringify escapes them', () => {
    expect(canonicalJson([0, -0, 1e21, 1e-7, 0.1, 123.5, -4])).toBe('[0,0,1e+21,1e-7,0.1,123.5,-4]');
    const s = 'q"b\\s\n\t\u0001\u001f\u007f\u2028 é 😀';
    expect(canonicalJson(s)).toBe(JSON.stringify(s));
  });

  it.each([
    ['NaN', { x: Number.NaN }, '$.x'],
    ['Infinity', { x: [1, -Infinity] }, '$.x[1]'],
    ['a bigint', { x: 1n }, '$.x'],
    ['a function', { f: () => 1 }, '$.f'],
    ['a symbol', [Symbol('s')], '$[0]'],
    ['undefined at the root', undefined, '$'],
    ['undefined in an array', { x: [1, undefined] }, '$.x[1]'],
    ['a hole in an array', { x: [1, , 3] }, '$.x[1]'], // eslint-disable-line no-sparse-arrays
    ['a lone surrogate', { s: 'a\uD800b' }, '$.s'],
    ['a lone surrogate in a key', { '\uDC00': 1 }, '$.\uDC00'],
    ['a Date', { when: new Date(0) }, '$.when'],
    ['a Map', { m: new Map() }, '$.m'],
    ['a Set', [new Set([1])], '$[0]'],
    ['a class instance', { c: new (class Point { x = 1; })() }, '$.c'],
  ])('refuses %s with a CanonicalJsonError naming the path', (_what, value, path) => {
    const err = refusal(() => canonicalJson(value));
    expect(err).toBeInstanceOf(CanonicalJsonError);
    expect(err).toBeInstanceOf(AgentOsError);
    expect(err.code).toBe(NOT_JSON_DATA);
    expect(err.path).toBe(path);
    expect(err.field).toBe(path);
    expect(err.message).toContain(err.reason);
  });

  it('refuses cycles but accepts shared (acyclic) references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
    const cyclic: Record<string, unknown> = { list: [] };
    (cyclic.list as unknown[]).push(cyclic);
    expect(refusal(() => canonicalJson(cyclic))).toMatchObject({ path: '$.list[0]', reason: expect.stringMatching(/cycle/) });
  });

  it('maxDepth bounds nesting, the root counting as one level', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);
    expect(canonicalJson(nest(3), { maxDepth: 3 })).toBe('[[[1]]]');
    expect(refusal(() => canonicalJson(nest(4), { maxDepth: 3 }))).toMatchObject({ path: '$[0][0][0]' });
    expect(canonicalJson(nest(2000))).toHaveLength(4001);
  });

  it('property: output parses back to an equal value for JSON-safe input', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toStrictEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('property: members are written in Array.prototype.sort order, for small and large objects alike', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.integer(), { maxKeys: 40 }), (dict) => {
        const keys = Object.keys(dict).sort();
        expect(canonicalJson(dict)).toBe(`{${keys.map((k) => `${JSON.stringify(k)}:${dict[k]}`).join(',')}}`);
      }),
    );
  });

  it('property: key insertion order never changes the output', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        expect(canonicalJson(reversed(value))).toBe(canonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });
});

describe('sha256Hex', () => {
  it('hashes text as UTF-8 and bytes as given, in lowercase hex', () => {
    const expected = createHash('sha256').update('é', 'utf8').digest('hex');
    expect(sha256Hex('é')).toBe(expected);
    expect(sha256Hex(new Uint8Array([0xc3, 0xa9]))).toBe(expected);
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
