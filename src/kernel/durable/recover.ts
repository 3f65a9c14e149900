// Node recovery: start every registered persistent actor again, in the order it
// was first spawned: top-level agents and trees first-come first-served, dynamic
// children once their supervisor is up. An actor whose registration is unreadable
// or whose definition this node lacks is held and reported; the rest come back.

import type { AgentDefinition } from '../../actors/define.js';
import type { Clock } from '../../base/clock.js';
import type { SupervisorSpec } from '../../supervisors/types.js';
import type { Durability, RecoveryReport } from './manager.js';
import { definitionOf, rebuildSpec } from './registry.js';

type StartTarget = AgentDefinition | { agent: AgentDefinition; input?: unknown };

export interface RecoverHost {
  clock: Clock;
  spawnRecovered(target: AgentDefinition | SupervisorSpec<StartTarget>, options: { id: string; tenant?: string; restart?: 'permanent' | 'transient' | 'temporary'; shutdownMs?: number | 'infinity'; input?: unknown }): Promise<unknown>;
  startDynamic(supervisor: string, child: { id: string; args?: unknown }): Promise<unknown>;
}

export async function recoverNode(host: RecoverHost, durability: Durability, lookup: (ref: string) => AgentDefinition | undefined): Promise<RecoveryReport> {
  const started = host.clock.now();
  durability.beginRecovery();
  for (const r of durability.store.registrations()) {
    if (!('order' in r)) {
      durability.noteHeld(r.id, r.error.code, r.error.message);
      continue;
    }
    try {
      if (r.kind === 'agent') {
        await host.spawnRecovered(definitionOf(r.agent, lookup, r.id), { id: r.id, ...r.spawn });
      } else if (r.kind === 'tree') {
        await host.spawnRecovered(rebuildSpec(r.spec, lookup, r.id), { id: r.id, ...r.spawn });
      } else {
        await host.startDynamic(r.supervisor, { id: r.id, ...(r.args === undefined ? {} : { args: r.args }) });
      }
    } catch (err) {
      const e = err as { code?: string; message?: string };
      durability.noteHeld(r.id, e.code ?? 'RECOVERY_FAILED', e.message ?? String(err));
    }
  }
  return durability.endRecovery(host.clock.now() - started);
}
