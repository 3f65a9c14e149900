import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateSize, walkSize } from '../../src/actors/size.js';

// Strings that JSON writes without escape sequences (escapes are not counted by design).
const plain = fc.string({ unit: fc.constantFrom(...Array.from('abcXYZ019 é中😀')) });
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, plain, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(plain, tie('value'), { maxKeys: 5 }),
})).value;

describe('estimateSize', () => {
  it('never underestimates the UTF-8 JSON size of a value (property)', () => {
    fc.assert(
      fc.property(json, (v) => {
        const bytes = Buffer.byteLength(JSON.stringify(v), 'utf8');
        expect(estimateSize(v, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(bytes);
      }),
    );
  });

  it('bounds the longest number JSON writes (a 17-digit negative decimal just above 1e-7)', () => {
    for (const n of [-0.0000016328565897292772, -0.0000012345678901234567, -1.2345678901234567e-308, -123456789012345680000]) {
      expect(estimateSize(n, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(JSON.stringify(n).length);
    }
  });

  it('gives the same answer on the flat fast path as on the full walk (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null))), (flat) => {
        expect(estimateSize(flat, Number.MAX_SAFE_INTEGER)).toBe(walkSize(flat, Number.MAX_SAFE_INTEGER));
      }),
    );
  });

  it('returns Infinity past the limit, for cycles and for absurd depth', () => {
    expect(estimateSize({ type: 'x', s: 'a'.repeat(100) }, 50)).toBe(Infinity);
    expect(estimateSize({ type: 'x', nested: { s: 'a'.repeat(100) } }, 50)).toBe(Infinity);
    const cyclic: Record<string, unknown> = { type: 'x' };
    cyclic.self = cyclic;
    expect(estimateSize(cyclic, 1e9)).toBe(Infinity);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(estimateSize(deep, 1e9)).toBe(Infinity);
  });
});
