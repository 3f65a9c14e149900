// A running OTP-style supervisor: starts children in spec order, restarts them per
// its strategy while within the restart intensity, escalates to its parent past it,
// and always stops children in reverse start order. Operations run one at a time.

import type { Clock } from '../base/clock.js';
import { ActorError, ErrorCodes } from '../base/errors.js';
import { planRestart, recordRestart, shouldRestart } from './restart.js';
import { childInfo, childNode, newRecord, type ChildRecord } from './children.js';
import { shutdownBudget, stopWithin, type ShutdownBudget } from './shutdown.js';
import { fromTemplate, isSupervisorSpec, normalizeChild, supervisor, type NormalizedChildSpec, type SupervisorInput } from './spec.js';
import {
  MAX_RESTART_INTENSITY,
  type ChildHandle,
  type ChildHost,
  type ChildInfo,
  type ChildSpec,
  type DynamicChildArgs,
  type ExitReason,
  type SupervisorSpec,
  type TreeNode,
} from './types.js';

export interface SupervisorOptions {
  /** Drives shutdown timers; use the node's clock (a VirtualClock in tests). */
  clock: Clock;
  /** Path of the parent supervisor; this supervisor's path is `${parentPath}/${id}` (just `id` without one). */
  parentPath?: string;
  /** This supervisor's own path, overriding the above (a node's invisible root uses ''). */
  path?: string;
  /** Called once if this supervisor gives up (restart intensity exceeded); never after `stop()`. */
  onExit?: (reason: ExitReason) => void;
  /** How long past a child's shutdown budget to wait for `handle.stop` before giving up on it (default 1000). */
  stopGraceMs?: number;
}

export type SupervisorState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * OTP semantics, with these choices spelled out:
 * - a temporary child that exits is forgotten; so is any dynamic (simple_one_for_one)
 *   child that is not restarted; a static transient child that exits normally is kept
 *   as 'stopped', and (as OTP's start_children does) a later one_for_all / rest_for_one
 *   restart of its group starts it again; temporary siblings in such a group are dropped;
 * - a restart whose start fails is retried after exits already queued, and each retry
 *   counts against the intensity; escalation reports `reached_max_restart_intensity`
 *   as an error exit, so a parent restarts even a transient nested supervisor.
 */
export class Supervisor<S = unknown> implements ChildHandle {
  readonly id: string;
  readonly path: string;
  readonly spec: SupervisorSpec<S>;
  private readonly host: ChildHost<S>;
  private readonly opts: SupervisorOptions;
  private children: ChildRecord<S>[] = [];
  /** Index of `children` by id: lookups stay O(1) under thousands of dynamic children. */
  private readonly byId = new Map<string, ChildRecord<S>>();
  private history: number[] = [];
  private restarts = 0;
  private phase: SupervisorState = 'new';
  private stopRequested = false;
  private stopping: Promise<void> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private dynamicSeq = 0;

  /** `spec` is normalized (and validated) here, so a raw SupervisorInput is fine too. */
  constructor(spec: SupervisorSpec<S> | SupervisorInput<S>, host: ChildHost<S>, opts: SupervisorOptions) {
    this.spec = supervisor(spec);
    this.id = this.spec.id;
    this.path = opts.path ?? (opts.parentPath === undefined ? this.id : `${opts.parentPath}/${this.id}`);
    this.host = host;
    this.opts = opts;
  }

  /** Restarts performed (each counts against the intensity), since start. */
  get restartCount(): number {
    return this.restarts;
  }

  /** Restart times still in the intensity window, oldest first. */
  get restartHistory(): readonly number[] {
    return this.history;
  }

  get state(): SupervisorState {
    return this.phase;
  }

  /**
   * Start the children in spec order (none for simple_one_for_one). If one fails
   * to start, those already started are stopped in reverse order and the start
   * rejects with that child's error.
   */
  start(): Promise<void> {
    if (this.phase !== 'new') {
      return Promise.reject(this.usageError(ErrorCodes.invalidOptions, `cannot start: it is ${this.phase}`));
    }
    this.phase = 'starting';
    return this.enqueue(() => this.init());
  }

  /** Stop every child in reverse start order within `timeoutMs` overall, then resolve. Never calls onExit. */
  stop(timeoutMs: number | 'infinity' = 'infinity'): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopRequested = true;
    const deadline = timeoutMs === 'infinity' ? Infinity : this.opts.clock.now() + timeoutMs;
    this.stopping = this.enqueue(async () => {
      if (this.phase !== 'stopped') {
        this.phase = 'stopping';
        await this.stopAll(deadline);
      }
      this.phase = 'stopped';
    });
    return this.stopping;
  }

  /**
   * Add and start a child; resolves with its id. For simple_one_for_one pass
   * `{ id?, args? }` to instantiate the template; otherwise a full ChildSpec.
   */
  startChild(input: ChildSpec<S> | DynamicChildArgs = {}): Promise<string> {
    return this.enqueue(async () => {
      this.assertRunning('startChild');
      const where = `supervisor "${this.path}"`;
      const taken = (id: string): boolean => this.find(id) !== undefined;
      const spec = this.isSimple()
        ? fromTemplate(this.spec, input as DynamicChildArgs, taken, () => `${this.id}-${++this.dynamicSeq}`)
        : normalizeChild<S>(input, where, 'startChild(spec)');
      if (taken(spec.id)) throw this.usageError(ErrorCodes.duplicateActor, `already has a child "${spec.id}"`);
      const rec = this.add(spec);
      try {
        await this.startRecord(rec);
      } catch (error) {
        this.remove(rec);
        throw error;
      }
      return spec.id;
    });
  }

  /** Stop a child. Its spec is kept (status 'stopped') unless it is temporary or dynamic. */
  terminateChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertRunning('terminateChild');
      const rec = this.mustFind(id);
      await this.stopRecord(rec, rec.spec.shutdownMs);
      rec.status = 'stopped';
      if (rec.spec.restart === 'temporary' || this.isSimple()) this.remove(rec);
    });
  }

  /** Start again a kept child that is not running (OTP restart_child). Not counted as a restart. */
  restartChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertRunning('restartChild');
      this.assertNotSimple('restartChild');
      const rec = this.mustFind(id);
      if (rec.status !== 'stopped') throw this.usageError(ErrorCodes.invalidOptions, `child "${id}" is ${rec.status}`);
      await this.startRecord(rec);
    });
  }

  /** Forget a kept child that is not running (OTP delete_child). */
  deleteChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertNotSimple('deleteChild');
      const rec = this.mustFind(id);
      if (rec.status !== 'stopped') {
        throw this.usageError(ErrorCodes.invalidOptions, `cannot delete child "${id}" while it is ${rec.status}`);
      }
      this.remove(rec);
    });
  }

  whichChildren(): ChildInfo[] {
    return this.children.map(childInfo);
  }

  /** The live subtree. `restarts` on this node is 0; the parent overrides it with its own count. */
  tree(): TreeNode {
    const restarting = this.children.some((c) => c.status === 'restarting');
    const status = this.phase === 'running' || this.phase === 'starting' ? (restarting ? 'restarting' : 'running') : 'stopped';
    return {
      id: this.id,
      kind: 'supervisor',
      path: this.path,
      strategy: this.spec.strategy,
      restarts: 0,
      status,
      children: this.children.map((c) => childNode(c, this.path, this.host)),
      info: { restartCount: this.restarts, intensity: this.spec.intensity, periodMs: this.spec.periodMs },
    };
  }

  // ---- operations (each runs alone, in arrival order) ----

  private async init(): Promise<void> {
    const specs = this.isSimple() ? [] : (this.spec.children as NormalizedChildSpec<S>[]);
    for (const spec of specs) {
      if (this.stopRequested) break;
      const rec = this.add(spec);
      try {
        await this.startRecord(rec);
      } catch (error) {
        this.emit('@agentos.supervisor.start_failed', { supervisor: this.id, path: this.path, child: spec.id, error });
        this.phase = 'stopping';
        await this.stopAll(Infinity);
        this.phase = 'stopped';
        throw error;
      }
    }
    this.phase = 'running';
  }

  private childExited(rec: ChildRecord<S>, token: object, reason: ExitReason): void {
    if (rec.token !== token) return;
    this.enqueue(async () => {
      if (!this.active() || rec.token !== token || rec.status !== 'running') return;
      this.detach(rec);
      rec.status = 'stopped';
      if (shouldRestart(rec.spec.restart, reason)) {
        await this.restartFrom(rec, reason);
      } else if (rec.spec.restart === 'temporary' || this.isSimple()) {
        this.remove(rec);
      }
    }).catch((error: unknown) => this.emit('@agentos.supervisor.internal_error', { supervisor: this.id, path: this.path, error }));
  }

  /** One restart (OTP restart/2): count it, then stop and start the strategy's group. */
  private async restartFrom(failed: ChildRecord<S>, reason: ExitReason): Promise<void> {
    const { history, exceeded } = recordRestart(this.history, this.host.now(), this.spec.intensity, this.spec.periodMs);
    this.history = history;
    if (exceeded) return this.escalate(failed, reason);
    this.restarts += 1;
    const plan = planRestart(this.spec.strategy, this.children.map((c) => c.spec.id), failed.spec.id);
    for (const id of plan.start) {
      const c = this.find(id);
      if (c) c.status = 'restarting';
    }
    for (const id of plan.stop) {
      const c = this.find(id);
      if (!c) continue;
      await this.stopRecord(c, c.spec.shutdownMs);
      // OTP drops temporary siblings instead of restarting them.
      if (c.spec.restart === 'temporary') this.remove(c);
    }
    const group = plan.start.map((id) => this.find(id)).filter((c): c is ChildRecord<S> => c !== undefined);
    for (const [i, c] of group.entries()) {
      if (this.stopRequested) break;
      try {
        await this.startRecord(c);
      } catch (error) {
        // OTP try_again_restart: retry later (after exits already queued), counting as another restart.
        c.status = 'restarting';
        for (const rest of group.slice(i + 1)) rest.status = 'stopped';
        this.emit('@agentos.supervisor.start_failed', { supervisor: this.id, path: this.path, child: c.spec.id, error, incarnation: c.incarnation });
        this.enqueue(() => this.retry(c, reason)).catch((e: unknown) =>
          this.emit('@agentos.supervisor.internal_error', { supervisor: this.id, path: this.path, error: e }),
        );
        return;
      }
      c.restarts += 1;
      this.emit('@agentos.supervisor.restart', {
        supervisor: this.id,
        path: this.path,
        child: c.spec.id,
        reason,
        incarnation: c.incarnation,
        trigger: failed.spec.id,
      });
    }
  }

  private async retry(c: ChildRecord<S>, reason: ExitReason): Promise<void> {
    if (!this.active() || this.byId.get(c.spec.id) !== c || c.status !== 'restarting') return;
    await this.restartFrom(c, reason);
  }

  private async escalate(failed: ChildRecord<S>, reason: ExitReason): Promise<void> {
    if (this.stopRequested) return; // a requested stop is already queued and wins
    failed.status = 'stopped';
    this.phase = 'stopping';
    await this.stopAll(Infinity);
    this.phase = 'stopped';
    this.emit('@agentos.supervisor.escalated', {
      supervisor: this.id,
      path: this.path,
      child: failed.spec.id,
      reason,
      intensity: this.spec.intensity,
      periodMs: this.spec.periodMs,
    });
    this.opts.onExit?.({ kind: 'error', error: MAX_RESTART_INTENSITY });
  }

  // ---- starting and stopping one child ----

  private async startRecord(rec: ChildRecord<S>): Promise<void> {
    rec.incarnation += 1;
    const incarnation = rec.incarnation;
    const token = {};
    rec.token = token;
    const onExit = (reason: ExitReason): void => this.childExited(rec, token, reason);
    try {
      if (isSupervisorSpec<S>(rec.spec.start)) {
        const { clock, stopGraceMs } = this.opts;
        const nested = new Supervisor<S>(rec.spec.start, this.host, { clock, stopGraceMs, parentPath: this.path, onExit });
        await nested.start();
        rec.nested = nested;
        rec.handle = nested;
        this.host.supervisorStarted?.(nested, nested.path);
      } else {
        rec.nested = undefined;
        rec.handle = await this.host.startChild(rec.spec, { parentPath: this.path, incarnation }, onExit);
      }
    } catch (error) {
      rec.token = undefined;
      rec.status = 'stopped';
      throw error;
    }
    rec.status = 'running';
  }

  /** Stop a child's live incarnation (if any); its later exit reports are ignored. Leaves `status` to the caller. */
  private async stopRecord(rec: ChildRecord<S>, budget: ShutdownBudget): Promise<void> {
    const handle = rec.handle;
    rec.token = undefined;
    if (handle) await this.awaitStop(rec.spec.id, handle, budget);
    this.detach(rec);
  }

  /** Forget the live incarnation (already stopped or exited), telling the host about a nested supervisor. */
  private detach(rec: ChildRecord<S>): void {
    const nested = rec.nested;
    rec.token = undefined;
    rec.handle = undefined;
    rec.nested = undefined;
    if (nested) this.host.supervisorStopped?.(nested as Supervisor<S>);
  }

  private async stopAll(deadline: number): Promise<void> {
    for (const c of [...this.children].reverse()) {
      await this.stopRecord(c, shutdownBudget(c.spec.shutdownMs, deadline, this.opts.clock.now()));
      c.status = 'stopped';
      this.release(c);
    }
  }

  private async awaitStop(child: string, handle: ChildHandle, budget: ShutdownBudget): Promise<void> {
    const { outcome, error } = await stopWithin(handle, budget, this.opts.clock, this.opts.stopGraceMs ?? 1000);
    if (outcome === 'failed') this.emit('@agentos.supervisor.shutdown_error', { supervisor: this.id, path: this.path, child, error });
    if (outcome === 'timeout') {
      this.emit('@agentos.supervisor.shutdown_timeout', { supervisor: this.id, path: this.path, child, shutdownMs: budget });
    }
  }

  // ---- helpers ----

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private active(): boolean {
    return this.phase === 'running' && !this.stopRequested;
  }

  private isSimple(): boolean {
    return this.spec.strategy === 'simple_one_for_one';
  }

  /** A new child record at the end of the start order, indexed by id. */
  private add(spec: NormalizedChildSpec<S>): ChildRecord<S> {
    const rec = newRecord(spec);
    this.children.push(rec);
    this.byId.set(spec.id, rec);
    return rec;
  }

  private find(id: string): ChildRecord<S> | undefined {
    return this.byId.get(id);
  }

  private mustFind(id: string): ChildRecord<S> {
    const rec = this.find(id);
    if (!rec) throw this.usageError(ErrorCodes.unknownActor, `has no child "${id}"`);
    return rec;
  }

  private remove(rec: ChildRecord<S>): void {
    this.children = this.children.filter((c) => c !== rec);
    if (this.byId.get(rec.spec.id) === rec) this.byId.delete(rec.spec.id);
    this.release(rec);
  }

  private release(rec: ChildRecord<S>): void {
    if (!isSupervisorSpec(rec.spec.start)) this.host.released?.(rec.spec.id, { parentPath: this.path });
  }

  private assertRunning(op: string): void {
    if (!this.active()) throw this.usageError(ErrorCodes.actorStopped, `cannot ${op}: it is ${this.phase}`);
  }

  private assertNotSimple(op: string): void {
    if (this.isSimple()) throw this.usageError(ErrorCodes.invalidOptions, `${op} is not supported by simple_one_for_one`);
  }

  private usageError(code: string, what: string): ActorError {
    return new ActorError(code, `supervisor "${this.path}" ${what}`, { field: this.path });
  }

  /** Inspection must never break supervision: a throwing listener is ignored. */
  private emit(type: string, data: Record<string, unknown>): void {
    try {
      this.host.emit(type, data);
    } catch {
      // deliberately ignored (see above)
    }
  }
}
