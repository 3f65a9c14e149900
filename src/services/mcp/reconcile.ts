// What a fresh tools/list means for a mount, as a pure function: which tools
// are new (pending approval), which changed since they were approved
// (suspended), which came back as approved (restored), which left (removed).
// The mount applies the plan: registers, unregisters, audits, emits.

import { changedParts, type PinPart, type PinnedTool, type ToolPin } from './pin.js';

export type ToolState = 'active' | 'suspended' | 'pending' | 'removed' | 'refused';

/** What reconcile needs to know about a tool the mount already tracks. */
export interface TrackedTool {
  state: ToolState;
  /** The approved pin, if the tool was ever approved (at mount, or by `approve`); a hash-only pin (from `pins`) has no parts. */
  approved?: { hash: string; parts?: ToolPin['parts'] } | undefined;
  /** The pin of the definition last listed. */
  seen?: ToolPin | undefined;
}

export interface ListedTool {
  def: PinnedTool;
  /** The pin, or why the tool cannot be pinned. */
  pin: ToolPin | Error;
}

export type Change =
  | { kind: 'added'; remote: string; tool: ListedTool & { pin: ToolPin } }
  /** An approved tool listed with another definition: suspend it (`already`: it was suspended, and changed again). */
  | { kind: 'changed'; remote: string; tool: ListedTool & { pin: ToolPin }; parts: PinPart[]; already: boolean }
  /** A suspended or removed tool listed again exactly as approved. */
  | { kind: 'restored'; remote: string; tool: ListedTool & { pin: ToolPin } }
  /** A pending tool listed with another definition than the one awaiting approval. */
  | { kind: 'revised'; remote: string; tool: ListedTool & { pin: ToolPin } }
  | { kind: 'removed'; remote: string; forget: boolean }
  | { kind: 'unpinnable'; remote: string; tool: ListedTool; error: Error };

/** The changes that turn `tracked` into what `listed` says, in listing order, removals last. */
export function reconcile(tracked: ReadonlyMap<string, TrackedTool>, listed: readonly ListedTool[]): Change[] {
  const changes: Change[] = [];
  const present = new Set<string>();
  for (const tool of listed) {
    const remote = tool.def.name;
    if (present.has(remote)) continue; // a server listing a name twice: the first listing counts
    present.add(remote);
    const known = tracked.get(remote);
    if (tool.pin instanceof Error) {
      if (known?.state !== 'refused') changes.push({ kind: 'unpinnable', remote, tool, error: tool.pin });
      continue;
    }
    const pinned = tool as ListedTool & { pin: ToolPin };
    if (!known || known.state === 'refused') {
      changes.push({ kind: 'added', remote, tool: pinned });
      continue;
    }
    if (known.approved === undefined) {
      // Pending: still awaiting its first approval, now of the definition listed last.
      if (known.seen?.hash !== pinned.pin.hash) changes.push({ kind: 'revised', remote, tool: pinned });
      continue;
    }
    if (pinned.pin.hash === known.approved.hash) {
      if (known.state !== 'active') changes.push({ kind: 'restored', remote, tool: pinned });
      continue;
    }
    // Suspended already for this very definition: nothing new to say.
    if (known.state === 'suspended' && known.seen?.hash === pinned.pin.hash) continue;
    changes.push({ kind: 'changed', remote, tool: pinned, parts: known.approved.parts ? changedParts({ hash: known.approved.hash, parts: known.approved.parts }, pinned.pin) : [], already: known.state === 'suspended' });
  }
  for (const [remote, known] of tracked) {
    if (present.has(remote) || known.state === 'removed') continue;
    // An approved tool's pin is kept, so it comes back active if it returns unchanged.
    changes.push({ kind: 'removed', remote, forget: known.approved === undefined });
  }
  return changes;
}
