// Which entries a compaction may drop: the longest prefix of an actor's chain whose
// entries all belong to turns covered by the checkpoint and to calls that are settled.
// Only a prefix, so the chain that remains is verifiable from the last dropped hash.

import { corrupt, EFFECT_DBS, type EffectStore } from './store.js';
import { parseIdempotencyKey } from './key.js';
import { decodeEntry, type ActorMeta } from './record.js';
import type { ChainAnchor } from './types.js';

export interface CompactionPlan {
  /** Positions to remove. */
  seqs: number[];
  /** Keys whose every entry is removed, to drop from the key index. */
  keys: string[];
  /** The new anchor: the last entry removed (the old anchor if none is). */
  anchor: ChainAnchor;
}

/**
 * Plan over committed entries. Stops at the first entry of a later turn, of a call in
 * doubt or under way (`busy`), or past the committed head. A broken link in the prefix is
 * a StorageError: compaction must not erase the evidence of damage.
 */
export function planCompaction(store: EffectStore, actor: string, meta: ActorMeta, upToTurn: number, busy: (key: string) => boolean): CompactionPlan {
  const seqs: number[] = [];
  const lastSeqOf = new Map<string, number>();
  let anchor = meta.anchor;
  for (const { seq, bytes } of store.rawEntries(actor, meta.anchor.seq + 1)) {
    if (seq !== anchor.seq + 1) break;
    const entry = decodeEntry(bytes);
    if (typeof entry === 'string') throw corrupt(EFFECT_DBS.entries, `${actor}#${seq}`, `cannot compact ${JSON.stringify(actor)}: entry ${seq} is unreadable: ${entry}`, { actor, seq });
    const { key, prev } = entry.header;
    if (prev !== anchor.hash || entry.header.seq !== seq || entry.header.actor !== actor) {
      throw corrupt(EFFECT_DBS.entries, key, `cannot compact ${JSON.stringify(actor)}: entry ${seq} does not follow entry ${anchor.seq}; run verify`, { actor, seq });
    }
    let turn: number;
    try {
      turn = parseIdempotencyKey(key).turn;
    } catch {
      throw corrupt(EFFECT_DBS.entries, key, `cannot compact ${JSON.stringify(actor)}: entry ${seq} names no idempotency key`, { actor, seq });
    }
    if (turn > upToTurn || busy(key) || store.openSeq(key) !== undefined) break;
    seqs.push(seq);
    lastSeqOf.set(key, seq);
    anchor = { seq, hash: entry.hash };
  }
  // A key leaves the index only if its latest entry goes too (an earlier dispatch may go alone).
  const keys = [...lastSeqOf.keys()].filter((key) => {
    const latest = store.latestSeq(key);
    return latest === undefined || latest <= anchor.seq;
  });
  return { seqs, keys, anchor };
}
