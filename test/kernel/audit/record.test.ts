import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditError, StorageError } from '../../../src/base/errors.js';
import { AuditCodes } from '../../../src/kernel/audit/codes.js';
import { MAX_RECORD_BYTES, buildRecord, canonicalJson, decodeRecord, encodeRecord, seqOf } from '../../../src/kernel/audit/record.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as AuditError).code;
  }
  return undefined;
};

describe('leaf encoding', () => {
  it('encodes a record as canonical JSON with sorted keys, byte for byte', () => {
    const record = buildRecord(
      {
        kind: 'admission',
        decision: 'refused',
        actor: 'a1',
        tenant: 't1',
        subject: 'contract:planner',
        reason: 'HRT utilisation 1.2 > 1',
        hashes: { contract: 'ab01' },
        data: { z: 1, a: [true, null, 'é'] },
      },
      7,
      1_716_000_000_000,
      'n1',
    );
    expect(encodeRecord(record).toString('utf8')).toBe(
      '{"actor":"a1","data":{"a":[true,null,"é"],"z":1},"decision":"refused","hashes":{"contract":"ab01"},' +
        '"kind":"admission","node":"n1","reason":"HRT utilisation 1.2 > 1","seq":7,"subject":"contract:planner",' +
        '"tenant":"t1","time":1716000000000,"v":1}',
    );
  });

  it('writes node-level records with tenant null and omits absent optional fields', () => {
    const bytes = encodeRecord(buildRecord({ kind: 'budget', decision: 'refused', reason: undefined }, 0, 5, 'n1'));
    expect(bytes.toString()).toBe('{"decision":"refused","kind":"budget","node":"n1","seq":0,"tenant":null,"time":5,"v":1}');
  });

  it('sorts keys by UTF-16 code units, integer-like keys included', () => {
    expect(canonicalJson({ b: 1, 10: 2, 2: 3, '\u{1F600}': 4, '\uFFFF': 5, A: 6 })).toBe('{"10":2,"2":3,"A":6,"b":1,"\u{1F600}":4,"\uFFFF":5}');
  });

  it('escapes strings exactly as ECMAScript JSON.stringify does and keeps other characters as UTF-8', () => {
    const s = 'q"b\\s\n\t\u0001\u001f\u007f\u2028 é 😀';
    expect(canonicalJson(s)).toBe(JSON.stringify(s));
    expect(Buffer.from(canonicalJson({ k: 'é' }), 'utf8')).toEqual(Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d]));
  });

  it('writes numbers in ECMAScript form', () => {
    expect(canonicalJson([0, -0, 1e21, 1e-7, 0.1, 123.5, -4])).toBe('[0,0,1e+21,1e-7,0.1,123.5,-4]');
  });

  it.each([
    ['NaN', { x: Number.NaN }, 'value.x'],
    ['Infinity', { x: [1, Infinity] }, 'value.x[1]'],
    ['a bigint', { x: 1n }, 'value.x'],
    ['undefined in an array', { x: [undefined] }, 'value.x[0]'],
    ['a Date', { when: new Date(0) }, 'value.when'],
    ['a Map', { m: new Map() }, 'value.m'],
    ['a function', { f: () => 1 }, 'value.f'],
    ['a lone surrogate', { s: 'a\uD800b' }, 'value.s'],
  ])('refuses %s and names where it is', (_what, value, field) => {
    let err: unknown;
    try {
      canonicalJson(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).code).toBe(AuditCodes.invalidRecord);
    expect((err as AuditError).field).toBe(field);
  });

  it('refuses cyclic data instead of looping', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => canonicalJson(cyclic))).toBe(AuditCodes.invalidRecord);
  });

  it('canonical JSON is a fixed point and does not depend on key insertion order', () => {
    const reversed = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(reversed);
      if (x === null || typeof x !== 'object') return x;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).reverse()) {
        // defineProperty, not assignment: fast-check generates "__proto__" as an own key too
        Object.defineProperty(out, k, { value: reversed((x as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(canonicalJson(reversed(value))).toBe(text);
      }),
    );
  });

  it('the record encoder on the append path writes exactly the canonical JSON of the record, and seqOf reads its seq back', () => {
    const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const str = (minLength = 0) => fc.string({ unit: 'binary', minLength }); // any code point, astral included
    fc.assert(
      fc.property(
        fc.record({
          kind: str(1),
          decision: str(1),
          actor: opt(str()),
          tenant: opt(str()),
          subject: opt(str()),
          reason: opt(str()),
          hashes: opt(fc.dictionary(str(), str())),
          data: opt(fc.dictionary(str(), fc.jsonValue())),
        }),
        fc.nat(),
        fc.nat(),
        str(),
        (input, seq, time, node) => {
          const record = buildRecord(input, seq, time, node);
          const bytes = encodeRecord(record);
          expect(bytes.toString('utf8')).toBe(canonicalJson(record));
          expect(seqOf(bytes)).toBe(seq);
        },
      ),
    );
  });

  it('seqOf finds the top-level seq, not one nested in data, hashes or strings', () => {
    const record = buildRecord(
      { kind: 'policy', decision: 'allowed', data: { seq: 99, inner: { ',"seq":': 98 } }, hashes: { seq: '97' }, subject: ',"seq":96,', reason: 'x,"seq":95}' },
      12,
      0,
      'n',
    );
    expect(seqOf(encodeRecord(record))).toBe(12);
    expect(seqOf(Buffer.from('{"a":1}'))).toBeUndefined();
    expect(seqOf(Buffer.from('{"b":1,"seq":012,"v":1}'))).toBeUndefined();
    expect(seqOf(Buffer.from('{"b":1,"seq":-1,"v":1}'))).toBeUndefined();
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), fc.dictionary(fc.string(), fc.jsonValue()), (decision, tenant, data) => {
        fc.pre(decision.length > 0);
        const record = buildRecord({ kind: 'policy', decision, tenant, data }, 3, 9, 'n');
        const back = decodeRecord(encodeRecord(record));
        expect(canonicalJson(back)).toBe(canonicalJson(record));
      }),
    );
  });
});

describe('record validation', () => {
  it.each([
    ['kind missing', { decision: 'allowed' }, 'kind'],
    ['empty decision', { kind: 'policy', decision: '' }, 'decision'],
    ['a number as actor', { kind: 'policy', decision: 'allowed', actor: 7 }, 'actor'],
    ['a non-string hash', { kind: 'policy', decision: 'allowed', hashes: { prompt: 1 } }, 'hashes.prompt'],
    ['data that is an array', { kind: 'policy', decision: 'allowed', data: [] }, 'data'],
    ['an unknown field', { kind: 'policy', decision: 'allowed', seq: 3 }, 'seq'],
  ])('refuses input with %s', (_what, input, field) => {
    let err: unknown;
    try {
      encodeRecord(buildRecord(input as never, 0, 0, 'n'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).field).toBe(field);
  });

  it(`refuses records over ${MAX_RECORD_BYTES} bytes`, () => {
    const record = buildRecord({ kind: 'policy', decision: 'allowed', data: { blob: 'x'.repeat(MAX_RECORD_BYTES) } }, 0, 0, 'n');
    expect(codeOf(() => encodeRecord(record))).toBe(AuditCodes.invalidRecord);
  });

  it('reports malformed leaf bytes as a StorageError', () => {
    expect(() => decodeRecord(Buffer.from([0xff, 0xfe]), 4)).toThrow(StorageError);
    expect(() => decodeRecord(Buffer.from('{"v":2}'), 4)).toThrow(/audit record 4/);
  });
});
