import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import { parseContract, parseCpu, parseMemory } from '../../../src/kernel/contract/index.js';
import { expectContractError, minimalObject } from './helpers.js';

describe('parseCpu → millicores', () => {
  it.each([
    ['500m', 500], ['1m', 1], ['2', 2000], ['0.5', 500], [0.5, 500], [2, 2000], ['1.25', 1250], [0.001, 1], ['0.1', 100], [1.1, 1100], ['16', 16000],
  ] as const)('%j → %d', (input, expected) => {
    expect(parseCpu(input)).toBe(expected);
  });

  it.each(['0', '0m', '-1', '1.5m', '0.0001', 0.0001, 'two', '2 cores', '', '1e3', 1e-7, NaN, Infinity, -0.5, '2000000'])('rejects %j', (input) => {
    expectContractError(() => parseCpu(input), 'CONTRACT_INVALID', 'compute.cpu');
  });
});

describe('parseMemory → bytes', () => {
  it.each([
    ['512Mi', 512 * 2 ** 20], ['2GiB', 2 * 2 ** 30], ['1G', 1e9], ['1GB', 1e9], ['64Ki', 65536], ['1k', 1000], ['1K', 1000],
    ['1048576', 1048576], [1024, 1024], ['1.5Gi', 1.5 * 2 ** 30], ['0.5Ki', 512], ['1 GB', 1e9], ['100B', 100], ['1Ti', 2 ** 40], ['0.3Ki', 308],
  ] as const)('%j → %d', (input, expected) => {
    expect(parseMemory(input)).toBe(expected);
  });

  it.each(['0', '0Mi', '-1Gi', '1m', '2gib', '1Ei', '1.5', 1.5, -1, 'lots', '', '9999999PiB', 2 ** 60])('rejects %j', (input) => {
    expectContractError(() => parseMemory(input), 'CONTRACT_INVALID', 'compute.mem');
  });

  it('property: whole binary quantities are exact', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(['Ki', 2 ** 10], ['Mi', 2 ** 20], ['Gi', 2 ** 30]), (n, [unit, mult]) => {
      const bytes = n * (mult as number);
      fc.pre(Number.isSafeInteger(bytes));
      expect(parseMemory(`${n}${unit as string}`)).toBe(bytes);
      expect(parseMemory(`${n}${unit as string}B`)).toBe(bytes);
    }));
  });

  it('property: never throws anything but ContractError', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.double(), fc.integer()), (v) => {
      for (const f of [parseCpu, parseMemory]) {
        try {
          const r = f(v);
          expect(Number.isSafeInteger(r) && r > 0).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ContractError);
        }
      }
    }));
  });
});

describe('compute in a contract', () => {
  it('accepts the documented forms', () => {
    for (const [cpu, mem] of [['500m', '512Mi'], ['2', '2GiB'], [0.5, '1G'], [4, 1_073_741_824]] as const) {
      expect(parseContract({ ...minimalObject(), compute: { cpu, mem } }).compute).toEqual({ cpu, mem });
    }
  });

  it('names the field and the reason', () => {
    expectContractError(() => parseContract({ ...minimalObject(), compute: { cpu: '0.0001', mem: '1Gi' } }), 'CONTRACT_INVALID', 'compute.cpu: finer than 1m (one millicore) is not allowed (got "0.0001")');
    expectContractError(() => parseContract({ ...minimalObject(), compute: { cpu: '1', mem: '2gb' } }), 'CONTRACT_INVALID', 'compute.mem: must be bytes or a quantity like "512Mi", "2GiB", "1G" (got "2gb")');
    expectContractError(() => parseContract({ ...minimalObject(), compute: { cpu: 'two', mem: '1Gi' } }), 'CONTRACT_INVALID', 'compute.cpu: must be cores like "2", 0.5 or millicores like "500m" (got "two")');
    expectContractError(() => parseContract({ ...minimalObject(), compute: { cpu: -1, mem: '1Gi' } }), 'CONTRACT_INVALID', 'compute.cpu: must be > 0 (got -1)');
    expectContractError(() => parseContract({ ...minimalObject(), compute: { cpu: '1' } }), 'CONTRACT_INVALID', 'compute.mem: is required: bytes or a quantity');
    expectContractError(() => parseContract({ ...minimalObject(), compute: { cpu: '0m', mem: '0.5' } }), 'CONTRACT_INVALID', 'compute.cpu: must be > 0 (got "0m")', 'compute.mem: a number of bytes must be a whole number');
  });
});
