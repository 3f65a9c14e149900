// Promise actors that had not settled when the snapshot was taken. XState
// restores them as active and runs their promise creator again on start: a
// silent second side effect. A restored agentos actor instead holds them:
// the child is back, addressable and cancellable with its state, but nothing
// runs until the kernel, having consulted its effect journal, either settles
// it with the journaled outcome or re-issues the call.

import type { AnyActorRef } from 'xstate';
import { ActorError } from '../../base/errors.js';
import { logicOf, PROMISE_REJECT, PROMISE_RESOLVE, relay, replaceLogic, type LogicView } from './internals.js';
import { findByPath, pathLabel, walkTree } from './tree.js';
import { SnapshotCodes, type ActorPath } from './types.js';

interface Held {
  original: LogicView;
  scope: unknown;
}

const held = new WeakMap<AnyActorRef, Held>();

/** Before start: make `child` (promise logic) come up without running its promise. */
export function holdPromise(child: AnyActorRef): void {
  const original = logicOf(child);
  replaceLogic(child, {
    ...original,
    start: (_snapshot, scope) => {
      held.set(child, { original, scope });
    },
  });
}

/** Paths of the promise actors under `root` still waiting for `settleInFlight` or `reissueInFlight`. */
export function heldInFlight(root: AnyActorRef): ActorPath[] {
  return walkTree(root)
    .filter((n) => held.has(n.ref) && (n.ref.getSnapshot() as { status: string }).status === 'active')
    .map((n) => n.path);
}

/** Complete a held promise with the outcome recorded in the effect journal, as if it had just settled. */
export function settleInFlight(root: AnyActorRef, path: readonly string[], outcome: { output: unknown } | { error: unknown }): void {
  const { child } = take(root, path, 'settleInFlight');
  const event = 'error' in outcome ? { type: PROMISE_REJECT, data: outcome.error } : { type: PROMISE_RESOLVE, data: outcome.output };
  relay(child, child, event);
}

/**
 * Run a held promise's creator again with its persisted input: for a call the
 * journal shows never started, or one that is safe to repeat (idempotent, or
 * keyed). At-least-once; the kernel decides.
 */
export function reissueInFlight(root: AnyActorRef, path: readonly string[]): void {
  const { child, h } = take(root, path, 'reissueInFlight');
  h.original.start?.(child.getSnapshot(), h.scope);
}

/** The held child at `path`, no longer held: each in-flight call is settled or re-issued once. */
function take(root: AnyActorRef, path: readonly string[], caller: string): { child: AnyActorRef; h: Held } {
  const child = findByPath(root, path);
  const h = child ? held.get(child) : undefined;
  if (!child || !h || (child.getSnapshot() as { status: string }).status !== 'active') {
    throw new ActorError(SnapshotCodes.notInFlight, `${caller}: ${pathLabel(path)} is not a held in-flight promise`, {
      field: 'path',
      details: { path: [...path] },
    });
  }
  held.delete(child);
  return { child, h };
}
