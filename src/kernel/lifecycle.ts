// When an actor's id is free again: a child its supervisor dropped, a
// top-level agent that ended, an actor stopped for good by `ref.stop`. Its
// cell goes, its reservations are freed, its queued messages become dead
// letters, and a persistent actor's stored state goes with it — except when
// the node itself is stopping, which keeps everything for the next start.

import type { ActorCell } from '../actors/cell.js';
import { ActorError, ErrorCodes } from '../base/errors.js';
import type { ExitReason } from '../base/exit.js';
import type { Supervisor } from '../supervisors/supervisor.js';
import type { RestartType } from '../supervisors/types.js';
import type { Governance } from './governance.js';
import type { KernelPersistence } from './persistence.js';
import type { Router } from './router.js';
import { assertUserId } from './system.js';
import type { TenantPaths } from './tenancy.js';

export interface LifecycleTables<S> {
  nodeId: string;
  cells: Map<string, ActorCell>;
  owners: Map<string, string>;
  exits: Map<string, { onExit: (reason: ExitReason) => void; restart: RestartType }>;
  supervisors: Map<string, Supervisor<S>>;
  tenants: TenantPaths;
  root: () => Supervisor<S>;
  governance: Governance;
  router: Router;
  persistence: KernelPersistence;
  stopping: () => boolean;
  lanes?: { remove(id: string): void };
}

export class Lifecycle<S> {
  constructor(private readonly t: LifecycleTables<S>) {}

  /** A child is gone for good (its supervisor dropped it); its id is free again. */
  released(id: string, context?: { parentPath: string }): void {
    // Only the supervisor that holds the id may release it (a failed start elsewhere must not).
    if (context !== undefined && this.t.owners.get(id) !== context.parentPath) return;
    this.t.owners.delete(id);
    if (context?.parentPath === '') this.t.tenants.forget(`/${id}`);
    this.drop(id);
  }

  /** Forget a stopped actor: reservations freed, queued messages become dead letters. */
  drop(id: string): void {
    const cell = this.t.cells.get(id);
    if (!cell || cell.status === 'running' || cell.status === 'paused') return;
    if (cell.durable) this.forgetDurable(id);
    this.t.cells.delete(id);
    this.t.exits.delete(id);
    this.t.governance.release(id);
    this.t.lanes?.remove(id);
    for (const env of cell.mailbox.drain()) this.t.router.undeliverable(env, `actor "${id}" stopped`);
  }

  /** A top-level agent that ended frees its id (nested children stay in their supervisor's spec, as in OTP). */
  async forgetRootChild(id: string): Promise<void> {
    try {
      await this.t.root().deleteChild(id);
    } catch {
      // Already dropped by the supervisor (temporary child): nothing to forget.
    }
    if (!this.t.cells.has(id)) {
      this.t.owners.delete(id);
      this.t.tenants.forget(`/${id}`);
    }
  }

  /** Stop one actor or subtree for good. */
  async stop(id: string): Promise<void> {
    assertUserId(id);
    const cell = this.t.cells.get(id);
    const sup = this.t.supervisors.get(id);
    const parentPath = cell?.parentPath ?? (sup ? sup.path.slice(0, sup.path.lastIndexOf('/')) : undefined);
    if (parentPath === undefined) throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" on node "${this.t.nodeId}"`, { field: 'id' });
    const parent = parentPath === '' ? this.t.root() : this.t.supervisors.get(parentPath.slice(parentPath.lastIndexOf('/') + 1));
    if (!parent) throw new ActorError(ErrorCodes.unknownActor, `supervisor of "${id}" not found`, { field: 'id' });
    await parent.terminateChild(id);
    if (parent.whichChildren().some((c) => c.id === id)) await parent.deleteChild(id);
    if (cell) this.released(id, { parentPath });
    else if (parentPath === '') this.forgetDurable(id);
  }

  /** A persistent actor (or tree) that is gone for good takes its stored state with it; a node stop keeps it. */
  private forgetDurable(id: string): void {
    if (!this.t.stopping()) this.t.persistence.forget(id);
  }
}
