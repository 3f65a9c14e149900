// The HRT task model shared by every schedulability test: validation, defaults and the
// figures (utilisation, density) the tests start from. Times are milliseconds as reals;
// comparisons allow a 1e-9 ms tolerance so float sums like 0.1 + 0.2 do not flip a verdict.

import { ContractError } from '../../base/errors.js';

/** Malformed HRT timing (non-positive period, negative jitter, duplicate id, …). */
export const INVALID_HRT_TASK = 'INVALID_HRT_TASK';

/**
 * One periodic (or sporadic, with `periodMs` the minimum inter-arrival time) HRT task.
 * `deadlineMs` is relative to the nominal arrival and defaults to the period;
 * `jitterMs` is the release jitter: a job arriving at `a` may be released as late as `a + J`
 * but must still finish by `a + D`.
 */
export interface HrtTask {
  id: string;
  periodMs: number;
  wcetMs: number;
  deadlineMs?: number;
  jitterMs?: number;
}

/** A validated task with its defaults filled in. */
export type NormalTask = Required<HrtTask>;

export type HrtPolicy = 'edf' | 'rm';

/** Which test decided a verdict. */
export type HrtTestName = 'utilisation' | 'density' | 'processor-demand' | 'liu-layland' | 'response-time';

/** Worst-case response time of one task under fixed priorities (see `responseTimes`). */
export interface ResponseTime {
  id: string;
  /** 0 is the highest priority. */
  priority: number;
  /**
   * R = J + w at the fixed point when it converged within the deadline; otherwise the first
   * iterate past the deadline, which is a lower bound on the true response time.
   */
  responseMs: number;
  /** The deadline analysed: min(D, T) (a deadline beyond the period is analysed as the period). */
  deadlineMs: number;
  schedulable: boolean;
  iterations: number;
}

/** The outcome of a schedulability test, with the figures that decided it. */
export interface HrtVerdict {
  policy: HrtPolicy;
  schedulable: boolean;
  /** The test that decided the verdict. */
  test: HrtTestName;
  /** Whether that test is necessary and sufficient for this task set (false: sufficient only). */
  exact: boolean;
  tasks: number;
  /** Σ C/T. */
  utilisation: number;
  /** Σ C / min(D − J, T). */
  density: number;
  /** Utilisation bound of the policy: 1 for EDF, n(2^{1/n} − 1) for RM. */
  bound: number;
  /** EDF processor-demand failure: demand of jobs with deadlines in [0, atMs] exceeds atMs. */
  demand?: { atMs: number; demandMs: number };
  /** RM: response times in priority order (present when the response-time analysis ran). */
  responseTimes?: ResponseTime[];
  /** The task whose deadline is shown to be missed, when the test can name one. */
  failingTask?: string;
  /** One line a human can act on. */
  reason: string;
}

export const EPS = 1e-9;

/** a ≤ b within tolerance. */
export function leq(a: number, b: number): boolean {
  return a <= b + EPS * Math.max(1, Math.abs(b));
}

function positive(value: unknown, field: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    const want = allowZero ? 'a finite number ≥ 0' : 'a finite number > 0';
    throw new ContractError(INVALID_HRT_TASK, `${field} must be ${want}, got ${String(value)}`, { field });
  }
  return value;
}

/** Validate one task and fill in its defaults; `path` prefixes field names in errors. */
export function normaliseTask(task: HrtTask, path = 'task'): NormalTask {
  if (typeof task?.id !== 'string' || task.id.length === 0) {
    throw new ContractError(INVALID_HRT_TASK, `${path}.id must be a non-empty string`, { field: `${path}.id` });
  }
  const periodMs = positive(task.periodMs, `${path}.periodMs`);
  const wcetMs = positive(task.wcetMs, `${path}.wcetMs`);
  const deadlineMs = task.deadlineMs === undefined ? periodMs : positive(task.deadlineMs, `${path}.deadlineMs`);
  const jitterMs = task.jitterMs === undefined ? 0 : positive(task.jitterMs, `${path}.jitterMs`, true);
  return { id: task.id, periodMs, wcetMs, deadlineMs, jitterMs };
}

/** Validate a task set (ids must be unique). */
export function normaliseTasks(tasks: readonly HrtTask[]): NormalTask[] {
  const seen = new Set<string>();
  return tasks.map((task, i) => {
    const t = normaliseTask(task, `tasks[${i}]`);
    if (seen.has(t.id)) {
      throw new ContractError(INVALID_HRT_TASK, `tasks[${i}].id "${t.id}" is not unique`, { field: `tasks[${i}].id` });
    }
    seen.add(t.id);
    return t;
  });
}

/** Σ C/T. */
export function utilisation(tasks: readonly HrtTask[]): number {
  return normaliseTasks(tasks).reduce((sum, t) => sum + t.wcetMs / t.periodMs, 0);
}

/** Σ C / min(D − J, T); Infinity when some task's jitter leaves it no time (J ≥ D). */
export function density(tasks: readonly HrtTask[]): number {
  return normaliseTasks(tasks).reduce((sum, t) => {
    const window = Math.min(t.deadlineMs - t.jitterMs, t.periodMs);
    return sum + (window > 0 ? t.wcetMs / window : Infinity);
  }, 0);
}

/** Liu & Layland's RM utilisation bound n(2^{1/n} − 1): 1 for n ≤ 1, ln 2 as n → ∞. */
export function liuLaylandBound(n: number): number {
  if (n === Infinity) return Math.LN2;
  if (!Number.isInteger(n) || n < 0) {
    throw new ContractError(INVALID_HRT_TASK, `liuLaylandBound: n must be a whole number ≥ 0, got ${n}`, { field: 'n' });
  }
  if (n <= 1) return 1;
  return n * (Math.pow(2, 1 / n) - 1);
}

/** Milliseconds for messages: up to 3 decimals, no trailing zeros. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return `${Number(value.toFixed(3))} ms`;
}

/** A ratio for messages, two decimals. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : String(value);
}
