// The live actor tree of a machine actor, addressed by paths of child ids.
// A snapshot names actors by path, never by session id: session ids are
// handed out afresh by every actor system, paths survive a restore.

import type { AnyActorRef } from 'xstate';
import { childrenOf, isMachineActor, isPromiseLogic, logicOf } from './internals.js';
import type { ActorPath, ChildKind } from './types.js';

export interface TreeNode {
  ref: AnyActorRef;
  path: ActorPath;
}

/** Every actor under `root` (included), parents before children. */
export function walkTree(root: AnyActorRef): TreeNode[] {
  const out: TreeNode[] = [];
  const visit = (ref: AnyActorRef, path: ActorPath): void => {
    out.push({ ref, path });
    for (const [id, child] of Object.entries(childrenOf(ref))) {
      if (child) visit(child, [...path, id]);
    }
  };
  visit(root, []);
  return out;
}

export function pathIndex(root: AnyActorRef): Map<AnyActorRef, ActorPath> {
  return new Map(walkTree(root).map((n) => [n.ref, n.path]));
}

export function findByPath(root: AnyActorRef, path: readonly string[]): AnyActorRef | undefined {
  let ref: AnyActorRef | undefined = root;
  for (const id of path) {
    ref = ref ? childrenOf(ref)[id] : undefined;
  }
  return ref;
}

/** `root`, `root/kid/grandkid`: how messages name an actor. */
export function pathLabel(path: readonly string[]): string {
  return ['root', ...path].join('/');
}

export function classify(ref: AnyActorRef): ChildKind {
  if (isMachineActor(ref)) return 'machine';
  const logic = logicOf(ref);
  if (isPromiseLogic(logic)) return 'promise';
  return typeof logic.start === 'function' ? 'restartable' : 'stateful';
}
