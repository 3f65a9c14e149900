// Starting a leaf actor for its supervisor (the kernel's ChildHost.startChild):
// admit it on first start (contract, schedulability, policy), build its cell and
// mailbox, attach its durability if persistent, and start the incarnation. A
// restart reuses the cell, so queued messages survive; a first start that fails
// leaves no actor, owner or reservation behind.

import { ActorCell, type CellHost } from '../actors/cell.js';
import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import type { Envelope } from '../actors/envelope.js';
import type { Clock } from '../base/clock.js';
import { ActorError, ErrorCodes } from '../base/errors.js';
import type { ExitReason } from '../base/exit.js';
import { createMailbox, mailboxKindFor } from '../mailboxes/index.js';
import type { OverflowPolicy } from '../mailboxes/types.js';
import type { ChildHandle, ChildSpec, RestartType } from '../supervisors/types.js';
import type { RuntimeProfile } from './agent-contract.js';
import type { SystemEvent } from './events.js';
import type { Governance } from './governance.js';
import type { KernelPersistence } from './persistence.js';
import type { Router } from './router.js';
import { isSystemPath, SYSTEM_PROFILE } from './system.js';
import type { TenantPaths } from './tenancy.js';
import type { HrtLanes } from './hrt/lanes.js';
import { startLaneLeaf } from './lane-leaf.js';

type StartTarget = AgentDefinition | { agent: AgentDefinition; input?: unknown };

/** The kernel's tables and services a leaf start touches. */
export interface LeafDeps {
  nodeId: string;
  clock: Clock;
  host: CellHost;
  governance: Governance;
  persistence: KernelPersistence;
  router: Router;
  mailboxDefaults: { capacity: number; overflow: OverflowPolicy };
  cells: Map<string, ActorCell>;
  owners: Map<string, string>;
  exits: Map<string, { onExit: (reason: ExitReason) => void; restart: RestartType }>;
  tenants: TenantPaths;
  emit(event: SystemEvent): void;
  /** HRT lanes (worker threads) for actors whose definition has `lane`. */
  lanes?: HrtLanes;
}

export function startLeaf(k: LeafDeps, spec: ChildSpec<StartTarget>, context: { parentPath: string; incarnation: number }, onExit: (reason: ExitReason) => void): ChildHandle | Promise<ChildHandle> {
  const target = spec.start as StartTarget;
  const def = isAgentDefinition(target) ? target : target?.agent;
  if (!isAgentDefinition(def)) {
    throw new ActorError(ErrorCodes.invalidAgent, `child "${spec.id}": start must be an agent definition or a supervisor spec`, { field: `children.${spec.id}.start` });
  }
  const input = spec.args !== undefined ? spec.args : isAgentDefinition(target) ? undefined : target.input;
  const path = `${context.parentPath}/${spec.id}`;
  const owner = k.owners.get(spec.id);
  if (owner !== undefined && owner !== context.parentPath) {
    throw new ActorError(ErrorCodes.duplicateActor, `id "${spec.id}" belongs to the supervisor at "${owner || '/'}" on node "${k.nodeId}"`, { field: 'id' });
  }
  let cell = k.cells.get(spec.id);
  if (cell && cell.status !== 'exited' && cell.status !== 'stopped') {
    throw new ActorError(ErrorCodes.duplicateActor, `an actor with id "${spec.id}" is already running on node "${k.nodeId}"`, { field: 'id' });
  }
  // An HRT actor with a lane runs on the lane's worker thread behind a proxy cell.
  if (def.lane && k.lanes) return startLaneLeaf({ ...k, lanes: k.lanes }, spec, context, onExit, def, input);
  const fresh = !cell || cell.def.name !== def.name || cell.def.version !== def.version;
  if (fresh) {
    // The kernel's own service actors are trusted (no contract, no capabilities); every other actor is admitted.
    const admitted = isSystemPath(path) ? { tenant: 'system', profile: SYSTEM_PROFILE } : k.governance.admit(spec.id, def, k.tenants.of(path));
    try {
      cell = createCell(k, spec.id, path, context.parentPath, input === undefined ? def : { ...def, input }, admitted.tenant, admitted.profile);
      k.persistence.attach(cell, admitted.profile.durability);
    } catch (err) {
      k.governance.release(spec.id);
      throw err;
    }
  }
  const started = cell!;
  k.cells.set(spec.id, started);
  k.owners.set(spec.id, context.parentPath);
  k.exits.set(spec.id, { onExit, restart: spec.restart ?? 'permanent' });
  try {
    k.persistence.startCell(started, context.incarnation, fresh);
  } catch (err) {
    if (fresh) {
      k.cells.delete(spec.id);
      k.owners.delete(spec.id);
      k.exits.delete(spec.id);
      k.governance.release(spec.id);
    }
    throw err;
  }
  k.emit({ type: '@agentos.actor.started', id: spec.id, parent: context.parentPath || '/', path, incarnation: context.incarnation });
  return {
    id: spec.id,
    stop: async (timeoutMs) => {
      await started.stop(timeoutMs);
      k.emit({ type: '@agentos.actor.stopped', id: spec.id, reason: 'shutdown', incarnation: started.incarnation });
    },
  };
}

export function createCell(k: LeafDeps, id: string, path: string, parentPath: string, def: AgentDefinition, tenant: string, profile: RuntimeProfile): ActorCell {
  return new ActorCell(def, {
    id,
    path,
    parentPath,
    tenant,
    latency: profile.latency,
    mailbox: createMailbox<Envelope>(mailboxKindFor(profile.latency), {
      capacity: profile.mailboxCapacity ?? k.mailboxDefaults.capacity,
      overflow: profile.overflow ?? k.mailboxDefaults.overflow,
      now: () => k.clock.now(),
      onDrop: (env, reason) => k.router.undeliverable(env, reason),
    }),
    host: k.host,
    deadlineMs: profile.deadlineMs,
    priority: profile.priority,
  });
}
