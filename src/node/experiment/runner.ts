// The experiment runner behind `agentos experiment run <file> --seed N`: for each
// seed a fresh node (its own data dir, a virtual clock from 0, no memory service,
// no network) runs the scenario with `seededRng(seed)`; its rows go to
// `<out>/<name>.seed-<N>.jsonl` and its summary into a table across seeds
// (`summary.md`, `summary.json`: each metric per seed, mean and stdev). Nothing a
// run writes depends on the wall clock, so the same file and seed give
// byte-identical JSONL on any machine.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAgentOsError } from '../../base/errors.js';
import { seededRng } from '../../base/rng.js';
import { createNode } from '../node.js';
import { ExperimentClock } from './drive.js';
import { ExperimentCodes, ExperimentError } from './errors.js';
import { loadExperimentFile, whereIn, type ExperimentSpec } from './file.js';
import { resolveScenario } from './registry.js';
import type { ExperimentRow, ExperimentScenario } from './types.js';

export interface RunExperimentOptions {
  /** Seeds to run instead of the file's. */
  seeds?: number[];
  /** Results directory instead of the file's `out`. */
  out?: string;
  /** Keep each seed's node data under `<dataDir>/seed-<N>` (default: a temp dir, removed after the seed). */
  dataDir?: string;
  /** Progress, one line per seed (not part of the results). */
  log?: (line: string) => void;
}

export interface SeedRun {
  seed: number;
  rows: number;
  summary: ExperimentRow;
  /** The seed's JSONL file. */
  file: string;
}

export interface MetricSummary {
  metric: string;
  /** One value per seed, in seed order. */
  values: ExperimentRow[string][];
  /** Over the numeric values (null when there are none). */
  mean: number | null;
  /** Sample standard deviation over the numeric values (null with fewer than two). */
  stdev: number | null;
}

export interface ExperimentResult {
  name: string;
  scenario: string;
  params: unknown;
  seeds: number[];
  out: string;
  runs: SeedRun[];
  metrics: MetricSummary[];
  files: { jsonl: string[]; markdown: string; json: string };
}

/** Run an experiment file (or a parsed spec) over its seeds and write its results. */
export async function runExperiment(file: string | ExperimentSpec, options: RunExperimentOptions = {}): Promise<ExperimentResult> {
  const spec = typeof file === 'string' ? loadExperimentFile(file) : file;
  let scenario: ExperimentScenario<unknown>;
  try {
    scenario = await resolveScenario(spec.scenario);
  } catch (err) {
    throw located(spec, ['scenario'], err);
  }
  let params: unknown;
  try {
    params = scenario.parseParams(spec.params);
  } catch (err) {
    const field = isAgentOsError(err) && err.field !== undefined ? err.field : undefined;
    throw located(spec, field === undefined ? ['params'] : ['params', ...field.split('.')], err);
  }
  const seeds = options.seeds ?? spec.seeds;
  const out = options.out ?? spec.out;
  writing(out, () => mkdirSync(out, { recursive: true }));
  const runs: SeedRun[] = [];
  for (const seed of seeds) {
    const t0 = performance.now();
    const { rows, summary } = await runScenario(scenario, params, seed, options.dataDir === undefined ? {} : { dataDir: join(options.dataDir, `seed-${seed}`) });
    const path = join(out, `${spec.name}.seed-${seed}.jsonl`);
    writing(path, () => writeFileSync(path, rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
    runs.push({ seed, rows: rows.length, summary, file: path });
    options.log?.(`seed ${seed}: ${rows.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${path}`);
  }
  const result: ExperimentResult = {
    name: spec.name,
    scenario: scenario.name,
    params,
    seeds,
    out,
    runs,
    metrics: summarize(runs),
    files: { jsonl: runs.map((r) => r.file), markdown: join(out, 'summary.md'), json: join(out, 'summary.json') },
  };
  writing(result.files.markdown, () => writeFileSync(result.files.markdown, summaryMarkdown(result)));
  writing(result.files.json, () => writeFileSync(result.files.json, `${JSON.stringify(summaryJson(result), null, 2)}\n`));
  return result;
}

/** One seed of a scenario on a fresh node: its rows and its summary. `params` must have passed `parseParams`. */
export async function runScenario<P>(scenario: ExperimentScenario<P>, params: P, seed: number, options: { dataDir?: string } = {}): Promise<{ rows: ExperimentRow[]; summary: ExperimentRow }> {
  const temp = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'agentos-experiment-')) : undefined;
  const clock = new ExperimentClock(0);
  const rows: ExperimentRow[] = [];
  try {
    const node = await createNode({ name: 'experiment', dataDir: options.dataDir ?? temp!, clock, memory: false });
    let summary: ExperimentRow;
    try {
      summary = await scenario.run({
        seed,
        rng: seededRng(seed),
        clock,
        node,
        params,
        record: (row) => void rows.push(checkRow(row, `row ${rows.length + 1}`)),
      });
      checkRow(summary, 'summary');
    } catch (err) {
      if (isAgentOsError(err) && err instanceof ExperimentError) throw new ExperimentError(err.code, `seed ${seed}: ${err.message}`, { ...(err.field === undefined ? {} : { field: err.field }), details: { seed }, cause: err });
      throw new ExperimentError(ExperimentCodes.runFailed, `scenario "${scenario.name}" failed on seed ${seed}: ${isAgentOsError(err) ? `${err.code}: ` : ''}${(err as Error)?.message ?? String(err)}`, { details: { seed }, cause: err });
    } finally {
      await node.stop();
    }
    return { rows, summary };
  } finally {
    if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
  }
}

/** A file-system write, its failure as EXPERIMENT_WRITE naming the path. */
function writing(path: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : (err as Error)?.message;
    throw new ExperimentError(ExperimentCodes.write, `cannot write ${path} (${code})`, { field: 'out', cause: err });
  }
}

/** A row must be flat JSON: strings, finite numbers, booleans, null. */
function checkRow(row: ExperimentRow, what: string): ExperimentRow {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new ExperimentError(ExperimentCodes.badRow, `${what} must be an object of values`, { field: what });
  for (const [key, value] of Object.entries(row)) {
    const ok = value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw new ExperimentError(ExperimentCodes.badRow, `${what}: ${key} must be a string, a finite number, a boolean or null (got ${String(value)})`, { field: key });
  }
  return row;
}

/** Each metric of the seeds' summaries, with mean and sample stdev over its numeric values. */
export function summarize(runs: readonly SeedRun[]): MetricSummary[] {
  const metrics: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.summary)) if (!metrics.includes(k)) metrics.push(k);
  return metrics.map((metric) => {
    const values = runs.map((r) => (metric in r.summary ? r.summary[metric]! : null));
    const xs = values.filter((v): v is number => typeof v === 'number');
    const mean = xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
    const stdev = mean === null || xs.length < 2 ? null : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
    return { metric, values, mean: mean === null ? null : tidy(mean), stdev: stdev === null ? null : tidy(stdev) };
  });
}

/** Up to six decimals, without float noise. */
const tidy = (x: number): number => Math.round(x * 1e6) / 1e6;

const cell = (v: unknown): string => (v === null || v === undefined ? '–' : typeof v === 'number' ? String(Math.round(v * 1e4) / 1e4) : String(v).replace(/\|/g, '\\|'));

/** The results as a Markdown table: one row per metric, one column per seed, then mean and stdev. */
export function summaryMarkdown(result: ExperimentResult): string {
  const head = ['metric', ...result.seeds.map((s) => `seed ${s}`), 'mean', 'stdev'];
  const lines = [
    `# ${result.name}`,
    '',
    `Scenario \`${result.scenario}\`, seeds ${result.seeds.join(', ')}.`,
    '',
    `Params: \`${JSON.stringify(result.params)}\``,
    '',
    `| ${head.join(' | ')} |`,
    `| --- | ${head.slice(1).map(() => '---:').join(' | ')} |`,
    ...result.metrics.map((m) => `| ${[m.metric, ...m.values.map(cell), cell(m.mean), cell(m.stdev)].join(' | ')} |`),
    '',
    `Rows per seed: ${result.runs.map((r) => `${r.file.split(/[\\/]/).pop()} (${r.rows})`).join(', ')}.`,
    '',
  ];
  return lines.join('\n');
}

/** The results as JSON data (what `summary.json` holds and `--json` prints). */
export function summaryJson(result: ExperimentResult) {
  return {
    name: result.name,
    scenario: result.scenario,
    params: result.params,
    seeds: result.seeds,
    metrics: Object.fromEntries(
      result.metrics.map((m) => [m.metric, { values: Object.fromEntries(result.seeds.map((s, i) => [String(s), m.values[i] ?? null])), mean: m.mean, stdev: m.stdev }]),
    ),
    runs: result.runs.map((r) => ({ seed: r.seed, rows: r.rows, file: r.file.split(/[\\/]/).pop() })),
  };
}

/** An error about a field of the experiment file, as `file:line:col: <message>` (the original as its cause). */
function located(spec: ExperimentSpec, path: (string | number)[], err: unknown): unknown {
  if (!isAgentOsError(err)) return err;
  const code = err instanceof ExperimentError ? err.code : ExperimentCodes.invalid;
  return new ExperimentError(code, `${whereIn(spec, path)}: ${err.message}`, { field: path.join('.'), cause: err, details: { source: spec.source } });
}
