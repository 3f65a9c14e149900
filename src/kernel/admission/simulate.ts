// A small, pure, preemptive uniprocessor scheduler simulation on a virtual time line, used to
// check the analytical tests: periodic jobs released at k·T (+ an optional per-job delay for
// release jitter), each running its full WCET, scheduled by EDF or by fixed priority.

import { normaliseTasks, type HrtTask, type NormalTask } from './task.js';

export interface SimulationOptions {
  /** `edf`: earliest absolute deadline first; `fp`: fixed priority, the first task in `tasks` highest. */
  policy: 'edf' | 'fp';
  /**
   * Jobs whose nominal arrival is before this time are released; every released job then runs
   * to completion. A miss found is a real miss (jobs after the horizon could only delay it further).
   */
  horizonMs: number;
  /** Release delay of job `job` of task `task` (index into `tasks`), in [0, J]; default 0 (synchronous release). */
  releaseDelay?: (task: number, job: number) => number;
}

export interface DeadlineMiss {
  id: string;
  job: number;
  releaseMs: number;
  deadlineMs: number;
  finishMs: number;
}

export interface SimulationResult {
  misses: DeadlineMiss[];
  jobs: number;
  /** Largest observed response time (finish − nominal arrival) per task id. */
  maxResponseMs: Record<string, number>;
  busyMs: number;
}

interface Job {
  task: number;
  job: number;
  arrival: number;
  release: number;
  deadline: number;
  remaining: number;
}

function before(policy: 'edf' | 'fp', a: Job, b: Job): boolean {
  if (policy === 'edf' && a.deadline !== b.deadline) return a.deadline < b.deadline;
  if (a.task !== b.task) return a.task < b.task;
  return a.job < b.job;
}

/** Simulate `tasks` from time 0 to `horizonMs`. Pure: same input, same result. */
export function simulate(tasks: readonly HrtTask[], options: SimulationOptions): SimulationResult {
  const ts: NormalTask[] = normaliseTasks(tasks);
  const delay = options.releaseDelay ?? (() => 0);
  const horizon = options.horizonMs;
  const nextJob = ts.map(() => 0);
  const lastRelease = ts.map(() => -Infinity);
  const nextRelease = ts.map((_, i) => Math.max(0, delay(i, 0)));
  const ready: Job[] = [];
  const misses: DeadlineMiss[] = [];
  const maxResponseMs: Record<string, number> = Object.fromEntries(ts.map((t) => [t.id, 0]));
  let jobs = 0;
  let busyMs = 0;
  let now = 0;

  const releaseDue = (): void => {
    for (let i = 0; i < ts.length; i++) {
      for (;;) {
        const k = nextJob[i];
        const arrival = k * ts[i].periodMs;
        if (arrival >= horizon || nextRelease[i] > now) break;
        const release = nextRelease[i];
        ready.push({ task: i, job: k, arrival, release, deadline: arrival + ts[i].deadlineMs, remaining: ts[i].wcetMs });
        jobs++;
        lastRelease[i] = release;
        nextJob[i] = k + 1;
        // A task's jobs are released in order: never before its predecessor.
        nextRelease[i] = Math.max(lastRelease[i], (k + 1) * ts[i].periodMs + Math.max(0, delay(i, k + 1)));
      }
    }
  };
  const upcoming = (): number => {
    let t = Infinity;
    for (let i = 0; i < ts.length; i++) if (nextJob[i] * ts[i].periodMs < horizon) t = Math.min(t, nextRelease[i]);
    return t;
  };

  for (;;) {
    releaseDue();
    const next = upcoming();
    if (ready.length === 0) {
      if (next === Infinity) break;
      now = next;
      continue;
    }
    let pick = 0;
    for (let j = 1; j < ready.length; j++) if (before(options.policy, ready[j], ready[pick])) pick = j;
    const job = ready[pick];
    const run = Math.min(job.remaining, next - now);
    job.remaining -= run;
    busyMs += run;
    now += run;
    if (job.remaining <= 0) {
      ready.splice(pick, 1);
      const id = ts[job.task].id;
      maxResponseMs[id] = Math.max(maxResponseMs[id], now - job.arrival);
      if (now > job.deadline) {
        misses.push({ id, job: job.job, releaseMs: job.release, deadlineMs: job.deadline, finishMs: now });
      }
    }
  }
  misses.sort((a, b) => a.deadlineMs - b.deadlineMs || a.id.localeCompare(b.id));
  return { misses, jobs, maxResponseMs, busyMs };
}
