// What a tool listed when a server is mounted starts as, given the pins approved
// before (passed as `pins`, or kept in the node's store from an earlier mount):
// with no pins at all the mount trusts what it sees first (active, and pinned
// from now on); a tool whose definition hashes as pinned is active; one that
// differs is suspended (with the approved definition, when it was kept, so the
// change can be reviewed part by part); one not pinned is pending.

import type { ApprovedTool } from '../tools/approved-store.js';
import type { Entry } from './mount-types.js';
import { changedParts, PIN_PARTS, type PinnedTool, type ToolPin } from './pin.js';

export interface StartingEntry {
  entry: Entry;
  /** A definition trusted or matched now that the store does not hold yet: keep it. */
  remember: boolean;
}

export function startingEntry(
  remote: string,
  local: string,
  def: PinnedTool,
  pin: ToolPin,
  pins: Readonly<Record<string, string>> | undefined,
  record: ApprovedTool | undefined,
): StartingEntry {
  const base = { remote, local, seen: pin, listed: def, registered: false };
  const expected = pins?.[local] ?? pins?.[remote];
  // The kept record of the definition the pins name (or of what is listed, trusted now).
  const known = record !== undefined && record.hash === (expected ?? pin.hash) ? record : undefined;
  if (pins === undefined || expected === pin.hash) {
    return { entry: { ...base, state: 'active', approved: pin, approvedDef: def, ...(known?.version === undefined ? {} : { version: known.version }) }, remember: known === undefined };
  }
  if (expected === undefined) return { entry: { ...base, state: 'pending' }, remember: false };
  const parts = partsOf(known);
  return {
    entry: {
      ...base,
      state: 'suspended',
      approved: parts ? { hash: expected, parts } : { hash: expected },
      ...(known?.definition === undefined ? {} : { approvedDef: known.definition as unknown as PinnedTool, ...(known.version === undefined ? {} : { version: known.version }) }),
      changed: parts ? changedParts({ hash: expected, parts }, pin) : [],
    },
    remember: false,
  };
}

/** The approved hashes the store holds for a prefix, by registry name (undefined when it holds none). */
export function storedPins(records: readonly ApprovedTool[]): Record<string, string> | undefined {
  if (records.length === 0) return undefined;
  return Object.fromEntries(records.map((r) => [r.name, r.hash]));
}

function partsOf(record: ApprovedTool | undefined): ToolPin['parts'] | undefined {
  const p = record?.parts;
  if (p === undefined || PIN_PARTS.some((k) => typeof p[k] !== 'string')) return undefined;
  return p as ToolPin['parts'];
}
