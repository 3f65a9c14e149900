// An in-test ChildHost: workers are plain records that exit when told to, and
// every start, failed start and stop is logged with the child's path, so tests
// can assert exactly what ran and in which order. Time is a VirtualClock.

import { vi } from 'vitest';
import { VirtualClock } from '../../src/base/clock.js';
import { errorExit } from '../../src/base/exit.js';
import {
  Supervisor,
  supervisor,
  type ChildHandle,
  type ChildHost,
  type ChildSpec,
  type ExitReason,
  type SupervisorInput,
} from '../../src/supervisors/index.js';

export interface FakeWorker {
  id: string;
  path: string;
  incarnation: number;
  args: unknown;
  onExit: (reason: ExitReason) => void;
}

export interface HostEvent {
  type: string;
  data: Record<string, unknown>;
}

export class FakeHost implements ChildHost<string> {
  readonly clock: VirtualClock;
  /** `start <path>`, `fail <path>`, `stop <path>` in the order they happened. */
  readonly log: string[] = [];
  readonly events: HostEvent[] = [];
  /** Live workers by path. */
  readonly workers = new Map<string, FakeWorker>();
  /** Budgets passed to handle.stop, by path. */
  readonly stopBudgets: Array<{ path: string; ms: number | 'infinity' }> = [];
  /** When set, handle.stop waits until `releaseStop(path)` (or forever). */
  holdStops = false;
  private readonly held = new Map<string, () => void>();
  private readonly failures = new Map<string, number>();

  constructor(clock = new VirtualClock()) {
    this.clock = clock;
  }

  now(): number {
    return this.clock.now();
  }

  emit(type: string, data: Record<string, unknown>): void {
    this.events.push({ type, data });
  }

  describe(id: string, context: { parentPath: string; incarnation: number }): Record<string, unknown> {
    return { label: `worker ${id}`, incarnation: context.incarnation };
  }

  /** Optional ChildHost hooks, as `sup+ <path>`, `sup- <path>`, `released <path>`. */
  readonly hooks: string[] = [];

  supervisorStarted(sup: Supervisor<string>, path: string): void {
    this.hooks.push(`sup+ ${path}${sup.path === path ? '' : ' (path mismatch)'}`);
  }

  supervisorStopped(sup: Supervisor<string>): void {
    this.hooks.push(`sup- ${sup.path}`);
  }

  released(id: string, context: { parentPath: string }): void {
    this.hooks.push(`released ${context.parentPath}/${id}`);
  }

  /** The next `n` starts of `path` throw. */
  failNextStarts(path: string, n = 1): void {
    this.failures.set(path, (this.failures.get(path) ?? 0) + n);
  }

  startChild(
    spec: ChildSpec<string>,
    context: { parentPath: string; incarnation: number },
    onExit: (reason: ExitReason) => void,
  ): ChildHandle {
    const path = `${context.parentPath}/${spec.id}`;
    const failing = this.failures.get(path) ?? 0;
    if (failing > 0) {
      this.failures.set(path, failing - 1);
      this.log.push(`fail ${path}`);
      throw new Error(`cannot start ${path}`);
    }
    this.log.push(`start ${path}`);
    const worker: FakeWorker = { id: spec.id, path, incarnation: context.incarnation, args: spec.args, onExit };
    this.workers.set(path, worker);
    return {
      id: spec.id,
      stop: (ms) => {
        this.log.push(`stop ${path}`);
        this.stopBudgets.push({ path, ms });
        if (this.workers.get(path) === worker) this.workers.delete(path);
        if (!this.holdStops) return Promise.resolve();
        return new Promise<void>((resolve) => this.held.set(path, resolve));
      },
    };
  }

  releaseStop(path: string): void {
    const resolve = this.held.get(path);
    if (!resolve) throw new Error(`no held stop for ${path}`);
    this.held.delete(path);
    resolve();
  }

  /** Make a live worker exit on its own. */
  exit(path: string, reason: ExitReason = errorExit(new Error(`${path} crashed`))): FakeWorker {
    const worker = this.workers.get(path);
    if (!worker) throw new Error(`no live worker at ${path}`);
    this.workers.delete(path);
    worker.onExit(reason);
    return worker;
  }

  running(): string[] {
    return [...this.workers.keys()].sort();
  }

  eventsOf(type: string): Array<Record<string, unknown>> {
    return this.events.filter((e) => e.type === type).map((e) => e.data);
  }

  /** The log with `prefix/` removed from paths, and cleared. */
  take(prefix: string): string[] {
    const out = this.log.map((line) => line.replace(` ${prefix}/`, ' '));
    this.log.length = 0;
    return out;
  }
}

/** Let every pending promise reaction run (the fake host never uses timers). */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const workers = (...ids: string[]): ChildSpec<string>[] => ids.map((id) => ({ id, start: `agent:${id}` }));

/** A supervisor over a FakeHost, with a spy for its onExit (escalation). */
export function make(input: SupervisorInput<string>, host = new FakeHost()) {
  const onExit = vi.fn<(reason: ExitReason) => void>();
  const sup = new Supervisor(supervisor(input), host, { clock: host.clock, onExit });
  return { host, sup, onExit };
}
