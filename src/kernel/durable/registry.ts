// Registrations: what node recovery starts again. A top-level persistent agent,
// a top-level supervisor tree holding persistent agents, or a dynamic child of
// such a tree, recorded as data: agents by `name@version` (never code), so the
// node that recovers them must have the same definitions registered.

import { isAgentDefinition, type AgentDefinition } from '../../actors/define.js';
import { StorageError } from '../../base/errors.js';
import type { ChildSpec, SupervisorSpec } from '../../supervisors/types.js';
import { DurableCodes, type ChildRecord, type SpawnRecord, type SpecRecord } from './records.js';

type StartTarget = AgentDefinition | { agent: AgentDefinition; input?: unknown };

export const refOf = (def: AgentDefinition): string => `${def.name}@${def.version}`;

/** Whether starting this target starts any persistent agent. */
export function holdsPersistent(target: StartTarget | SupervisorSpec<StartTarget>): boolean {
  if ((target as { kind?: unknown }).kind === 'supervisor') {
    return (target as SupervisorSpec<StartTarget>).children.some((c) => holdsPersistent(c.start as StartTarget | SupervisorSpec<StartTarget>));
  }
  const def = isAgentDefinition(target) ? target : (target as { agent?: AgentDefinition }).agent;
  return def?.persistence !== undefined;
}

export function specRecord(spec: SupervisorSpec<StartTarget>): SpecRecord {
  return {
    kind: 'supervisor',
    id: spec.id,
    strategy: spec.strategy,
    intensity: spec.intensity,
    periodMs: spec.periodMs,
    children: spec.children.map((c) => childRecord(c)),
  };
}

function childRecord(c: ChildSpec<StartTarget>): ChildRecord | SpecRecord {
  const start = c.start as StartTarget | SupervisorSpec<StartTarget>;
  if ((start as { kind?: unknown }).kind === 'supervisor') return { ...specRecord(start as SupervisorSpec<StartTarget>), id: c.id };
  const def = isAgentDefinition(start) ? start : (start as { agent: AgentDefinition }).agent;
  const input = isAgentDefinition(start) ? undefined : (start as { input?: unknown }).input;
  const out: ChildRecord = { id: c.id, agent: refOf(def) };
  if (input !== undefined) out.input = input;
  if (c.restart !== undefined) out.restart = c.restart;
  if (c.shutdownMs !== undefined) out.shutdownMs = c.shutdownMs;
  if (c.args !== undefined) out.args = c.args;
  return out;
}

/** The spec again, with definitions looked up; a StorageError naming the missing one if any is unknown. */
export function rebuildSpec(record: SpecRecord, lookup: (ref: string) => AgentDefinition | undefined, owner: string): SupervisorSpec<StartTarget> {
  return {
    kind: 'supervisor',
    id: record.id,
    strategy: record.strategy as SupervisorSpec['strategy'],
    intensity: record.intensity ?? 1,
    periodMs: record.periodMs ?? 5000,
    children: record.children.map((c): ChildSpec<StartTarget> => {
      if (c.kind === 'supervisor') return { id: c.id, start: rebuildSpec(c, lookup, owner) };
      const def = definitionOf(c.agent, lookup, owner);
      const child: ChildSpec<StartTarget> = { id: c.id, start: c.input === undefined ? def : { agent: def, input: c.input } };
      if (c.restart !== undefined) child.restart = c.restart as ChildSpec['restart'];
      if (c.shutdownMs !== undefined) child.shutdownMs = c.shutdownMs;
      if (c.args !== undefined) child.args = c.args;
      return child;
    }),
  };
}

export function definitionOf(ref: string, lookup: (ref: string) => AgentDefinition | undefined, owner: string): AgentDefinition {
  const def = lookup(ref);
  if (!def) {
    throw new StorageError(
      DurableCodes.unknownDefinition,
      `persistent actor "${owner}" needs agent definition ${ref}, which this node does not have: pass it in createNode({ agents: [...] })`,
      { field: 'agents', details: { actor: owner, definition: ref } },
    );
  }
  return def;
}

export function spawnRecord(options: { tenant?: string; restart?: SpawnRecord['restart']; shutdownMs?: number | 'infinity'; input?: unknown }): SpawnRecord {
  const out: SpawnRecord = {};
  if (options.tenant !== undefined) out.tenant = options.tenant;
  if (options.restart !== undefined) out.restart = options.restart;
  if (options.shutdownMs !== undefined) out.shutdownMs = options.shutdownMs;
  if (options.input !== undefined) out.input = options.input;
  return out;
}
