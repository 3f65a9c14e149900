// Shapes shared by supervisor specs, the pure restart bookkeeping and the
// supervisor runtime. Exit reasons are data, as in OTP.

export type { ExitReason } from '../base/exit.js';
export { normalExit, shutdownExit, errorExit, describeExit } from '../base/exit.js';
import type { ExitReason } from '../base/exit.js';
import type { Supervisor } from './supervisor.js';

/** OTP restart types: permanent always, transient on abnormal exit, temporary never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one' | 'simple_one_for_one';

/**
 * One child. `start` is opaque to this layer: the kernel knows how to start an
 * agent definition; a nested SupervisorSpec is started by the supervisor itself.
 */
export interface ChildSpec<S = unknown> {
  id: string;
  start: S | SupervisorSpec<S>;
  restart?: RestartType;
  /** Graceful stop budget before a forced stop; 'infinity' waits (default 5000, 'infinity' for supervisors). */
  shutdownMs?: number | 'infinity';
  /** Extra start arguments (simple_one_for_one dynamic children); opaque to this layer. */
  args?: unknown;
  /** Run this (leaf) child on another node of the cluster; opaque to this layer (the host places it). */
  node?: string;
}

export interface SupervisorSpec<S = unknown> {
  readonly kind: 'supervisor';
  id: string;
  strategy: Strategy;
  /** Max restarts allowed within `periodMs` (OTP default 1). */
  intensity: number;
  /** Sliding window for `intensity`, in ms (OTP default 5000). */
  periodMs: number;
  children: ChildSpec<S>[];
}

/** A started child the supervisor can stop. */
export interface ChildHandle {
  readonly id: string;
  /**
   * Stop gracefully within `timeoutMs`, then force. Resolves once stopped.
   * The child's exit callback is NOT called for a stop requested by the supervisor.
   */
  stop(timeoutMs: number | 'infinity'): Promise<void>;
}

/** What a supervisor needs from its host (the kernel) to run leaf children. */
export interface ChildHost<S = unknown> {
  /** Time source (the node's injected clock). */
  now(): number;
  /**
   * Start a leaf child. `onExit` must be called exactly once if the child exits
   * on its own (normal end or crash); never for a stop requested through the handle.
   * Throws (or rejects) if the child cannot start.
   */
  startChild(
    spec: ChildSpec<S>,
    context: { parentPath: string; incarnation: number },
    onExit: (reason: ExitReason) => void,
  ): Promise<ChildHandle> | ChildHandle;
  /** System events: `@agentos.supervisor.restart`, `@agentos.supervisor.escalated`, … */
  emit(type: string, data: Record<string, unknown>): void;
  /** Optional extra fields for a running worker in `tree()` (class, state, mailbox depth, …). */
  describe?(id: string, context: { parentPath: string; incarnation: number }): Record<string, unknown> | undefined;
  /** Optional: a nested supervisor has started (its children are up); `path` is `sup.path`. */
  supervisorStarted?(sup: Supervisor<S>, path: string): void;
  /** Optional: a nested supervisor incarnation is gone (stopped by its parent, or gave up and exited). */
  supervisorStopped?(sup: Supervisor<S>): void;
  /**
   * Optional: leaf child `id` is gone for good — dropped from its supervisor's list
   * (temporary exit, dynamic child not restarted, deleteChild, failed startChild, a
   * temporary sibling dropped by a group restart) or stopped because its supervisor
   * stopped or gave up. Not called for a child kept as 'stopped' (it may be started again).
   */
  released?(id: string, context: { parentPath: string }): void;
}

/** Live supervision tree, as returned by `node.tree()`. */
export interface TreeNode {
  id: string;
  kind: 'supervisor' | 'worker';
  path: string;
  strategy?: Strategy;
  restartType?: RestartType;
  restarts: number;
  status: 'running' | 'restarting' | 'stopped';
  children?: TreeNode[];
  /** Extra fields a host adds for workers (class, state, mailbox depth, …). */
  info?: Record<string, unknown>;
}

/** What OTP calls a child's pid slot: running, waiting for a restart retry, or not running. */
export type ChildStatus = 'running' | 'restarting' | 'stopped';

/** One row of `Supervisor.whichChildren()`. */
export interface ChildInfo {
  id: string;
  kind: 'supervisor' | 'worker';
  restartType: RestartType;
  status: ChildStatus;
  /** Start attempts so far minus one (0 for the first start), as passed to `ChildHost.startChild`. */
  incarnation: number;
  /** Times the supervisor restarted this child (manual restarts not counted). */
  restarts: number;
}

/** A dynamic child of a simple_one_for_one supervisor, made from its single template. */
export interface DynamicChildArgs {
  /** Defaults to `${supervisorId}-${n}`. */
  id?: string;
  /** Handed to the host on `ChildSpec.args`. */
  args?: unknown;
}

/** The reason an escalating supervisor gives its parent (OTP's atom of the same name). */
export const MAX_RESTART_INTENSITY = 'reached_max_restart_intensity';
