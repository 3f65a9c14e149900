// Partitioned EDF across HRT lanes: each lane is one uniprocessor running EDF, and a task is
// placed on the first lane whose set still passes the lane test (first fit; a whole set is
// placed in decreasing utilisation order). A refusal names every lane's utilisation with the task.

import { AgentOsError, ContractError, ErrorCodes } from '../../base/errors.js';
import { edfTest } from './edf.js';
import { nonPreemptiveEdfTest, type LaneVerdict } from './nonPreemptive.js';
import { INVALID_HRT_TASK, leq, normaliseTask, normaliseTasks, ratio, type HrtTask } from './task.js';

export interface LaneTestOptions {
  /**
   * Analyse lanes as preemptive EDF (edf.ts alone). Default false: the lane's dispatcher runs
   * each job to completion, so blocking by a running job is analysed too.
   */
  preemptive?: boolean;
}

/** The schedulability test of one lane's task set. */
export function laneTest(tasks: readonly HrtTask[], options: LaneTestOptions = {}): LaneVerdict {
  if (!options.preemptive) return nonPreemptiveEdfTest(tasks);
  const edf = edfTest(tasks);
  return { schedulable: edf.schedulable, utilisation: edf.utilisation, nonPreemptive: false, edf, reason: edf.reason };
}

/** The figures of one lane with the new task added. */
export interface LaneCheck {
  lane: number;
  /** Σ C/T of the lane before the task. */
  before: number;
  /** C/T of the task. */
  added: number;
  after: number;
  schedulable: boolean;
  /** 'lane 0: 0.95 + 0.20 = 1.15 > 1.00', or '… ≤ 1.00 but <why>'. */
  line: string;
  verdict: LaneVerdict;
}

export type LanePlacement =
  /** `checks` holds the lanes tried, the chosen one last. */
  | { placed: true; lane: number; utilisation: number; checks: LaneCheck[] }
  | { placed: false; message: string; checks: LaneCheck[] };

export type PartitionResult<T extends HrtTask> =
  | { ok: true; lanes: T[][]; utilisation: number[] }
  /** Tasks that fit are placed; each that fits no lane is listed with its refusal. */
  | { ok: false; lanes: T[][]; utilisation: number[]; unplaced: { task: T; message: string; checks: LaneCheck[] }[]; message: string };

function taskUtilisation(task: HrtTask): number {
  return task.wcetMs / task.periodMs;
}

function checkLanes(lanes: unknown): void {
  if (!Array.isArray(lanes) || lanes.length < 1) {
    throw new AgentOsError(ErrorCodes.invalidOptions, `lanes must hold at least one lane's task set, got ${Array.isArray(lanes) ? 'none' : String(lanes)}`, { field: 'lanes' });
  }
}

function check(lane: number, existing: readonly HrtTask[], task: HrtTask, options: LaneTestOptions): LaneCheck {
  const before = existing.reduce((sum, t) => sum + taskUtilisation(t), 0);
  const added = taskUtilisation(task);
  const verdict = laneTest([...existing, task], options);
  const after = verdict.utilisation;
  const sum = `lane ${lane}: ${ratio(before)} + ${ratio(added)} = ${ratio(after)}`;
  const line = !leq(after, 1)
    ? `${sum} > 1.00`
    : `${sum} ≤ 1.00${verdict.schedulable ? '' : ` but ${verdict.reason}`}`;
  return { lane, before, added, after, schedulable: verdict.schedulable, line, verdict };
}

/**
 * First fit: the lowest-numbered lane whose set with `task` passes the lane test.
 * `existing[i]` is lane i's current task set (at least one lane). Throws INVALID_HRT_TASK on
 * malformed timing or an id already placed; a task that fits nowhere is a refusal, not a throw.
 */
export function placeOnLane(existing: readonly (readonly HrtTask[])[], task: HrtTask, options: LaneTestOptions = {}): LanePlacement {
  checkLanes(existing);
  const normal = normaliseTask(task, 'task');
  existing.forEach((lane, i) => {
    if (lane.some((t) => t.id === normal.id)) {
      throw new ContractError(INVALID_HRT_TASK, `task.id "${normal.id}" is already placed on lane ${i}`, { field: 'task.id' });
    }
  });
  const checks: LaneCheck[] = [];
  for (let i = 0; i < existing.length; i++) {
    const c = check(i, existing[i], normal, options);
    checks.push(c);
    if (c.schedulable) return { placed: true, lane: i, utilisation: c.after, checks };
  }
  const message = `HRT task "${normal.id}" (utilisation ${ratio(taskUtilisation(normal))}) fits no lane: ${checks.map((c) => c.line).join('; ')}`;
  return { placed: false, message, checks };
}

/**
 * First-fit decreasing: tasks in decreasing utilisation (ties by id), each on the first lane
 * where it fits. Deterministic; every lane of an accepted partition passes `laneTest`.
 */
export function partition<T extends HrtTask>(tasks: readonly T[], lanes: number, options: LaneTestOptions = {}): PartitionResult<T> {
  if (!Number.isInteger(lanes) || lanes < 1) {
    throw new AgentOsError(ErrorCodes.invalidOptions, `lanes must be a whole number ≥ 1, got ${String(lanes)}`, { field: 'lanes' });
  }
  normaliseTasks(tasks);
  const order = [...tasks].sort((a, b) => taskUtilisation(b) - taskUtilisation(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const placed: T[][] = Array.from({ length: lanes }, () => []);
  const utilisation: number[] = placed.map(() => 0);
  const unplaced: { task: T; message: string; checks: LaneCheck[] }[] = [];
  for (const task of order) {
    const p = placeOnLane(placed, task, options);
    if (p.placed) {
      placed[p.lane].push(task);
      utilisation[p.lane] = p.utilisation;
    } else {
      unplaced.push({ task, message: p.message, checks: p.checks });
    }
  }
  if (unplaced.length === 0) return { ok: true, lanes: placed, utilisation };
  return { ok: false, lanes: placed, utilisation, unplaced, message: unplaced.map((u) => u.message).join('\n') };
}
