// The engine's books: runs by outcome, steps completed, and HITL latency (how long
// approval gates waited for a person), reported as p50/p95 over a bounded window.

import type { RunStatus } from './records.js';

const WINDOW = 1024;

export interface WorkflowStatsView {
  active: number;
  runs: Partial<Record<RunStatus, number>>;
  stepsCompleted: number;
  hitl: { decided: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
}

export class WorkflowStats {
  private readonly runs: Partial<Record<RunStatus, number>> = {};
  private steps = 0;
  private decided = 0;
  private readonly waits: number[] = [];

  run(status: RunStatus): void {
    this.runs[status] = (this.runs[status] ?? 0) + 1;
  }

  step(): void {
    this.steps++;
  }

  hitl(ms: number): void {
    this.decided++;
    this.waits.push(ms);
    if (this.waits.length > WINDOW) this.waits.shift();
  }

  view(active: number): WorkflowStatsView {
    const sorted = [...this.waits].sort((a, b) => a - b);
    const at = (q: number): number | null => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    return {
      active,
      runs: { ...this.runs },
      stepsCompleted: this.steps,
      hitl: { decided: this.decided, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: sorted.length === 0 ? null : sorted[sorted.length - 1]! },
    };
  }
}
