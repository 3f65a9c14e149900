// Checks on what `spawn` is given, before anything starts: actor ids and
// tenants are well formed, and every id in a supervisor tree is free (ids
// are node-wide) — so a refused spawn leaves nothing behind.

import { ActorError, ErrorCodes } from '../base/errors.js';
import type { SupervisorSpec } from '../supervisors/types.js';

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
