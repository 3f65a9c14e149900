// The kernel's own supervision tree, beside the users' root: service actors
// (the tool registry, the model gateway, memory) run under the `agentos.system`
// supervisor, one_for_one, started before any agent and stopped after the
// last one, so an agent's final calls still find their services. Like OTP's
// kernel_sup, the system tree is trusted: its actors are not admitted against
// a contract (they hold no capabilities and make no syscalls) and do not show
// in `node.tree()`, which is the users' tree; `node.systemTree()` shows it.
// If it exceeds its restart intensity the node goes down.

import type { AgentDefinition } from '../actors/define.js';
import type { Clock } from '../base/clock.js';
import { ActorError, ErrorCodes } from '../base/errors.js';
import type { ExitReason } from '../base/exit.js';
import { Supervisor } from '../supervisors/supervisor.js';
import type { ChildHost, TreeNode } from '../supervisors/types.js';
import type { RuntimeProfile } from './agent-contract.js';

/** Ids starting with this prefix belong to the kernel (service actors); users cannot spawn them. */
export const SYSTEM_PREFIX = 'agentos.';
export const SYSTEM_SUPERVISOR = 'agentos.system';
const SYSTEM_PATH = `/${SYSTEM_SUPERVISOR}`;

/** What a service actor runs as: SRT at the top priority, a deep mailbox. */
export const SYSTEM_PROFILE: RuntimeProfile = {
  latency: 'SRT',
  deadlineMs: undefined,
  priority: 9,
  mailboxCapacity: 100_000,
  overflow: 'reject',
  durability: undefined,
};

export function isSystemPath(path: string): boolean {
  return path.startsWith(`${SYSTEM_PATH}/`);
}

/** Ids starting with `agentos.` belong to the kernel: users cannot spawn, stop or pause them. */
export function assertUserId(id: string, field = 'id'): void {
  if (id.startsWith(SYSTEM_PREFIX)) {
    throw new ActorError(ErrorCodes.invalidOptions, `"${id}": ids starting with "${SYSTEM_PREFIX}" are reserved for the kernel's service actors`, { field });
  }
}

export class SystemTree<S> {
  readonly supervisor: Supervisor<S>;
  /** Service actors started (they are permanent: restarted, never removed). */
  size = 0;

  constructor(host: ChildHost<S>, clock: Clock, onExit: (reason: ExitReason) => void) {
    this.supervisor = new Supervisor<S>(
      { kind: 'supervisor', id: SYSTEM_SUPERVISOR, strategy: 'one_for_one', intensity: 20, periodMs: 5000, children: [] },
      host,
      { clock, path: SYSTEM_PATH, onExit },
    );
  }

  async start(): Promise<void> {
    await this.supervisor.start();
  }

  /** Start a service actor (restarted whenever it exits). */
  async startService(id: string, definition: AgentDefinition): Promise<void> {
    if (!id.startsWith(SYSTEM_PREFIX)) throw new ActorError(ErrorCodes.invalidOptions, `service ids start with "${SYSTEM_PREFIX}" (got "${id}")`, { field: 'id' });
    await this.supervisor.startChild({ id, start: definition as S, restart: 'permanent', shutdownMs: 5000 });
    this.size++;
  }

  tree(): TreeNode {
    return this.supervisor.tree();
  }

  stop(): Promise<void> {
    return this.supervisor.stop('infinity');
  }
}
