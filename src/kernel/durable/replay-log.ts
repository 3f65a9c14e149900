// What replay reads: a persistent actor's recorded history, checked before it is
// trusted. The turn log must follow its hash chain from the replay base (and
// agree with the latest checkpoint), and the actor's effect-journal chain must
// verify; the first break is reported with the turn it belongs to. The journal
// view gives each call's recorded argument hash and outcome by key.

import type { RootDatabase } from 'lmdb';
import { canonicalJson, sha256Hex } from '../../base/canonical.js';
import { EffectCompensated, EffectFailed } from '../effects/errors.js';
import { keyPrefix, parseIdempotencyKey } from '../effects/key.js';
import { unpackPayload, type EntryKind } from '../effects/record.js';
import { EffectStore } from '../effects/store.js';
import type { FailureData } from '../effects/types.js';
import { verifyChains } from '../effects/verify.js';
import { chainOf } from './actor.js';
import type { ActorRecord, CheckpointRecord, TurnRecord } from './records.js';
import { DurableStore, GENESIS_CHAIN } from './store.js';

/** A break in one of the hash chains: which log, the turn it belongs to (when known), and what is wrong. */
export interface ChainBreak {
  log: 'turns' | 'effects';
  turn: number | null;
  problem: string;
}

/** A turn as recorded, with its message decoded. */
export interface RecordedTurn {
  record: TurnRecord;
  message: { type: string } & Record<string, unknown>;
}

export interface RecordedHistory {
  registration: ActorRecord | undefined;
  base: CheckpointRecord | undefined;
  latest: CheckpointRecord | undefined;
  /** Turns after the base, in order (up to the first break, if any). */
  turns: RecordedTurn[];
  breaks: ChainBreak[];
}

/** One journaled call: its latest entry. */
export interface JournaledCall {
  key: string;
  turn: number;
  kind: EntryKind;
  /** SHA-256 of the canonical JSON of the arguments it ran with. */
  args: string;
  /** Position of the latest entry in the actor's chain (outcomes settle in this order). */
  seq: number;
  /** Clock time of the latest entry. */
  at: number;
  outcome(): { value: unknown } | { error: unknown } | undefined;
}

/** Read and check an actor's recorded history. Reads only: nothing is written. */
export function readHistory(db: RootDatabase, actor: string): RecordedHistory {
  const store = new DurableStore(db);
  const registration = store.registration(actor);
  const base = store.checkpointOf(actor, 'base');
  const latest = store.checkpointOf(actor, 'latest');
  const turns: RecordedTurn[] = [];
  const breaks: ChainBreak[] = [];
  const broken = (turn: number, problem: string): void => void breaks.push({ log: 'turns', turn, problem });
  let prev = base?.chain ?? GENESIS_CHAIN;
  let expected = (base?.turn ?? 0) + 1;
  for (const entry of store.turnLog(actor, base?.turn ?? 0)) {
    if ('error' in entry) {
      broken(entry.turn, `turn ${entry.turn} of "${actor}" is unreadable: ${entry.error.message}`);
      break;
    }
    const { chain, ...rest } = entry.record;
    if (entry.turn !== expected) {
      broken(expected, `turn ${expected} of "${actor}" is missing from the turn log (the next stored turn is ${entry.turn})`);
      break;
    }
    if (chainOf(prev, rest) !== chain) {
      broken(entry.turn, `turn ${entry.turn} of "${actor}" does not follow the chain: it was altered, or a turn before it was replaced`);
      break;
    }
    let message: RecordedTurn['message'];
    try {
      message = store.payload(actor, entry.record.body) as RecordedTurn['message'];
    } catch (err) {
      broken(entry.turn, `the message of turn ${entry.turn} of "${actor}" is unreadable: ${(err as Error).message}`);
      break;
    }
    turns.push({ record: entry.record, message });
    prev = chain;
    expected++;
  }
  if (breaks.length === 0 && latest && base && latest.turn > base.turn) {
    const at = turns.find((t) => t.record.turn === latest.turn);
    if (!at) broken(expected, `the turn log of "${actor}" ends at turn ${expected - 1}, but its latest checkpoint covers turn ${latest.turn}: turns were removed`);
    else if (at.record.chain !== latest.chain) broken(latest.turn, `turn ${latest.turn} of "${actor}" does not match the chain its latest checkpoint recorded`);
  }
  return { registration, base, latest, turns, breaks };
}

/** The actor's side-effect journal, read-only: its chain verified, its calls by key. */
export class JournalView {
  private readonly store: EffectStore;

  constructor(
    db: RootDatabase,
    readonly actor: string,
  ) {
    this.store = EffectStore.open(db);
  }

  /** The first break in the actor's journal chain, if any. */
  verify(): ChainBreak | undefined {
    const result = verifyChains(this.store, this.actor);
    if (result.ok) return undefined;
    const key = result.key ?? (result.seq === undefined ? undefined : this.keyAt(result.seq));
    return { log: 'effects', turn: turnOf(key), problem: `effect journal of "${this.actor}": ${result.problem}` };
  }

  /** The latest journal entry of `key`, or undefined if none is stored. */
  call(key: string): JournaledCall | undefined {
    const seq = this.store.latestSeq(key);
    if (seq === undefined) return undefined;
    const entry = this.store.entry(this.actor, seq, key);
    if (!entry) return undefined;
    const h = entry.header;
    return {
      key,
      turn: parseIdempotencyKey(key).turn,
      kind: h.kind,
      args: h.args,
      seq,
      at: h.at,
      // The same values and errors the journal hands a recovering actor (EffectJournal.run replaying).
      outcome: () => {
        if (h.kind === 'completed') return { value: unpackPayload(entry.payload!) };
        if (h.kind === 'failed') return { error: new EffectFailed(key, unpackPayload(entry.payload!) as FailureData, true) };
        if (h.kind === 'compensated') return { error: new EffectCompensated(key, h.attempt) };
        return undefined;
      },
    };
  }

  /** Every key of the actor still journaled (compacted turns are gone), with its turn. */
  keys(): Array<{ key: string; turn: number }> {
    const out: Array<{ key: string; turn: number }> = [];
    for (const key of this.store.indexed('keys', keyPrefix(this.actor))) {
      const turn = turnOf(key);
      if (turn !== null) out.push({ key, turn });
    }
    return out;
  }

  /** Turns up to this one are compacted (covered by a checkpoint), -1 when none are. */
  compactedThrough(): number {
    return this.store.meta(this.actor)?.compactedThrough ?? -1;
  }

  /** Best effort: the key named by a (possibly damaged) stored entry. */
  private keyAt(seq: number): string | undefined {
    for (const { seq: at, bytes } of this.store.rawEntries(this.actor, seq)) {
      if (at !== seq || bytes.length < 36) return undefined;
      const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(32);
      try {
        const header = JSON.parse(Buffer.from(bytes.subarray(36, 36 + length)).toString('utf8')) as { key?: unknown };
        return typeof header.key === 'string' ? header.key : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

/** The journal's hash of call arguments (SHA-256 of their canonical JSON). */
export function argsHash(args: unknown): string {
  return sha256Hex(canonicalJson(args));
}

/** The turn an idempotency key belongs to; null for anything that is not a key. */
export function turnOf(key: string | undefined): number | null {
  if (key === undefined) return null;
  try {
    return parseIdempotencyKey(key).turn;
  } catch {
    return null;
  }
}
