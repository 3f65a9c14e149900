import { describe, expect, it } from 'vitest';
import { agentos } from './run.js';

describe('agentos usage and exit codes', () => {
  it.each([
    ['a missing required argument', ['validate'], /missing required argument 'files'/],
    ['an unknown option', ['validate', '--bogus', 'x.yaml'], /unknown option '--bogus'/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a record index that is not an integer', ['audit', 'show', 'first'], /invalid for argument 'from'/],
    ['a node name that would leave the data dir', ['audit', 'verify', '--node', '../etc'], /--node <name>.*invalid/],
    ['a message that is not JSON (no node needed to say so)', ['send', 'counter', '{oops', '--data-dir', '/nonexistent'], /value '\{oops' is invalid for argument 'json'\. not JSON/],
    ['a priority outside 0-9', ['send', 'counter', '{"type":"inc"}', '--priority', '12'], /--priority <n>.*invalid.*0-9/],
    ['an ask timeout that is not a number', ['ask', 'counter', '{"type":"get"}', '--timeout-ms', 'soon'], /--timeout-ms <ms>.*invalid/],
    ['approve without --by', ['approve', 'apr-1'], /required option '--by <who>' not specified/],
    ['reject without --reason', ['reject', 'apr-1', '--by', 'alice'], /required option '--reason <text>' not specified/],
  ])('%s is a usage error: exit 2', (_what, args, message) => {
    const r = agentos(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each(['contract schema', 'validate', 'audit verify', 'audit head', 'audit show', 'demo', 'send', 'ask', 'approvals', 'approve', 'reject'])('`agentos %s --help` shows an example and exits 0', (command) => {
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
