// Fuzzing the entry points: random JSON, random contract-shaped values and
// random text never produce anything but a Contract or a ContractError, and
// never modify Object.prototype.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import { LATENCY_CLASSES, loadContract, parseContract } from '../../../src/kernel/contract/index.js';
import { MINIMAL_LINES, minimalObject, yaml } from './helpers.js';

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
const protoUntouched = () => {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
};

/** Returns 'ok' or the error code; fails the property on any non-ContractError. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof ContractError)) throw new Error(`raw exception escaped: ${String(err)}`, { cause: err });
    expect(err.code).toMatch(/^CONTRACT_[A-Z_]+$/);
    expect(err.message.length).toBeGreaterThan(0);
    return err.code;
  }
}

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'apiVersion', 'class', 'slo', 'must', 'capabilities', 'toString', 'valueOf');
const keyArb = fc.oneof(fc.string(), hostileKey);

/** Values shaped like contracts: the right keys with random (often wrong) values. */
const contractish = fc.record({
  apiVersion: fc.oneof(fc.constant('agentos/v0.2'), fc.jsonValue()),
  kind: fc.oneof(fc.constant('AgentContract'), fc.string()),
  name: fc.oneof(fc.constant('agent'), fc.string()),
  class: fc.record({
    latency: fc.oneof(fc.constantFrom(...LATENCY_CLASSES), fc.string()),
    slo: fc.dictionary(fc.constantFrom('period_ms', 'deadline_ms', 'wcet_ms', 'jitter_ms', 'onset_ms', 'turn_ms', 'x'), fc.oneof(fc.double(), fc.integer(), fc.jsonValue())),
  }, { requiredKeys: ['latency'] }),
  priority: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.jsonValue()),
  capabilities: fc.array(fc.oneof(fc.constantFrom('web.fetch', 'a.*', 'A', ''), fc.string())),
  security: fc.record({ consent_for: fc.array(fc.constantFrom('web.fetch', 'a.b', 'x')) }),
  compute: fc.record({ cpu: fc.oneof(fc.string(), fc.double()), mem: fc.oneof(fc.string(), fc.integer()) }),
  must: fc.dictionary(fc.constantFrom('placement', 'tokens', 'capabilities', 'x'), fc.jsonValue({ maxDepth: 2 })),
  binding: fc.constantFrom('strict', 'smooth', 'flexible', 'loose'),
  prefer: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.record({ use: fc.string(), canary_pct: fc.double() }))),
}, { requiredKeys: [] });

describe('parseContract never throws anything but ContractError', () => {
  it('property: random JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      outcome(() => parseContract(v));
      protoUntouched();
    }), { numRuns: 500 });
  });

  it('property: random objects with prototype-pollution keys (as JSON.parse builds them)', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(keyArb, tie('node'), { maxKeys: 4 })),
    })).node;
    fc.assert(fc.property(value, (v) => {
      const viaJson = JSON.parse(JSON.stringify(v) ?? 'null') as unknown;
      outcome(() => parseContract(viaJson));
      outcome(() => parseContract({ ...minimalObject(), ...(typeof viaJson === 'object' && viaJson !== null ? viaJson : {}) }));
      protoUntouched();
    }), { numRuns: 500 });
  });

  it('property: contract-shaped values are either valid contracts or ContractErrors naming a field', () => {
    const codes = new Map<string, number>();
    fc.assert(fc.property(contractish, (v) => {
      const code = outcome(() => parseContract(v));
      codes.set(code, (codes.get(code) ?? 0) + 1);
      protoUntouched();
    }), { numRuns: 1000 });
    expect(codes.get('CONTRACT_INVALID')).toBeGreaterThan(0);
  });

  it('property: a valid contract plus one random extra key is still handled (unknown field error, never a crash)', () => {
    fc.assert(fc.property(keyArb, fc.jsonValue(), (k, v) => {
      const input = JSON.parse(JSON.stringify({ ...minimalObject() })) as Record<string, unknown>;
      Object.defineProperty(input, k, { value: v, enumerable: true, configurable: true, writable: true });
      const code = outcome(() => parseContract(input));
      if (k !== 'apiVersion' && k !== 'class' && k !== 'capabilities' && k !== 'must') expect(code).not.toBe('ok');
      protoUntouched();
    }), { numRuns: 300 });
  });
});

describe('loadContract never throws anything but ContractError', () => {
  it('property: random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      outcome(() => loadContract(`${s}\n`));
      protoUntouched();
    }), { numRuns: 500 });
  });

  it('property: a valid contract with a random line spliced in', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom('__proto__: {polluted: 1}', '&a [*a]', '*x', '!!binary AAAA', '? [a]', '---', '...', '%YAML 1.1', '  - - -', 'a: |', '"\\u0000"'),
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: MINIMAL_LINES.length }), line, (at, text) => {
      const lines = [...MINIMAL_LINES];
      lines.splice(at, 0, text);
      outcome(() => loadContract(yaml(lines)));
      protoUntouched();
    }), { numRuns: 500 });
  });
});
