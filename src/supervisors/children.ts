// A supervisor's record of one child (spec, status, live incarnation) and the
// read-only views of it: `whichChildren()` rows and `tree()` nodes. The token
// guarantees an exit report is only ever applied to the incarnation that sent it.

import { isSupervisorSpec, type NormalizedChildSpec } from './spec.js';
import type { ChildHandle, ChildHost, ChildInfo, ChildStatus, TreeNode } from './types.js';

/** A started nested supervisor, as its parent sees it. */
export interface NestedSupervisor extends ChildHandle {
  tree(): TreeNode;
}

export interface ChildRecord<S> {
  spec: NormalizedChildSpec<S>;
  status: ChildStatus;
  handle: ChildHandle | undefined;
  nested: NestedSupervisor | undefined;
  /** -1 before the first start attempt; +1 per attempt. */
  incarnation: number;
  /** Restarts done by the supervisor (not manual restarts). */
  restarts: number;
  /** Identifies the live incarnation; an exit carrying another token is stale and ignored. */
  token: object | undefined;
}

export const newRecord = <S>(spec: NormalizedChildSpec<S>): ChildRecord<S> => ({
  spec,
  status: 'stopped',
  handle: undefined,
  nested: undefined,
  incarnation: -1,
  restarts: 0,
  token: undefined,
});

export function childInfo<S>(c: ChildRecord<S>): ChildInfo {
  return {
    id: c.spec.id,
    kind: isSupervisorSpec(c.spec.start) ? 'supervisor' : 'worker',
    restartType: c.spec.restart,
    status: c.status,
    incarnation: Math.max(0, c.incarnation),
    restarts: c.restarts,
  };
}

/** The child's node in the tree; running nested supervisors contribute their whole subtree. */
export function childNode<S>(c: ChildRecord<S>, parentPath: string, host: ChildHost<S>): TreeNode {
  const common = { id: c.spec.id, path: `${parentPath}/${c.spec.id}`, restartType: c.spec.restart, restarts: c.restarts };
  if (isSupervisorSpec(c.spec.start)) {
    if (c.nested) return { ...c.nested.tree(), restartType: c.spec.restart, restarts: c.restarts };
    return { ...common, kind: 'supervisor', strategy: c.spec.start.strategy, status: c.status, children: [] };
  }
  const info =
    c.status === 'running' ? host.describe?.(c.spec.id, { parentPath, incarnation: c.incarnation }) : undefined;
  return { ...common, kind: 'worker', status: c.status, ...(info ? { info } : {}) };
}
