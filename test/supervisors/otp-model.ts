// An independent, synchronous model of OTP supervisor semantics (supervisor.erl:
// do_restart, add_restart, restart/3, terminate_children, try_again_restart), used
// as the oracle for property tests. It shares no code with src/supervisors.

import type { RestartType, Strategy } from '../../src/supervisors/index.js';

export type ReasonName = 'normal' | 'shutdown' | 'error';

interface ModelChild {
  id: string;
  restart: RestartType;
  running: boolean;
  /** OTP's {restarting, Pid}: a start failed during a restart and a retry is queued. */
  restarting: boolean;
}

export class OtpModel {
  children: ModelChild[];
  /** Newest first, as OTP keeps it. */
  history: number[] = [];
  restarts = 0;
  escalated = false;
  readonly log: string[] = [];
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly path: string,
    private readonly strategy: Strategy,
    private readonly intensity: number,
    private readonly periodMs: number,
    children: Array<{ id: string; restart: RestartType }>,
  ) {
    this.children = children.map((c) => ({ ...c, running: false, restarting: false }));
  }

  startAll(): void {
    for (const c of this.children) if (!this.attempt(c)) throw new Error('model: init failures are not modelled');
  }

  failNextStarts(id: string, n: number): void {
    this.failures.set(id, (this.failures.get(id) ?? 0) + n);
  }

  status(): Array<[string, string]> {
    return this.children.map((c) => [c.id, c.running ? 'running' : c.restarting ? 'restarting' : 'stopped']);
  }

  runningPaths(): string[] {
    return this.children.filter((c) => c.running).map((c) => `${this.path}/${c.id}`).sort();
  }

  /** A child exits on its own at time `now`; any retries run before this returns. */
  exit(id: string, reason: ReasonName, now: number): void {
    const child = this.children.find((c) => c.id === id);
    if (this.escalated || !child || !child.running) return;
    child.running = false;
    const again = child.restart === 'permanent' || (child.restart === 'transient' && reason === 'error');
    if (!again) {
      if (child.restart === 'temporary' || this.strategy === 'simple_one_for_one') this.drop(child);
      return;
    }
    let next: ModelChild | undefined = child;
    while (next && !this.escalated) {
      const failed = this.restart(next, now);
      next = failed && failed.restarting ? failed : undefined;
    }
  }

  /** OTP restart/2; returns the child whose start failed (a try_again is due), if any. */
  private restart(child: ModelChild, now: number): ModelChild | undefined {
    const kept: number[] = [];
    for (const r of this.history) {
      if (r < now - this.periodMs) break;
      kept.push(r);
    }
    this.history = [now, ...kept];
    if (this.history.length > this.intensity) {
      for (const c of [...this.children].reverse()) this.stop(c);
      for (const c of this.children) c.restarting = false;
      this.escalated = true;
      return undefined;
    }
    this.restarts += 1;
    let group: ModelChild[] = [child];
    if (this.strategy === 'one_for_all' || this.strategy === 'rest_for_one') {
      const from = this.strategy === 'one_for_all' ? 0 : this.children.indexOf(child);
      const affected = this.children.slice(from);
      for (const c of [...affected].reverse()) {
        if (c === child) continue;
        this.stop(c);
        if (c.restart === 'temporary') this.drop(c);
      }
      group = affected.filter((c) => this.children.includes(c));
    }
    for (const c of group) {
      if (!this.attempt(c)) {
        c.restarting = true;
        return c;
      }
    }
    return undefined;
  }

  private attempt(c: ModelChild): boolean {
    const failing = this.failures.get(c.id) ?? 0;
    if (failing > 0) {
      this.failures.set(c.id, failing - 1);
      this.log.push(`fail ${this.path}/${c.id}`);
      c.running = false;
      return false;
    }
    this.log.push(`start ${this.path}/${c.id}`);
    c.running = true;
    c.restarting = false;
    return true;
  }

  private stop(c: ModelChild): void {
    if (c.running) this.log.push(`stop ${this.path}/${c.id}`);
    c.running = false;
    c.restarting = false;
  }

  private drop(c: ModelChild): void {
    this.children = this.children.filter((x) => x !== c);
  }
}
