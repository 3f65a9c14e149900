// Who may do what on the board, read from the caller's contract capabilities
// (the kernel's policy engine holds them). `blackboard.read` reads every topic
// of the caller's tenant and `blackboard.write` writes every topic;
// `blackboard.read.<topic>` / `blackboard.write.<topic>` grant one topic, and the
// capability wildcard rules apply (`blackboard.write.plan.*`, `blackboard.*`,
// `*`). Contract capability names are lowercase dotted segments, so a topic can
// be granted on its own when it is written that way (`plan.step-1`).

import { allows } from '../../kernel/policy/index.js';

export const READ = 'blackboard.read';
export const WRITE = 'blackboard.write';

export const writeCapability = (topic: string): string => `${WRITE}.${topic}`;
export const readCapability = (topic: string): string => `${READ}.${topic}`;

export function mayWrite(caps: readonly string[], topic: string): boolean {
  return allows(caps, WRITE) || allows(caps, writeCapability(topic));
}

export function mayRead(caps: readonly string[], topic: string): boolean {
  return allows(caps, READ) || allows(caps, readCapability(topic));
}

/**
 * What a caller may read: `'all'`, or the `blackboard.read.` patterns that
 * grant single topics (empty: nothing). Queries and notifications are filtered by it.
 */
export function readScope(caps: readonly string[]): 'all' | string[] {
  if (allows(caps, READ)) return 'all';
  return caps.filter((p) => p.startsWith(`${READ}.`));
}

/** Holds no read grant at all (neither `blackboard.read` nor any `blackboard.read.<topic>`). */
export function readsNothing(caps: readonly string[]): boolean {
  const scope = readScope(caps);
  return scope !== 'all' && scope.length === 0;
}
