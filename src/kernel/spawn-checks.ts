// Checks on what `spawn` is given, before anything starts: actor ids and
// tenants are well formed, and every id in a supervisor tree is free (ids
// are node-wide) — so a refused spawn leaves nothing behind.

import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import { ActorError, ErrorCodes } from '../base/errors.js';
import { supervisor as supervisorSpec } from '../supervisors/spec.js';
import type { SupervisorSpec } from '../supervisors/types.js';
import { assertUserId } from './system.js';

/** Actor ids and tenant names: 1-128 letters, digits and `_.:@-`, starting alphanumeric. */
export const ID_PATTERN = /^[A-Za-z0-9][\w.:@-]{0,127}$/;

export function checkSpawnId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ActorError(ErrorCodes.invalidOptions, `spawn: id must be 1-128 characters of letters, digits and _.:@- (got ${JSON.stringify(id)})`, { field: 'id' });
  }
}

export function checkTenant(tenant: unknown): void {
  if (tenant !== undefined && (typeof tenant !== 'string' || !ID_PATTERN.test(tenant))) {
    throw new ActorError(ErrorCodes.invalidOptions, `spawn: tenant must be 1-128 characters of letters, digits and _.:@- (got ${JSON.stringify(tenant)})`, { field: 'tenant' });
  }
}

/** Throws DUPLICATE_ACTOR naming the first id in the tree that is repeated or `taken`. */
export function assertTreeIdsFree(spec: SupervisorSpec<unknown>, rootId: string, taken: (id: string) => boolean, nodeId: string): void {
  const seen = new Set<string>([rootId]);
  const walk = (s: SupervisorSpec<unknown>): void => {
    for (const child of s.children ?? []) {
      const cid = child?.id;
      if (typeof cid !== 'string') continue; // the spec validator names this
      assertUserId(cid, `children.${cid}`);
      if (seen.has(cid) || taken(cid)) {
        throw new ActorError(ErrorCodes.duplicateActor, `spawn: id "${cid}" in supervisor "${s.id}" is already used on node "${nodeId}" (ids are node-wide)`, {
          field: `children.${cid}`,
        });
      }
      seen.add(cid);
      const start = child.start as { kind?: unknown };
      if (start?.kind === 'supervisor') walk(start as SupervisorSpec<unknown>);
    }
  };
  walk(spec);
}

type Target = AgentDefinition | { agent: AgentDefinition; input?: unknown };

/**
 * Everything `spawn` checks before it starts anything: the id is well formed and
 * free, the tenant well formed, the target an agent or a valid supervisor spec
 * whose ids are all free. Returns what the root supervisor starts.
 */
export function prepareSpawn(
  target: AgentDefinition | SupervisorSpec<Target>,
  options: { id: string; tenant?: string; input?: unknown },
  taken: (id: string) => boolean,
  nodeId: string,
): { start: Target | SupervisorSpec<Target>; isSup: boolean } {
  const id = options?.id;
  checkSpawnId(id);
  assertUserId(id);
  if (taken(id)) throw new ActorError(ErrorCodes.duplicateActor, `spawn: an actor with id "${id}" already exists on node "${nodeId}"`, { field: 'id' });
  checkTenant(options.tenant);
  if ((target as { kind?: unknown })?.kind === 'supervisor') {
    // Validate the spec first (its errors name the field), then claim its ids.
    const spec = supervisorSpec<Target>(target as SupervisorSpec<Target>);
    assertTreeIdsFree(spec, id, taken, nodeId);
    return { start: { ...spec, id }, isSup: true };
  }
  if (!isAgentDefinition(target)) {
    throw new ActorError(ErrorCodes.invalidAgent, 'spawn: expected a defineAgent(...) definition or a supervisor(...) spec', { field: 'definition' });
  }
  return { start: options.input === undefined ? target : { agent: target, input: options.input }, isSup: false };
}
