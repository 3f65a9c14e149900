// Experiment files (`kind: Experiment`): read defensively with the contract
// loader's YAML intake (size, nesting, alias and duplicate-key limits, no
// prototype keys), checked field by field, every error as `file:line:col: field: why`.
//
//   apiVersion: agentos/v0.2
//   kind: Experiment
//   name: market-100
//   scenario: marketplace          # a built-in, or { module: ./my-scenario.js } (relative to this file)
//   params: { bidders: 100, tasks: 50 }
//   seeds: [1, 2, 3]               # or 1..10, or 7
//   out: results/market-100        # relative to this file

import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { isAgentOsError } from '../../base/errors.js';
import { DEFAULT_LIMITS } from '../../kernel/contract/guard.js';
import { ContractErrorCodes, describeZodIssue, formatIssue, formatPath, fromZodIssues, type IssuePath, type SourcePosition } from '../../kernel/contract/issues.js';
import { parseContractYaml } from '../../kernel/contract/yaml.js';
import { ExperimentCodes, ExperimentError } from './errors.js';

export const EXPERIMENT_API_VERSION = 'agentos/v0.2';
export const EXPERIMENT_KIND = 'Experiment';
/** Experiment files are small: 64 KiB is generous. */
const MAX_BYTES = 64 * 1024;
const LIMITS = { ...DEFAULT_LIMITS, maxBytes: MAX_BYTES };
/** Most seeds one run may take (a range included). */
export const MAX_SEEDS = 10_000;

export type ScenarioRef = { builtin: string } | { module: string };

export interface ExperimentSpec {
  name: string;
  description: string | undefined;
  scenario: ScenarioRef;
  params: Record<string, unknown>;
  seeds: number[];
  /** Results directory, absolute. */
  out: string;
  /** The file as given (`<inline>` for text). */
  source: string;
  /** Line and column of a field path in the file, when known. */
  locate(path: IssuePath): SourcePosition | undefined;
}

const seed = z.number().int().min(0).max(2 ** 32 - 1);
const SEED_RANGE = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/;

const ExperimentSchema = z.strictObject({
  apiVersion: z.literal(EXPERIMENT_API_VERSION),
  kind: z.literal(EXPERIMENT_KIND),
  name: z.string().regex(/^[A-Za-z0-9][\w.-]{0,63}$/, { error: (iss) => `must be 1-64 letters, digits, _ . - starting with a letter or digit (it names the result files; got ${JSON.stringify(iss.input)})` }),
  description: z.string().max(4096).optional(),
  scenario: z.union([z.string().min(1).max(256), z.strictObject({ module: z.string().min(1).max(4096) })]),
  params: z.record(z.string(), z.unknown()).optional(),
  /** A seed, a list of seeds, or a range like 1..10: checked by `seedsOf`, so an error points at the bad item. */
  seeds: z.unknown().optional(),
  out: z.string().min(1).max(4096).optional(),
});

/** Seeds from `7`, `[1, 2]` or `"1..10"` (and the CLI's `--seed` values): distinct, in the order given. */
export function parseSeeds(values: readonly (number | string)[]): number[] {
  const out: number[] = [];
  const bad = (why: string): never => {
    throw new ExperimentError(ExperimentCodes.invalid, `seeds: ${why}`, { field: 'seeds' });
  };
  for (const v of values) {
    const range = typeof v === 'string' ? SEED_RANGE.exec(v) : null;
    const [from, to] = range ? [Number(range[1]), Number(range[2])] : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? [Number(v), Number(v)] : [v as number, v as number];
    if (!seed.safeParse(from).success || !seed.safeParse(to).success) bad(`${JSON.stringify(v)} is not a seed (an integer from 0 to 2^32-1) or a range a..b`);
    if (to < from) bad(`range ${JSON.stringify(v)} runs backwards`);
    if (to - from + 1 + out.length > MAX_SEEDS) bad(`more than ${MAX_SEEDS} seeds`);
    for (let s = from; s <= to; s++) if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) bad('none given');
  return out;
}

/** The file's `seeds` (default [1]); `fail` gets the path of the offending item. */
function seedsOf(value: unknown, fail: (path: IssuePath, message: string) => never): number[] {
  if (value === undefined) return [1];
  const items = Array.isArray(value) ? value : [value];
  const at = (i: number): IssuePath => (Array.isArray(value) ? ['seeds', i] : ['seeds']);
  if (items.length === 0) fail(['seeds'], 'must list at least one seed');
  items.forEach((v, i) => {
    if (typeof v !== 'number' && typeof v !== 'string') fail(at(i), `must be a seed or a range like 1..10 (got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'a mapping' : String(v)})`);
    try {
      parseSeeds([v]);
    } catch (err) {
      fail(at(i), (err as Error).message.replace(/^seeds: /, ''));
    }
  });
  try {
    return parseSeeds(items);
  } catch (err) {
    return fail(['seeds'], (err as Error).message.replace(/^seeds: /, ''));
  }
}

/** Read and check an experiment file. Relative `out` and `scenario.module` resolve against the file's directory. */
export function loadExperimentFile(path: string): ExperimentSpec {
  let bytes: Buffer;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ExperimentError(ExperimentCodes.read, `${path}: is not a regular file`, { field: 'file' });
    if (st.size > MAX_BYTES) throw new ExperimentError(ExperimentCodes.tooLarge, `${path}: is ${st.size} bytes; an experiment file may be at most ${MAX_BYTES}`, { field: 'file' });
    bytes = readFileSync(path);
  } catch (err) {
    if (isAgentOsError(err)) throw err;
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new ExperimentError(ExperimentCodes.read, `${path}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`, { field: 'file', cause: err });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ExperimentError(ExperimentCodes.yaml, `${path}: is not UTF-8 text (binary file?)`, { field: 'file', cause: err });
  }
  return parseExperiment(text, path, dirname(resolve(path)));
}

/** Check experiment YAML `text`; `source` names it in errors, `baseDir` anchors relative paths. */
export function parseExperiment(text: string, source = '<inline>', baseDir = process.cwd()): ExperimentSpec {
  let parsed: ReturnType<typeof parseContractYaml>;
  try {
    parsed = parseContractYaml({ text, source }, LIMITS);
  } catch (err) {
    if (!isAgentOsError(err)) throw err;
    // The contract loader's YAML checks; its codes and wording become the experiment's.
    const code = err.code === ContractErrorCodes.tooLarge ? ExperimentCodes.tooLarge : err.code === ContractErrorCodes.invalid ? ExperimentCodes.invalid : ExperimentCodes.yaml;
    const message = err.message.replace('expected a contract mapping', 'expected an experiment mapping').replace('a contract is exactly one', 'an experiment file is exactly one');
    throw new ExperimentError(code, message, { ...(err.field === undefined ? {} : { field: err.field }), cause: err, ...(err.details ? { details: err.details } : {}) });
  }
  const ctx = { source, locate: parsed.locate };
  const invalid = (issues: { path: IssuePath; message: string }[], code: string = ExperimentCodes.invalid): ExperimentError =>
    new ExperimentError(code, issues.map((i) => formatIssue(i, ctx)).join('\n'), { field: formatPath(issues[0]!.path), details: { source } });
  const data = parsed.data as Record<string, unknown>;
  if (data.kind !== undefined && data.kind !== EXPERIMENT_KIND) throw invalid([{ path: ['kind'], message: `must be ${EXPERIMENT_KIND} (got ${JSON.stringify(data.kind)})` }]);
  const checked = ExperimentSchema.safeParse(data, { error: describeZodIssue });
  if (!checked.success) throw invalid(fromZodIssues(checked.error.issues, (path) => (path.length === 0 ? Object.keys(ExperimentSchema.shape) : [])));
  const e = checked.data;
  const seeds = seedsOf(e.seeds, (path, message) => {
    throw invalid([{ path, message }]);
  });
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    name: e.name,
    description: e.description,
    scenario: typeof e.scenario === 'string' ? { builtin: e.scenario } : { module: at(e.scenario.module) },
    params: e.params ?? {},
    seeds,
    out: at(e.out ?? `results/${e.name}`),
    source,
    locate: parsed.locate,
  };
}

/** `file:line:col: ` for a field of the file (just `file: ` when it has no position). */
export function whereIn(spec: Pick<ExperimentSpec, 'source' | 'locate'>, path: IssuePath): string {
  const pos = spec.locate(path);
  return pos ? `${spec.source}:${pos.line}:${pos.col}` : spec.source;
}
