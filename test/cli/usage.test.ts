import { describe, expect, it } from 'vitest';
import { agentos } from './run.js';

describe('agentos usage and exit codes', () => {
  it.each([
    ['a missing required argument', ['validate'], /missing required argument 'files'/],
    ['an unknown option', ['validate', '--bogus', 'x.yaml'], /unknown option '--bogus'/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a record index that is not an integer', ['audit', 'show', 'first'], /invalid for argument 'from'/],
    ['a node name that would leave the data dir', ['audit', 'verify', '--node', '../etc'], /--node <name>.*invalid/],
  ])('%s is a usage error: exit 2', (_what, args, message) => {
    const r = agentos(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each(['contract schema', 'validate', 'audit verify', 'audit head', 'audit show', 'demo'])('`agentos %s --help` shows an example and exits 0', (command) => {
    const r = agentos(...command.split(' '), '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ agentos /);
  });

  it('--version prints the version and exits 0', () => {
    const r = agentos('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
