// Shapes shared by supervisor specs, the pure restart bookkeeping and the
// supervisor runtime. Exit reasons are data, as in OTP.

export type ExitReason =
  | { kind: 'normal' }
  | { kind: 'shutdown' }
  | { kind: 'error'; error: unknown };

export const normalExit: ExitReason = { kind: 'normal' };
export const shutdownExit: ExitReason = { kind: 'shutdown' };
export const errorExit = (error: unknown): ExitReason => ({ kind: 'error', error });

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
