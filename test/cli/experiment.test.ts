// `agentos experiment run` as a user runs it: a child process per command.
// (Needs `registerExperimentCommands` registered in src/cli/main.ts.)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { agentos } from './run.js';

const tmp = tempDir('agentos-cli-experiment-');
afterAll(() => tmp.cleanup());

const experiment = (name: string, params: string, extra = ''): string => {
  const path = join(tmp.dir, `${name}.experiment.yaml`);
  writeFileSync(path, `apiVersion: agentos/v0.2\nkind: Experiment\nname: ${name}\nscenario: marketplace\nparams:\n${params}${extra}`);
  return path;
};

describe('agentos experiment run', () => {
  const file = experiment('cli-market', '  bidders: 6\n  tasks: 8\n  failureRate: 0.2\n', 'seeds: [1]\nout: results\n');

  it('runs each seed, prints the summary table, writes JSONL per seed and summary.md/json; exit 0', () => {
    const out = join(tmp.dir, 'a');
    const r = agentos('experiment', 'run', file, '--seed', '1', '--seed', '2..3', '--out', out);
    expect(r.stderr).toMatch(/seed 1: 8 rows in [\d.]+ s/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('| metric | seed 1 | seed 2 | seed 3 | mean | stdev |');
    expect(r.stdout).toMatch(/\| completed \| \d+ \| \d+ \| \d+ \|/);
    expect(r.stdout).toContain(`wrote 3 JSONL file(s), ${join(out, 'summary.md')}`);
    expect(readFileSync(join(out, 'cli-market.seed-2.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(8);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ name: 'cli-market', scenario: 'marketplace', seeds: [1, 2, 3] });
  });

  it('the same file and seed in another process give byte-identical JSONL; --json prints the summary as JSON', () => {
    const out = join(tmp.dir, 'b');
    const r = agentos('experiment', 'run', file, '--seed', '2', '--out', out, '--json');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ name: 'cli-market', seeds: [2], out, metrics: { tasks: { values: { '2': 8 }, mean: 8 } } });
    expect(readFileSync(join(out, 'cli-market.seed-2.jsonl')).equals(readFileSync(join(tmp.dir, 'a', 'cli-market.seed-2.jsonl')))).toBe(true);
  });

  it('an invalid file exits 1 with CODE: file:line:col: field: why; a bad --seed is a usage error (exit 2)', () => {
    const bad = experiment('cli-bad', '  tasks: 2\n  strategy: cheapest\n');
    const r = agentos('experiment', 'run', bad);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`EXPERIMENT_INVALID: ${bad}:7:3: params.strategy: must be one of lowest-price, best-value, earliest-eta (got "cheapest")`);
    const usage = agentos('experiment', 'run', file, '--seed', 'seven');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("argument 'seven' is invalid");
  });
});
