// The side-effect journal: every side-effecting call runs through `run` under an
// idempotency key. Its `dispatched` entry is committed before the call starts and its
// outcome before the caller sees it, so after a crash a completed call replays its
// journaled result, a failed one its failure, and one whose outcome was lost is retried
// (idempotent) or held in doubt for compensation or a human, never silently re-run.

import type { RootDatabase } from 'lmdb';
import { CanonicalJsonError, canonicalJson, sha256Hex } from '../../base/canonical.js';
import type { Clock } from '../../base/clock.js';
import { EffectError, ErrorCodes, StorageError } from '../../base/errors.js';
import { EffectCodes } from './codes.js';
import { planCompaction } from './compact.js';
import { EffectCompensated, EffectFailed, EffectInDoubt, failureData } from './errors.js';
import { keyPrefix, parseIdempotencyKey, type CallSite } from './key.js';
import { encodeEntry, freshMeta, packPayload, unpackPayload, type ActorMeta, type Entry, type EntryHeader } from './record.js';
import { corrupt, EFFECT_DBS, EffectStore } from './store.js';
import type { CallContext, CallState, CompactResult, Durability, FailureData, InDoubtCall, RunOptions, VerifyResult } from './types.js';
import { verifyChains } from './verify.js';

export interface EffectJournalOptions {
  db: RootDatabase;
  clock: Clock;
  /** Default for calls that do not say; `sync` unless told. */
  durability?: Durability;
}

/** How an outcome is settled by hand: a result, a failure, or "compensated". */
export type Resolution = { result: unknown } | { failure: FailureData } | { compensated: true };

/** What a write waits for before the caller goes on. */
type Wait = 'flush' | 'commit' | 'none';
type Fields = Pick<EntryHeader, 'kind' | 'args' | 'attempt' | 'idempotent' | 'by'>;

export class EffectJournal {
  /** Each touched actor's chain head, ahead of LMDB by the writes still queued. */
  private readonly metas = new Map<string, ActorMeta>();
  /** Each key's latest entry while its write is queued and not yet committed. */
  private readonly unsettled = new Map<string, Entry>();
  /** Keys with a call (or a resolution) under way in this journal. */
  private readonly running = new Map<string, { promise: Promise<unknown>; argsHash: string; resolving: boolean }>();
  private lastWrite: Promise<unknown> = Promise.resolve();
  private failure: unknown;

  private constructor(
    private readonly store: EffectStore,
    private readonly clock: Clock,
    readonly durability: Durability,
  ) {}

  /** Open the journal in `db` (sub-databases named in EFFECT_DBS). Nothing is read until used. */
  static open(options: EffectJournalOptions): EffectJournal {
    const durability = options.durability ?? 'sync';
    if (durability !== 'sync' && durability !== 'async') {
      throw new EffectError(ErrorCodes.invalidOptions, `durability must be "sync" or "async", not ${JSON.stringify(durability)}`, { field: 'durability' });
    }
    return new EffectJournal(EffectStore.open(options.db), options.clock, durability);
  }

  /**
   * Run `fn` at most once under `key` (a key from idempotencyKey), or replay its journaled
   * outcome: the result (as decoded from the journal, live or replayed alike), or an
   * EffectFailed / EffectCompensated. A key found dispatched without an outcome is in
   * doubt: retried if `idempotent`, compensated if `compensate` is given, else EffectInDoubt.
   * A second run of a key already running here joins the first; a run of a key being
   * resolved by hand waits for the resolution and replays it.
   */
  run<T>(key: string, options: RunOptions, fn: (call: CallContext) => T | Promise<T>): Promise<T> {
    try {
      this.throwIfFailed();
      const site = parseIdempotencyKey(key);
      const argsHash = hashArgs(options.args);
      const resolving = this.running.get(key);
      if (resolving?.resolving) {
        // An operator's resolution under way: once it is journaled, this run replays it.
        const again = (): Promise<T> => this.run(key, options, fn);
        return resolving.promise.then(again, again);
      }
      return this.exclusive(key, argsHash, () => this.start(key, site, argsHash, options, fn));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Calls dispatched with no outcome and not running here, in key order; only this actor's if given. */
  inDoubt(actor?: string): InDoubtCall[] {
    const out: InDoubtCall[] = [];
    for (const key of this.store.indexed('open', actor === undefined ? 'ik1/' : keyPrefix(actor))) {
      if (this.running.has(key) || this.unsettled.has(key)) continue;
      const site = siteOf(key, EFFECT_DBS.open);
      const entry = this.store.entry(site.actor, this.store.openSeq(key)!, key);
      if (entry?.header.kind !== 'dispatched') throw corrupt(EFFECT_DBS.open, key, `the open-call index lists ${key}, but its entry is ${entry ? entry.header.kind : 'missing'}`);
      out.push(inDoubtCall(key, site, entry));
    }
    return out;
  }

  /** Settle an in-doubt call by hand (an operator, an approval item): later runs replay this outcome. */
  resolve(key: string, resolution: Resolution, by: string): Promise<void> {
    try {
      this.throwIfFailed();
      const site = parseIdempotencyKey(key);
      const found = this.running.has(key) ? undefined : this.latest(key, site.actor);
      if (found?.header.kind !== 'dispatched') {
        throw new EffectError(EffectCodes.notInDoubt, `cannot resolve ${key}: it is ${this.lookup(key).state}, not in doubt`, { field: 'key' });
      }
      const { args, attempt } = found.header;
      return this.exclusive(key, args, async () => {
        if ('result' in resolution) await this.settle(site.actor, key, { kind: 'completed', args, attempt, by }, packPayload(resolution.result), 'flush');
        else if ('failure' in resolution) await this.settle(site.actor, key, { kind: 'failed', args, attempt, by }, packFailure(resolution.failure), 'flush');
        else await this.settle(site.actor, key, { kind: 'compensated', args, attempt, by }, undefined, 'flush');
      }, true);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Where a key stands, without running anything. */
  lookup(key: string): CallState {
    const site = parseIdempotencyKey(key);
    if (this.running.has(key)) return { state: 'running' };
    const found = this.latest(key, site.actor);
    if (found === undefined) return site.turn <= this.meta(site.actor).compactedThrough ? { state: 'compacted' } : { state: 'new' };
    const { kind, attempt } = found.header;
    if (kind === 'dispatched') return { state: 'in-doubt', call: inDoubtCall(key, site, found) };
    if (kind === 'failed') return { state: 'failed', attempt, failure: decodeFailure(key, found) };
    return { state: kind, attempt };
  }

  /**
   * Check every committed chain (or one actor's) link by link, against its head record
   * and the indexes; report the first break. Await flushed() first to include queued writes.
   */
  verify(actor?: string): VerifyResult {
    return verifyChains(this.store, actor);
  }

  /**
   * Drop the actor's entries of turns up to `upToTurn` (covered by a checkpoint): the
   * longest prefix of its chain whose calls are all settled, so the rest stays verifiable
   * from the returned anchor. Keys of those turns then refuse to run (EFFECT_COMPACTED).
   */
  async compact(actor: string, upToTurn: number): Promise<CompactResult> {
    if (!Number.isSafeInteger(upToTurn) || upToTurn < 0) {
      throw new EffectError(ErrorCodes.invalidOptions, `upToTurn must be a non-negative safe integer, not ${upToTurn}`, { field: 'upToTurn' });
    }
    keyPrefix(actor); // validates the actor id
    this.throwIfFailed();
    await this.waitFor(this.lastWrite, 'commit'); // plan over committed entries only
    this.throwIfFailed();
    const meta = this.meta(actor);
    const plan = planCompaction(this.store, actor, meta, upToTurn, (key) => this.running.has(key) || this.unsettled.has(key));
    const next: ActorMeta = { ...meta, anchor: plan.anchor, compactedThrough: Math.max(meta.compactedThrough, upToTurn) };
    this.metas.set(actor, next);
    await this.waitFor(this.track(this.store.write([], [{ actor, seqs: plan.seqs, keys: plan.keys, meta: next }])), 'flush');
    return { dropped: plan.seqs.length, anchor: plan.anchor, compactedThrough: next.compactedThrough };
  }

  /**
   * Erase everything journaled for an actor that is gone for good (its id may be used
   * again by a new actor, whose keys must not replay the old one's outcomes). Calls still
   * running for it finish first.
   */
  async forget(actor: string): Promise<number> {
    const prefix = keyPrefix(actor);
    this.throwIfFailed();
    for (const [key, r] of this.running) if (key.startsWith(prefix)) await r.promise.catch(() => undefined);
    await this.waitFor(this.lastWrite, 'commit');
    this.metas.delete(actor);
    const write = this.store.erase(actor, prefix);
    const dropped = await this.track(write);
    await this.waitFor(Promise.resolve(), 'flush');
    return dropped as number;
  }

  /** Resolves when every journal write queued so far is committed and flushed to disk. */
  async flushed(): Promise<void> {
    await this.waitFor(this.lastWrite, 'flush');
    this.throwIfFailed();
  }

  private exclusive<T>(key: string, argsHash: string, work: () => Promise<T>, resolving = false): Promise<T> {
    const running = this.running.get(key);
    if (running !== undefined) {
      if (running.argsHash !== argsHash) throw argsMismatch(key);
      return running.promise as Promise<T>;
    }
    const promise = work();
    const mine = { promise, argsHash, resolving };
    this.running.set(key, mine);
    const done = (): void => {
      if (this.running.get(key) === mine) this.running.delete(key);
    };
    promise.then(done, done);
    return promise;
  }

  private async start<T>(key: string, site: CallSite, argsHash: string, options: RunOptions, fn: (call: CallContext) => T | Promise<T>): Promise<T> {
    const durability = options.durability ?? this.durability;
    const idempotent = options.idempotent ?? false;
    const found = this.latest(key, site.actor);
    let attempt = 1;
    if (found !== undefined) {
      if (found.header.args !== argsHash) throw argsMismatch(key);
      switch (found.header.kind) {
        case 'completed':
          return decodeResult(key, found) as T;
        case 'failed':
          throw new EffectFailed(key, decodeFailure(key, found), true);
        case 'compensated':
          throw new EffectCompensated(key, found.header.attempt);
        case 'dispatched': {
          const call = inDoubtCall(key, site, found);
          if (idempotent === false) return this.compensate(call, options, durability);
          attempt = found.header.attempt + 1;
        }
      }
    } else if (site.turn <= this.meta(site.actor).compactedThrough) {
      throw new EffectError(EffectCodes.compacted, `${key} belongs to turn ${site.turn}, which is compacted (covered by a checkpoint); it must not run again`, { field: 'key' });
    }
    const dispatched: Fields = { kind: 'dispatched', args: argsHash, attempt, idempotent };
    await this.append(site.actor, key, dispatched, undefined, durability === 'sync' ? 'flush' : 'commit');
    const outcome = durability === 'sync' ? 'flush' : 'none';
    let value: unknown;
    try {
      value = await fn({ key, attempt });
    } catch (thrown) {
      const failure = failureData(thrown);
      await this.settle(site.actor, key, { kind: 'failed', args: argsHash, attempt }, packFailure(failure), outcome);
      throw new EffectFailed(key, failure, false, { cause: thrown });
    }
    let bytes: Uint8Array;
    try {
      bytes = packPayload(value);
    } catch (cause) {
      const failure = { name: 'EffectError', code: EffectCodes.unencodableResult, message: `the result cannot be journaled: ${(cause as Error).message}` };
      await this.settle(site.actor, key, { kind: 'failed', args: argsHash, attempt }, packFailure(failure), outcome);
      throw new EffectFailed(key, failure, false, { cause });
    }
    const result = unpackPayload(bytes) as T; // the caller sees exactly what a replay will return
    await this.settle(site.actor, key, { kind: 'completed', args: argsHash, attempt }, bytes, outcome);
    return result;
  }

  private async compensate(call: InDoubtCall, options: RunOptions, durability: Durability): Promise<never> {
    if (options.compensate === undefined) throw new EffectInDoubt(call);
    try {
      await options.compensate(call, options.args);
    } catch (cause) {
      throw new EffectInDoubt(call, { cause });
    }
    const fields: Fields = { kind: 'compensated', args: call.argsHash, attempt: call.attempt };
    await this.settle(call.actor, call.key, fields, undefined, durability === 'sync' ? 'flush' : 'none');
    throw new EffectCompensated(call.key, call.attempt);
  }

  private settle(actor: string, key: string, fields: Fields, payload: Uint8Array | undefined, wait: Wait): Promise<void> {
    return this.append(actor, key, fields, payload, wait);
  }

  /** Chain one entry onto the actor's head and queue its write (one transaction with the indexes). */
  private async append(actor: string, key: string, fields: Fields, payload: Uint8Array | undefined, wait: Wait): Promise<void> {
    this.throwIfFailed();
    const meta = this.meta(actor);
    const seq = meta.head.seq + 1;
    const { entry, bytes } = encodeEntry({ v: 1, actor, seq, key, at: this.clock.now(), ...withoutUndefined(fields), prev: meta.head.hash }, payload);
    const next: ActorMeta = { ...meta, head: { seq, hash: entry.hash } };
    this.metas.set(actor, next);
    this.unsettled.set(key, entry);
    const write = this.track(this.store.write([{ actor, key, seq, bytes, open: fields.kind === 'dispatched', meta: next }]));
    write.then(
      () => {
        if (this.unsettled.get(key) === entry) this.unsettled.delete(key);
      },
      () => undefined,
    );
    await this.waitFor(write, wait);
  }

  private track(write: Promise<unknown>): Promise<unknown> {
    this.lastWrite = write;
    write.then(undefined, (cause: unknown) => {
      this.failure ??= cause;
    });
    return write;
  }

  private async waitFor(write: Promise<unknown>, wait: Wait): Promise<void> {
    if (wait === 'none') return;
    try {
      await write;
      if (wait === 'flush') await this.store.flushed();
    } catch (cause) {
      this.failure ??= cause;
      this.throwIfFailed();
    }
  }

  /** A key's latest entry: queued, else committed. */
  private latest(key: string, actor: string): Entry | undefined {
    const queued = this.unsettled.get(key);
    if (queued !== undefined) return queued;
    const seq = this.store.latestSeq(key);
    if (seq === undefined) return undefined;
    const entry = this.store.entry(actor, seq, key);
    if (entry === undefined) throw corrupt(EFFECT_DBS.keys, key, `the key index points ${key} at entry ${seq} of ${JSON.stringify(actor)}, which is not stored`);
    return entry;
  }

  private meta(actor: string): ActorMeta {
    let meta = this.metas.get(actor);
    if (meta === undefined) {
      meta = this.store.meta(actor);
      if (meta === undefined) {
        if (this.store.hasEntries(actor)) throw corrupt(EFFECT_DBS.actors, actor, `actor ${JSON.stringify(actor)} has journal entries but no head record`);
        meta = freshMeta(actor);
      }
      this.metas.set(actor, meta);
    }
    return meta;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw new StorageError(EffectCodes.writeFailed, 'the side-effect journal could not be written to LMDB; refusing further calls', { cause: this.failure });
    }
  }
}

function hashArgs(args: unknown): string {
  try {
    return sha256Hex(canonicalJson(args));
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    const field = 'args' + err.path.slice(1);
    throw new EffectError(EffectCodes.invalidArgs, `${field}: ${err.reason}; journaled calls take JSON data as arguments`, { field, cause: err });
  }
}

function argsMismatch(key: string): EffectError {
  return new EffectError(EffectCodes.argsMismatch, `${key} is journaled with other arguments: this call diverges from the recorded history`, { field: 'args' });
}

function siteOf(key: string, db: string): CallSite {
  try {
    return parseIdempotencyKey(key);
  } catch {
    throw corrupt(db, key, `${db} holds a record under ${JSON.stringify(key)}, which is not an idempotency key`);
  }
}

function inDoubtCall(key: string, site: CallSite, entry: Entry): InDoubtCall {
  const h = entry.header;
  return { key, ...site, argsHash: h.args, attempt: h.attempt, idempotent: h.idempotent ?? false, dispatchedAt: h.at };
}

function decodeResult(key: string, entry: Entry): unknown {
  try {
    return unpackPayload(entry.payload!);
  } catch (cause) {
    throw corrupt(EFFECT_DBS.entries, key, `the journaled result of ${key} does not decode: ${(cause as Error).message}`, { seq: entry.header.seq });
  }
}

function decodeFailure(key: string, entry: Entry): FailureData {
  let data: unknown;
  try {
    data = unpackPayload(entry.payload!);
  } catch {
    data = undefined;
  }
  const f = data as FailureData | undefined;
  if (typeof f !== 'object' || f === null || typeof f.name !== 'string' || typeof f.message !== 'string') {
    throw corrupt(EFFECT_DBS.entries, key, `the journaled failure of ${key} is unreadable`, { seq: entry.header.seq });
  }
  return f;
}

/** Failure data as msgpackr bytes; details that cannot be encoded are dropped rather than losing the failure. */
function packFailure(failure: FailureData): Uint8Array {
  try {
    return packPayload(failure);
  } catch {
    const { details: _dropped, ...rest } = failure;
    return packPayload(rest);
  }
}

function withoutUndefined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}
