// How the kernel builds its persistence (start paths of persistent actors and of
// actors arriving from other nodes) and its hand-off (migration and failover),
// over its own tables of cells, supervisors and exits.

import type { ActorCell } from '../actors/cell.js';
import type { RestartType } from '../supervisors/types.js';
import type { Supervisor } from '../supervisors/supervisor.js';
import { HandoffPersistence } from './handoff-start.js';
import { KernelHandoff } from './handoff.js';
import type { Kernel } from './kernel.js';
import type { StartTarget } from './kernel-types.js';

export interface KernelTables {
  cells: Map<string, ActorCell>;
  supervisors: Map<string, Supervisor<StartTarget>>;
  exits: Map<string, { restart: RestartType }>;
}

export function handoffFor(kernel: Kernel, tables: KernelTables): { persistence: HandoffPersistence; handoff: KernelHandoff } {
  const { cells, supervisors, exits } = tables;
  const persistence: HandoffPersistence = new HandoffPersistence(
    kernel.durability,
    {
      clock: kernel.clock,
      cell: (id) => cells.get(id),
      supervisor: (id) => supervisors.get(id),
      spawnRecovered: (target, o) => kernel.spawn(target, o, true),
      syscall: (id, request, signal, key) => kernel.syscall(id, request, signal, key),
    },
    (cell, m) => handoff.enqueue(cell, m),
  );
  const handoff: KernelHandoff = new KernelHandoff({
    nodeId: kernel.nodeId,
    clock: kernel.clock,
    cells,
    isSupervisor: (id) => supervisors.has(id),
    restartOf: (id) => exits.get(id)?.restart,
    router: kernel.router,
    governance: kernel.governance,
    durability: kernel.durability,
    syscalls: kernel.syscalls,
    persistence,
    spawn: (def, o, registered) => kernel.spawn(def, o, registered),
    stopActor: (id) => kernel.stopActor(id),
  });
  return { persistence, handoff };
}
