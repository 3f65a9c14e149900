// The experiment runner in process: experiment files checked with positions,
// seeds, the marketplace scenario run per seed on a fresh node and virtual clock,
// results written as JSONL + summary tables, byte-identical for the same seed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNode } from '../../src/index.js';
import { ExperimentClock, runUntil } from '../../src/node/experiment/drive.js';
import { loadExperimentFile, parseExperiment, parseSeeds } from '../../src/node/experiment/file.js';
import { builtinScenarios, resolveScenario } from '../../src/node/experiment/registry.js';
import { runExperiment, runScenario } from '../../src/node/experiment/runner.js';
import { marketplaceScenario } from '../../src/node/experiment/scenarios/marketplace.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('agentos-experiment-');
afterAll(() => tmp.cleanup());

let n = 0;
/** Write an experiment file into the temp dir; returns its path. */
function file(text: string): string {
  const path = join(tmp.dir, `e${++n}.experiment.yaml`);
  writeFileSync(path, text);
  return path;
}

const header = 'apiVersion: agentos/v0.2\nkind: Experiment\n';
const small = (extra = ''): string => `${header}name: small\nscenario: marketplace\nparams: { bidders: 8, tasks: 12, failureRate: 0.2, lateRate: 0.2, budget: 300 }\n${extra}`;

const codeOf = (fn: () => unknown): { code?: string; field?: string; message: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; field?: string; message: string };
  }
  throw new Error('did not throw');
};

describe('experiment files', () => {
  it('reads the documented form; relative out and module paths resolve against the file', () => {
    const path = file(`${header}name: market-100\nscenario: marketplace\nparams: { bidders: 100, tasks: 50, strategy: lowest-price, failureRate: 0.1 }\nseeds: [1, 2, 3]\nout: results/market-100\n`);
    const spec = loadExperimentFile(path);
    expect(spec).toMatchObject({ name: 'market-100', scenario: { builtin: 'marketplace' }, params: { bidders: 100, tasks: 50 }, seeds: [1, 2, 3], out: join(tmp.dir, 'results/market-100') });
    const mod = parseExperiment(`${header}name: m\nscenario: { module: ./s.mjs }\n`, 'x.yaml', '/srv/exp');
    expect(mod).toMatchObject({ scenario: { module: '/srv/exp/s.mjs' }, seeds: [1], out: '/srv/exp/results/m' });
  });

  it('every error names file:line:col and the field', () => {
    const bad = (text: string) => codeOf(() => loadExperimentFile(file(text)));
    expect(bad(`${header}name: m\nscenario: marketplace\nsedes: [1]\n`)).toMatchObject({ code: 'EXPERIMENT_INVALID', field: 'sedes', message: expect.stringMatching(/e\d+\.experiment\.yaml:5:1: sedes: unknown field \(did you mean "seeds"\?\)/) });
    expect(bad(`apiVersion: agentos/v9\nkind: Experiment\nname: m\nscenario: marketplace\n`)).toMatchObject({ code: 'EXPERIMENT_INVALID', field: 'apiVersion', message: expect.stringContaining(':1:1: apiVersion: must be "agentos/v0.2"') });
    expect(bad(`${header}name: ../etc\nscenario: marketplace\n`)).toMatchObject({ field: 'name', message: expect.stringContaining(':3:1: name: must be 1-64 letters') });
    expect(bad(`${header}name: m\nscenario: marketplace\nseeds: [1, x]\n`)).toMatchObject({ field: 'seeds[1]', message: expect.stringContaining(':5:12: seeds[1]:') });
    expect(bad(`${header}name: m\nscenario: marketplace\nseeds: 9..2\n`)).toMatchObject({ field: 'seeds', message: expect.stringContaining('runs backwards') });
    expect(bad(`${header}name: m\nname: n\nscenario: marketplace\n`)).toMatchObject({ code: 'EXPERIMENT_YAML', message: expect.stringContaining(':4:1: name: duplicate key "name"') });
    expect(bad(`${header}name: m\nscenario: marketplace\nparams: { __proto__: 1 }\n`)).toMatchObject({ code: 'EXPERIMENT_INVALID', message: expect.stringContaining('forbidden') });
    expect(bad('- a list\n')).toMatchObject({ code: 'EXPERIMENT_INVALID', message: expect.stringContaining('must be a mapping') });
    expect(bad(`${header}name: m\nscenario: marketplace\nparams: { s: ${'x'.repeat(70_000)} }\n`)).toMatchObject({ code: 'EXPERIMENT_TOO_LARGE' });
    expect(codeOf(() => loadExperimentFile(join(tmp.dir, 'absent.yaml')))).toMatchObject({ code: 'EXPERIMENT_READ', message: expect.stringContaining('no such file') });
  });

  it('seeds: single values, ranges, lists; repeats dropped; order kept', () => {
    expect(parseSeeds([3, '1..4', '2'])).toEqual([3, 1, 2, 4]);
    expect(parseSeeds(['0..0'])).toEqual([0]);
    expect(codeOf(() => parseSeeds(['1..20000']))).toMatchObject({ code: 'EXPERIMENT_INVALID', field: 'seeds' });
    expect(codeOf(() => parseSeeds([-1]))).toMatchObject({ field: 'seeds' });
    expect(codeOf(() => parseSeeds([]))).toMatchObject({ field: 'seeds' });
  });

  it('bad params and unknown scenarios are located in the file', async () => {
    await expect(runExperiment(file(`${header}name: m\nscenario: marketplace\nparams:\n  tasks: 3\n  bidders: 0\n`))).rejects.toMatchObject({
      code: 'EXPERIMENT_INVALID',
      field: 'params.bidders',
      message: expect.stringMatching(/:7:3: params\.bidders: must be >= 1 \(got 0\)$/),
    });
    await expect(runExperiment(file(`${header}name: m\nscenario: marketplace\nparams: { tasks: 3, bidder: 4 }\n`))).rejects.toMatchObject({ field: 'params.bidder', message: expect.stringContaining('unknown field bidder') });
    await expect(runExperiment(file(`${header}name: m\nscenario: auction\n`))).rejects.toMatchObject({
      code: 'EXPERIMENT_UNKNOWN_SCENARIO',
      message: expect.stringMatching(/:4:1: unknown scenario "auction" \(built-ins: marketplace, blackboard/),
    });
  });
});

describe('running the marketplace', () => {
  it('writes one JSONL file per seed (a row per task) and a summary table across seeds with mean and stdev', async () => {
    const out = join(tmp.dir, 'run-a');
    const result = await runExperiment(file(small('seeds: 1..2\n')), { out });
    expect(result.files.jsonl).toEqual([join(out, 'small.seed-1.jsonl'), join(out, 'small.seed-2.jsonl')]);
    for (const path of result.files.jsonl) {
      const rows = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(rows).toHaveLength(12);
      for (const r of rows) {
        expect(['done', 'failed']).toContain(r.status);
        if (r.status === 'done') expect(r).toMatchObject({ winner: expect.stringMatching(/^bidder-/), price: expect.any(Number), reason: null });
        else expect(r.reason).toMatch(/^MARKET_/);
        expect(r.completedAt - r.announcedAt).toBe(r.durationMs);
      }
    }
    const json = JSON.parse(readFileSync(result.files.json, 'utf8'));
    const completed = json.metrics.completed as { values: Record<string, number>; mean: number; stdev: number };
    const [a, b] = [completed.values['1']!, completed.values['2']!];
    expect(completed.mean).toBeCloseTo((a + b) / 2, 6);
    expect(completed.stdev).toBeCloseTo(Math.abs(a - b) / Math.SQRT2, 6);
    expect(json.metrics.budgetSpent.values['1']).toBeLessThanOrEqual(300);
    const md = readFileSync(result.files.markdown, 'utf8');
    expect(md).toContain('| metric | seed 1 | seed 2 | mean | stdev |');
    expect(md).toMatch(/\| completed \| \d+ \| \d+ \| [\d.]+ \| [\d.]+ \|/);
  });

  it('the same file and seed give byte-identical JSONL (and summaries); another seed does not', async () => {
    const path = file(small('seeds: [5]\n'));
    const first = await runExperiment(path, { out: join(tmp.dir, 'same-1') });
    const second = await runExperiment(path, { out: join(tmp.dir, 'same-2') });
    const other = await runExperiment(path, { out: join(tmp.dir, 'same-3'), seeds: [6] });
    const bytes = (p: string) => readFileSync(p);
    expect(bytes(second.files.jsonl[0]!).equals(bytes(first.files.jsonl[0]!))).toBe(true);
    expect(bytes(second.files.json).equals(bytes(first.files.json))).toBe(true);
    expect(bytes(second.files.markdown).equals(bytes(first.files.markdown))).toBe(true);
    expect(bytes(other.files.jsonl[0]!).equals(bytes(first.files.jsonl[0]!))).toBe(false);
  });

  it("a run stays within the manager's budget and reports late bids and re-announcements", async () => {
    const params = marketplaceScenario.parseParams({ bidders: 10, tasks: 30, failureRate: 0.3, lateRate: 0.3, budget: 250 });
    const { rows, summary } = await runScenario(marketplaceScenario, params, 3);
    expect(rows).toHaveLength(30);
    expect(summary.budgetSpent as number).toBeLessThanOrEqual(250);
    expect(summary.budgetSpent).toBeCloseTo(rows.reduce((s, r) => s + (r.status === 'done' ? (r.price as number) : 0), 0), 2);
    expect(summary.lateBids as number).toBeGreaterThan(0);
    expect(summary.reannouncements as number).toBeGreaterThan(0);
    expect(summary.completed).toBe(rows.filter((r) => r.status === 'done').length);
  });
});

describe('scenarios from modules, and failures', () => {
  const moduleFile = (name: string, body: string): string => {
    const path = join(tmp.dir, name);
    writeFileSync(path, body);
    return path;
  };

  it('runs a scenario a module exports; rows and summary come from the seeded RNG and the virtual clock', async () => {
    moduleFile(
      'dice.mjs',
      `export default { name: 'dice', description: 'rolls', parseParams: (p) => ({ rolls: p.rolls ?? 3 }),
        async run({ rng, clock, params, record, seed }) {
          let sum = 0;
          for (let i = 0; i < params.rolls; i++) { const roll = 1 + rng.int(6); sum += roll; record({ i, roll, at: clock.now() }); clock.advance(10); }
          return { seed, sum };
        } };`,
    );
    const result = await runExperiment(file(`${header}name: dice\nscenario: { module: ./dice.mjs }\nparams: { rolls: 4 }\nseeds: 1..3\n`), { out: join(tmp.dir, 'dice') });
    expect(result.scenario).toBe('dice');
    expect(readFileSync(result.files.jsonl[0]!, 'utf8').trimEnd().split('\n')).toHaveLength(4);
    expect(result.metrics.find((m) => m.metric === 'seed')).toMatchObject({ values: [1, 2, 3], mean: 2, stdev: 1 });
  });

  it('a module without a scenario, a throwing scenario and a non-JSON row are typed errors', async () => {
    moduleFile('empty.mjs', 'export const x = 1;\n');
    moduleFile('boom.mjs', "export const scenario = { name: 'boom', description: '', parseParams: () => ({}), async run() { throw new Error('kaput'); } };\n");
    moduleFile('nan.mjs', "export const scenario = { name: 'nan', description: '', parseParams: () => ({}), async run({ record }) { record({ x: NaN }); return {}; } };\n");
    await expect(runExperiment(file(`${header}name: e\nscenario: { module: ./empty.mjs }\n`), { out: join(tmp.dir, 'x') })).rejects.toMatchObject({ code: 'EXPERIMENT_UNKNOWN_SCENARIO', message: expect.stringContaining('exports no scenario') });
    await expect(runExperiment(file(`${header}name: e\nscenario: { module: ./boom.mjs }\nseeds: [7]\n`), { out: join(tmp.dir, 'x') })).rejects.toMatchObject({ code: 'EXPERIMENT_RUN_FAILED', details: { seed: 7 }, message: expect.stringContaining('failed on seed 7: kaput') });
    await expect(runExperiment(file(`${header}name: e\nscenario: { module: ./nan.mjs }\n`), { out: join(tmp.dir, 'x') })).rejects.toMatchObject({ code: 'EXPERIMENT_BAD_ROW', field: 'x' });
    await expect(runExperiment(file(`${header}name: e\nscenario: { module: ./missing.mjs }\n`), { out: join(tmp.dir, 'x') })).rejects.toMatchObject({ code: 'EXPERIMENT_UNKNOWN_SCENARIO', message: expect.stringContaining('does not exist') });
    const blocker = join(tmp.dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    await expect(runExperiment(file(small()), { out: join(blocker, 'results') })).rejects.toMatchObject({ code: 'EXPERIMENT_WRITE', field: 'out', message: expect.stringContaining('a-file/results') });
  });

  it('runUntil jumps the clock from timer to timer, and says when a run is stuck', async () => {
    const clock = new ExperimentClock(0);
    const node = await createNode({ name: 'drive', dataDir: join(tmp.dir, 'drive'), clock, memory: false });
    try {
      let fired = 0;
      clock.setTimeout(() => fired++, 500);
      clock.setTimeout(() => fired++, 90_000);
      await runUntil(node, clock, () => fired === 2);
      expect(clock.now()).toBe(90_000);
      await expect(runUntil(node, clock, () => false)).rejects.toMatchObject({ code: 'EXPERIMENT_STALLED', message: expect.stringContaining('no timer left') });
      clock.setTimeout(() => undefined, 10_000);
      await expect(runUntil(node, clock, () => false, { horizonMs: 1_000 })).rejects.toMatchObject({ code: 'EXPERIMENT_STALLED', field: 'horizonMs' });
    } finally {
      await node.stop();
    }
  });

  it('the built-ins resolve by name, the blackboard one included when its module is present', async () => {
    expect(builtinScenarios()).toEqual(['marketplace', 'blackboard']);
    expect((await resolveScenario({ builtin: 'marketplace' })).name).toBe('marketplace');
    const present = existsSync(new URL('../../src/node/experiment/scenarios/blackboard.ts', import.meta.url));
    if (present) expect((await resolveScenario({ builtin: 'blackboard' })).name).toBe('blackboard');
    else await expect(resolveScenario({ builtin: 'blackboard' })).rejects.toMatchObject({ code: 'EXPERIMENT_UNKNOWN_SCENARIO', message: expect.stringContaining('not available') });
  });
});

describe('examples/marketplace', () => {
  it('runs the example experiment (three seeds) and shows the same seed gives the same rows', async () => {
    const { main } = await import('../../examples/marketplace/run.js');
    const t0 = performance.now();
    const { result, reproducible } = await main(join(tmp.dir, 'example'));
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(reproducible).toBe(true);
    expect(result.seeds).toEqual([1, 2, 3]);
    expect(result.metrics.find((m) => m.metric === 'tasks')).toMatchObject({ values: [40, 40, 40], mean: 40, stdev: 0 });
  });
});
