// Verification of the side-effect journal as stored: each actor's chain link by link
// from its anchor to its head, then the key and open-call indexes against the chain.
// Reports the first problem with the actor, the position, the key when it can still be
// read, and what is wrong; never throws on damaged records.

import { keyPrefix, parseIdempotencyKey } from './key.js';
import { decodeEntry, type ActorMeta, type EntryKind } from './record.js';
import type { EffectStore } from './store.js';
import type { VerifyResult } from './types.js';

type Failure = Extract<VerifyResult, { ok: false }>;

export function verifyChains(store: EffectStore, only?: string): VerifyResult {
  const actors = only === undefined ? store.allActors() : [only];
  let entries = 0;
  for (const actor of actors) {
    const r = verifyActor(store, actor);
    if (typeof r !== 'number') return r;
    entries += r;
  }
  return { ok: true, actors: actors.length, entries };
}

/** The number of entries checked, or the first problem. */
function verifyActor(store: EffectStore, actor: string): number | Failure {
  const fail = (problem: string, seq?: number, key?: string): Failure => ({
    ok: false,
    actor,
    ...(seq === undefined ? {} : { seq }),
    ...(key === undefined ? {} : { key }),
    problem,
  });
  let meta: ActorMeta | undefined;
  try {
    meta = store.meta(actor);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (meta === undefined) return store.hasEntries(actor) ? fail('its entries are stored but its head record is missing') : 0;

  const latest = new Map<string, { seq: number; kind: EntryKind }>();
  let prev = meta.anchor;
  for (const { seq, bytes } of store.rawEntries(actor, meta.anchor.seq + 1)) {
    const expected = prev.seq + 1;
    if (seq > meta.head.seq) return fail(`entry ${seq} lies past the head record, which ends the chain at ${meta.head.seq}`, seq);
    if (seq !== expected) return fail(`entry ${expected} is missing (the next stored entry is ${seq})`, expected);
    const entry = decodeEntry(bytes);
    if (typeof entry === 'string') return fail(`entry ${seq} is damaged: ${entry}`, seq);
    const h = entry.header;
    if (h.actor !== actor || h.seq !== seq) {
      return fail(`the entry stored at ${seq} is entry ${h.seq} of ${JSON.stringify(h.actor)}: entries were reordered or moved`, seq, h.key);
    }
    if (h.prev !== prev.hash) {
      const what = prev.seq === meta.anchor.seq ? `the chain's anchor (entry ${prev.seq})` : `entry ${prev.seq}`;
      return fail(`entry ${seq} does not follow ${what}: its prev hash differs (an entry was replaced, inserted or removed)`, seq, h.key);
    }
    let keyActor: string | undefined;
    try {
      keyActor = parseIdempotencyKey(h.key).actor;
    } catch {
      keyActor = undefined;
    }
    if (keyActor !== actor) return fail(`entry ${seq} carries ${JSON.stringify(h.key)}, which is not a key of this actor`, seq, h.key);
    latest.set(h.key, { seq, kind: h.kind });
    prev = { seq, hash: entry.hash };
  }
  if (prev.seq < meta.head.seq) return fail(`truncated: the chain ends at entry ${prev.seq} but its head record says ${meta.head.seq}`, prev.seq + 1);
  if (prev.hash !== meta.head.hash) return fail(`entry ${prev.seq} does not match the hash in the head record (the last entry was replaced)`, prev.seq);

  const problem = indexProblem(store, actor, latest);
  return problem === undefined ? prev.seq - meta.anchor.seq : fail(problem.problem, problem.seq, problem.key);
}

/** The key index must point every key at its latest entry; the open-call index must list exactly the keys left dispatched. */
function indexProblem(store: EffectStore, actor: string, latest: Map<string, { seq: number; kind: EntryKind }>): { problem: string; seq?: number; key?: string } | undefined {
  try {
    for (const [key, { seq, kind }] of latest) {
      const indexed = store.latestSeq(key);
      if (indexed !== seq) return { problem: `the key index points ${key} at ${indexed === undefined ? 'nothing' : `entry ${indexed}`}, but its latest entry is ${seq}`, seq, key };
      const open = store.openSeq(key);
      if (kind === 'dispatched' ? open !== seq : open !== undefined) {
        return { problem: `the open-call index ${open === undefined ? 'omits' : 'lists'} ${key}, whose latest entry ${seq} is ${kind}`, seq, key };
      }
    }
    const prefix = keyPrefix(actor);
    for (const which of ['keys', 'open'] as const) {
      for (const key of store.indexed(which, prefix)) {
        if (!latest.has(key)) return { problem: `the ${which === 'keys' ? 'key' : 'open-call'} index lists ${key}, which has no entry in the chain`, key };
      }
    }
  } catch (err) {
    const details = (err as { details?: { key?: unknown } }).details;
    return { problem: (err as Error).message, ...(typeof details?.key === 'string' ? { key: details.key } : {}) };
  }
  return undefined;
}
