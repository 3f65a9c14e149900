import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { agentos } from './run.js';

const fixtures = 'test/fixtures/contracts';
const valid = ['copilot', 'guard', 'indexer'].map((n) => `${fixtures}/${n}.agent.yaml`);
const invalid = `${fixtures}/invalid/hello.agent.yaml`;

describe('agentos validate', () => {
  const tmp = tempDir('agentos-cli-validate-');
  afterAll(tmp.cleanup);

  it('lists every valid contract with its name and class and exits 0', () => {
    const r = agentos('validate', ...valid);
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `ok  ${fixtures}/copilot.agent.yaml (triage-copilot, SRT)`,
      `ok  ${fixtures}/guard.agent.yaml (infusion-guard, HRT)`,
      `ok  ${fixtures}/indexer.agent.yaml (doc-indexer, DT)`,
    ]);
  });

  it('reports an invalid contract as file:line:col: field: message and exits 1', () => {
    const r = agentos('validate', invalid);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${invalid}:7:5: class.slo.period_ms: must be > 0 (got 0)`);
  });

  it('still lists the valid files when one of several is invalid, and exits 1', () => {
    const r = agentos('validate', valid[0], invalid, valid[1]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ok {2}.*copilot/);
    expect(lines[1]).toMatch(/^test\/fixtures\/contracts\/invalid\/hello\.agent\.yaml:7:5: /);
    expect(lines[2]).toMatch(/^ok {2}.*guard/);
  });

  it('names a kind other than AgentContract and Workflow as unsupported, at its line', () => {
    const file = join(tmp.dir, 'pipeline.yaml');
    writeFileSync(file, 'apiVersion: agentos/v0.2\nkind: Pipeline\nname: pipeline\n');
    const r = agentos('validate', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${file}:2:1: kind: unsupported kind "Pipeline"`);
  });

  it('validates workflows offline: ok with the step count, or the problem at its line (a cycle); sub-workflows given earlier resolve', () => {
    const cyclic = join(tmp.dir, 'cyclic.workflow.yaml');
    writeFileSync(cyclic, 'apiVersion: agentos/v0.2\nkind: Workflow\nname: c\nsteps:\n  - id: a\n    agent: x\n    needs: [b]\n  - id: b\n    agent: y\n    needs: [a]\n');
    const inner = join(tmp.dir, 'inner.workflow.yaml');
    writeFileSync(inner, 'apiVersion: agentos/v0.2\nkind: Workflow\nname: inner\ninput: { q: string }\nsteps:\n  - { id: s, agent: x, in: { q: string }, out: { a: string } }\noutput: { a: s.a }\n');
    const outer = join(tmp.dir, 'outer.workflow.yaml');
    writeFileSync(outer, 'apiVersion: agentos/v0.2\nkind: Workflow\nname: outer\ninput: { q: string }\nsteps:\n  - { id: n, workflow: inner }\n');
    const r = agentos('validate', 'examples/city-permit/city-permit.workflow.yaml', cyclic, inner, outer);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('ok  examples/city-permit/city-permit.workflow.yaml (city_permit_assistant, workflow, 5 steps)');
    expect(lines[1]).toBe(`${cyclic}:7:5: steps[0].needs: steps wait on each other in a cycle: a → b → a (each needs the next)`);
    expect(lines.slice(2)).toEqual([`ok  ${inner} (inner, workflow, 1 steps)`, `ok  ${outer} (outer, workflow, 1 steps)`]);
  });

  it('a missing file is invalid, named plainly', () => {
    const file = join(tmp.dir, 'absent.agent.yaml');
    const r = agentos('validate', file);
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toBe(`${file}: no such file`);
  });

  it('--json prints one verdict per file, with the error code and positions of invalid ones', () => {
    const r = agentos('validate', '--json', valid[1], invalid);
    expect(r.status).toBe(1);
    const verdicts = JSON.parse(r.stdout);
    expect(verdicts).toEqual([
      { file: valid[1], ok: true, kind: 'AgentContract', name: 'infusion-guard', class: 'HRT' },
      expect.objectContaining({
        file: invalid,
        ok: false,
        code: 'CONTRACT_INVALID',
        details: expect.objectContaining({ issues: [expect.objectContaining({ field: 'class.slo.period_ms', line: 7, col: 5 })] }),
      }),
    ]);
  });
});
