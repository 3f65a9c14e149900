// Small pure pieces the kernel composes: the root supervisor's spec, and read-only
// views over its actor cells (for metrics and the cluster directory).

import type { ActorCell } from '../actors/cell.js';
import type { SupervisorSpec } from '../supervisors/types.js';

/** The root supervisor: one_for_one, 10 restarts in 5 s unless the node says otherwise. */
export function rootSpec<T>(root: { intensity?: number; periodMs?: number } | undefined): SupervisorSpec<T> {
  return { kind: 'supervisor', id: 'root', strategy: 'one_for_one', intensity: root?.intensity ?? 10, periodMs: root?.periodMs ?? 5000, children: [] };
}

/** Ids of the leaf actors, the kernel's own service actors (`agentos.*`) left out. */
export function userActorIds(cells: ReadonlyMap<string, ActorCell>): string[] {
  return [...cells.keys()].filter((id) => !id.startsWith('agentos.'));
}

/** Messages queued in mailboxes, by latency class. */
export function queuedByClass(cells: Iterable<ActorCell>): Record<'HRT' | 'SRT' | 'DT', number> {
  const out = { HRT: 0, SRT: 0, DT: 0 };
  for (const cell of cells) out[cell.latency] += cell.mailbox.size;
  return out;
}
