// Shared helpers for contract tests: fixture paths, a minimal valid contract,
// and an assertion that a call fails with a ContractError of a given code.
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/contracts/', import.meta.url));

/** A minimal HRT contract; line numbers in tests refer to this layout. */
export const MINIMAL_LINES = [
  'apiVersion: agentos/v0.2', // 1
  'kind: AgentContract', //      2
  'name: hello', //              3
  'class:', //                   4
  '  latency: HRT', //           5
  '  slo:', //                   6
  '    period_ms: 10', //        7
  '    deadline_ms: 10', //      8
  '    wcet_ms: 2', //           9
];

export const yaml = (lines: readonly string[]): string => `${lines.join('\n')}\n`;

/** MINIMAL_LINES with line `n` (1-based) replaced, or lines appended. */
export function withLine(n: number, text: string): string {
  const lines = [...MINIMAL_LINES];
  lines[n - 1] = text;
  return yaml(lines);
}

export const minimalObject = () => ({
  apiVersion: 'agentos/v0.2',
  kind: 'AgentContract',
  name: 'hello',
  class: { latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 2 } },
});

/** Runs `fn`, asserts it throws a ContractError with `code`, returns the error. */
export function expectContractError(fn: () => unknown, code: string, ...fragments: string[]): ContractError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a ContractError').toBeInstanceOf(ContractError);
  const err = caught as ContractError;
  expect(err.code, err.message).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}
