// Where a child spec with `node` runs: on that member when it is up (the cluster
// layer starts it there), else here — a supervisor must be able to restart its
// child while the node it prefers is down, so it falls back to its own node.

import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import { ActorError, AgentOsError, ErrorCodes } from '../base/errors.js';
import type { ChildSpec } from '../supervisors/types.js';
import type { StartTarget } from './kernel-types.js';
import type { RemoteChildren } from './remote.js';
import type { TenantPaths } from './tenancy.js';

type RemoteStart = Parameters<RemoteChildren['start']>[0];

/** The remote start of `spec`, or undefined when it runs here. Throws when no cluster can place it. */
export function placeChild(spec: ChildSpec<StartTarget>, parentPath: string, children: RemoteChildren | undefined, tenants: TenantPaths): RemoteStart | undefined {
  const node = spec.node!;
  if (!children) {
    throw new AgentOsError(ErrorCodes.invalidOptions, `child "${spec.id}" is placed on node "${node}", but this node is not in a cluster (createNode({ cluster }))`, { field: 'node' });
  }
  if (!children.isUp(node)) return undefined;
  const target = spec.start as StartTarget;
  const def: AgentDefinition | undefined = isAgentDefinition(target) ? target : target?.agent;
  if (!isAgentDefinition(def)) throw new ActorError(ErrorCodes.invalidAgent, `child "${spec.id}": start must be an agent definition`, { field: `children.${spec.id}.start` });
  const input = spec.args !== undefined ? spec.args : isAgentDefinition(target) ? undefined : target.input;
  const tenant = tenants.of(`${parentPath}/${spec.id}`);
  return {
    id: spec.id,
    node,
    agent: def.name,
    version: def.version,
    parentPath,
    ...(input === undefined ? {} : { input }),
    ...(tenant === undefined ? {} : { tenant }),
  };
}
