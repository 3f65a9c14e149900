// Failover's side of exactly-once effects: calls the lost node had in flight at
// its last replicated checkpoint may have run there, with no outcome anyone
// can read now. They are journaled here as dispatched-without-outcome before the
// actor starts, so resuming them follows the journal's in-doubt rules (retried
// with the same key if idempotent, compensated, or held for a person) instead of
// running as new calls.

import type { RootDatabase } from 'lmdb';
import { canonicalJson, sha256Hex } from '../../base/canonical.js';
import { encodeEntry, freshMeta, type ActorMeta } from '../effects/record.js';
import { EffectStore, type Append } from '../effects/store.js';
import type { Idempotence } from '../effects/types.js';

export interface PresumedCall {
  key: string;
  /** The arguments as the handler validated them (what the journal hashes). */
  args: unknown;
  idempotent: Idempotence;
}

/**
 * Journal `calls` of `actor` as dispatched with no outcome. Only for an actor whose
 * journal here is empty (it just arrived): writing beside a live journal chain would
 * fork it. Returns how many were written.
 */
export async function presumeInDoubt(db: RootDatabase, actor: string, calls: readonly PresumedCall[], at: number): Promise<number> {
  if (calls.length === 0) return 0;
  const store = EffectStore.open(db);
  if (store.meta(actor) !== undefined || store.hasEntries(actor)) return 0;
  let meta: ActorMeta = freshMeta(actor);
  const appends: Append[] = [];
  for (const call of calls) {
    const seq = meta.head.seq + 1;
    const { entry, bytes } = encodeEntry({
      v: 1,
      actor,
      seq,
      key: call.key,
      kind: 'dispatched',
      at,
      args: sha256Hex(canonicalJson(call.args)),
      attempt: 1,
      idempotent: call.idempotent,
      prev: meta.head.hash,
    });
    meta = { ...meta, head: { seq, hash: entry.hash } };
    appends.push({ actor, key: call.key, seq, bytes, open: true, meta });
  }
  await store.write(appends);
  await store.flushed();
  return appends.length;
}
