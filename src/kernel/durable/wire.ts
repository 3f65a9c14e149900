// The durable layer as the kernel builds it: persistent actors' storage and
// effect journal over the node's LMDB, with the kernel's router, audit, syscall
// path and budgets plugged in.

import type { RootDatabase } from 'lmdb';
import type { Kernel } from '../kernel.js';
import { Durability } from './manager.js';

export function durabilityFor(kernel: Kernel, db: RootDatabase, defer: (fn: () => void) => void): Durability {
  const budgets = kernel.governance.policy.budgets;
  return new Durability({
    db,
    clock: kernel.clock,
    defer,
    envelope: (cell, stored) => kernel.router.rebuild(cell, stored),
    emit: (type, data) => kernel.emit(type, data),
    audit: (r) => kernel.governance.record(r),
    syscall: (cell, rec, signal) => kernel.syscall(cell.id, rec.request, signal, rec.key),
    spent: (id) => budgets.spent(id),
    restoreSpent: (id, tokens) => budgets.restoreSpent(id, tokens),
  });
}
