// The durability of one persistent actor: its inbox journal (messages accepted,
// not yet handled), its turn log (messages handled, with the state digest after
// each and a hash chain over them), and its checkpoints, taken at the points its
// definition asks for. It also knows how to bring the actor back: from the last
// checkpoint, then the logged turns after it again, in order, then the inbox.

import type { ActorCell, CellDurability } from '../../actors/cell.js';
import type { ResolvedPersistence } from '../../actors/define.js';
import type { Envelope } from '../../actors/envelope.js';
import { decodeSnapshot, encodeSnapshot, type ActorSnapshot } from '../../actors/snapshot/index.js';
import { createHash } from 'node:crypto';
import type { Clock } from '../../base/clock.js';
import { stateDigest } from './digest.js';
import { StorageError } from '../../base/errors.js';
import { DurableCodes, pack, type Body, type CheckpointRecord, type InboxRecord, type TurnRecord } from './records.js';
import { GENESIS_CHAIN, prepareBody, type DurableStore } from './store.js';

/** A handled turn not yet covered by a checkpoint: what a restore delivers again. */
export interface TurnMemo {
  turn: number;
  /** Clock time the turn first ran. */
  at: number;
  /** The turn log's chain hash after this turn (what a checkpoint at this turn records). */
  chain: string;
  env: Envelope | undefined;
  crashed: boolean;
  settled: string[];
}

/** How to bring the actor back. */
export interface StartPlan {
  snapshot: ActorSnapshot | undefined;
  /** Turns after the snapshot, to run again in order. */
  turns: TurnMemo[];
  /** Accepted, never handled: queued after the turns. */
  inbox: Envelope[];
}

export interface DurableDeps {
  store: DurableStore;
  clock: Clock;
  defer: (fn: () => void) => void;
  /** Rebuild an envelope for a stored message. */
  envelope(cell: ActorCell, record: { payload: unknown; from?: string; priority?: number; deadline?: number; conversationId?: string; performative?: string }): Envelope;
  /** A write or a checkpoint failed. */
  failed(cell: ActorCell, err: unknown): void;
  /** Tokens the actor has been charged so far (kept in its checkpoints). */
  spent(id: string): number;
  /** Drop side-effect journal entries of turns up to `turn` (covered by the new replay base). */
  compact(id: string, turn: number): Promise<void>;
  /** A checkpoint was committed (replication ships it to other nodes). */
  checkpointed?(id: string, turn: number): void;
}

export class DurableActor implements CellDurability {
  private seq = 0;
  private chain = GENESIS_CHAIN;
  private latest: { snapshot: ActorSnapshot; turn: number; chain: string } | undefined;
  private baseTurn = 0;
  private since: TurnMemo[] = [];
  private sinceCheckpoint = 0;
  private scheduled = false;
  private writing: Promise<void> | undefined;
  private again = false;
  private readonly seqs = new WeakMap<Envelope, { seq: number; body: Body; written: Promise<void> }>();
  private readonly origins = new Map<string, [number, number] | null>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Checkpoints captured so far, and the number of the newest one committed (see `covered`). */
  private captures = 0;
  private committedCapture = 0;
  private coverWaiters: Array<{ need: number; resolve: (capture: number) => void }> = [];

  constructor(
    readonly cell: ActorCell,
    readonly persistence: ResolvedPersistence,
    private readonly deps: DurableDeps,
  ) {}

  // ── accepting messages ────────────────────────────────────────────────

  /** A message from persistent sender `from` at [turn, call] that this actor has already accepted. */
  isDuplicate(from: string, origin: [number, number]): boolean {
    let last = this.origins.get(from);
    if (last === undefined) {
      last = this.deps.store.origin(this.cell.id, from) ?? null;
      this.origins.set(from, last);
    }
    return last !== null && (origin[0] < last[0] || (origin[0] === last[0] && origin[1] <= last[1]));
  }

  /** A persistent sender is gone for good (its id may start a new history). */
  forgetSender(from: string): void {
    this.origins.delete(from);
  }

  /** Journal an accepted message; the promise resolves when it is durable (flushed, under sync durability). */
  accept(env: Envelope, origin?: [number, number]): Promise<void> {
    const seq = ++this.seq;
    const { body, blob } = prepareBody(env.payload);
    const record: InboxRecord = { seq, at: wholeMs(env.sentAt), body };
    if (env.from !== undefined) record.from = env.from;
    if (origin !== undefined && env.from !== undefined) {
      record.origin = origin;
      this.origins.set(env.from, origin);
    }
    if (env.priority !== undefined) record.priority = env.priority;
    if (env.deadline !== undefined) record.deadline = env.deadline;
    if (env.conversationId !== undefined) record.conversationId = env.conversationId;
    if (env.performative !== undefined) record.performative = env.performative;
    const committed = this.deps.store.accept(this.cell.id, record, blob);
    const written = this.persistence.durability === 'sync' ? committed.then(() => this.deps.store.flushed()) : committed;
    written.catch((err: unknown) => this.deps.failed(this.cell, err));
    this.seqs.set(env, { seq, body, written });
    return written;
  }

  /** Resolves when `env` is durable (immediately for a message this actor did not journal). */
  accepted(env: Envelope): Promise<void> {
    return this.seqs.get(env)?.written ?? Promise.resolve();
  }

  // ── turns and checkpoints ─────────────────────────────────────────────

  handled(cell: ActorCell, env: Envelope, crashed: boolean): void {
    const settled = cell.settled;
    cell.settled = [];
    if (cell.redelivering) return; // its turn is logged already
    const stored = this.seqs.get(env);
    const at = wholeMs(this.deps.clock.now());
    const memo: TurnMemo = { turn: cell.turn, at, chain: this.chain, env, crashed, settled };
    this.since.push(memo);
    if (stored !== undefined) {
      const { value, digest } = stateDigest(cell.getSnapshot() as { value?: unknown; context?: unknown } | undefined);
      const record: Omit<TurnRecord, 'chain'> = { turn: cell.turn, seq: stored.seq, at, body: stored.body, settled, value, digest };
      if (env.from !== undefined) (record as TurnRecord).from = env.from;
      if (crashed) (record as TurnRecord).crashed = true;
      this.chain = memo.chain = chainOf(this.chain, record);
      this.deps.store.turn(cell.id, { ...record, chain: this.chain }).catch((err: unknown) => this.deps.failed(cell, err));
    }
    const policy = this.persistence.checkpoint;
    this.sinceCheckpoint++;
    if (policy === 'turn' || (typeof policy === 'object' && this.sinceCheckpoint >= policy.everyMessages)) this.scheduleCheckpoint();
  }

  private scheduleCheckpoint(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.deps.defer(() => {
      this.scheduled = false;
      this.checkpoint().catch((err: unknown) => this.deps.failed(this.cell, err));
    });
  }

  /**
   * Capture and write a checkpoint now (one at a time; a request during a write runs after it).
   * `afterCapture` runs right after the capture, before anything else can change the actor
   * (a migration stops it there, so what is written is exactly its last state).
   */
  async checkpoint(afterCapture?: () => void): Promise<void> {
    if (this.writing) {
      this.again = true;
      await this.writing;
      if (!this.again && !afterCapture) return;
    }
    this.again = false;
    const taken = this.take(afterCapture);
    if (!taken) return;
    const capture = ++this.captures;
    const { snapshot, turn, chain, record } = taken;
    this.latest = { snapshot, turn, chain };
    this.since = this.since.filter((m) => m.turn > turn);
    this.sinceCheckpoint = 0;
    const base = turn - this.baseTurn >= this.persistence.retainTurns || (turn === 0 && this.baseTurn === 0);
    if (base) this.baseTurn = turn;
    const write = this.deps.store.checkpoint(this.cell.id, record, base);
    this.writing = write.finally(() => (this.writing = undefined));
    await this.writing;
    this.committed(capture);
    this.deps.checkpointed?.(this.cell.id, turn);
    if (base && turn > 0) {
      // Keep what a restore from this checkpoint may still ask the journal for: the calls it
      // holds in flight, the calls in flight now, and the calls of its own turn made after the
      // capture (a continuation keeps the turn's number).
      let upTo = turn - 1;
      const captured = (snapshot.extra as { calls?: Array<{ key: string }> }).calls ?? [];
      for (const key of [...captured.map((c) => c.key), ...this.inflight.keys()]) upTo = Math.min(upTo, turnOfKey(key) - 1);
      if (upTo >= 0) await this.deps.compact(this.cell.id, upTo);
    }
  }

  /**
   * A migration's checkpoint: captured and encoded now, and not written here. The target
   * stores it before it answers; this node needs no copy: should the move fail, the actor
   * carries on here from the capture, and its stored checkpoint with the turns logged since
   * (all queued before the capture) still bring it back after a crash, as they would have
   * without the move. `settled` resolves once a checkpoint write in flight at the capture
   * has settled (a move waits for it before the actor leaves: its replication and compaction
   * must not run after). Undefined if the actor is neither running nor paused;
   * `afterCapture` runs right after the capture.
   */
  captureForMove(afterCapture: () => void): { record: CheckpointRecord; snapshot: ActorSnapshot; settled: Promise<void> } | undefined {
    const taken = this.take(afterCapture);
    if (!taken) return undefined;
    const { record, snapshot } = taken;
    const settled = (this.writing ?? Promise.resolve()).then(
      () => undefined,
      () => undefined, // reported by the checkpoint that wrote it
    );
    return { record, snapshot, settled };
  }

  /**
   * The dedupe marks as of now (what a move carries): those stored, less those of senders
   * whose forgetting is not committed yet, under the marks of accepts not committed yet.
   */
  currentMarks(): Array<[string, [number, number]]> {
    const { store } = this.deps;
    const marks = new Map(store.marks(this.cell.id).filter(([from]) => !store.isForgetting(from)));
    for (const [from, at] of this.origins) if (at !== null) marks.set(from, at);
    return [...marks];
  }

  /**
   * Resolves, with its capture number, once a checkpoint captured after this call is
   * committed (one is scheduled for after the current turn if none is due): what a call
   * barrier waits for, so that the call in flight now is in the checkpoint. Never
   * resolves if the actor stops first; the caller races it with the actor's lifetime.
   */
  covered(): Promise<number> {
    const need = this.captures + 1;
    return new Promise<number>((resolve) => {
      this.coverWaiters.push({ need, resolve });
      this.scheduleCheckpoint();
    });
  }

  /** The capture number of the newest committed checkpoint (0: none in this process). */
  get lastCommittedCapture(): number {
    return this.committedCapture;
  }

  private committed(capture: number): void {
    if (capture > this.committedCapture) this.committedCapture = capture;
    if (this.coverWaiters.length === 0) return;
    const waiting = this.coverWaiters;
    this.coverWaiters = [];
    for (const w of waiting) {
      if (w.need <= this.committedCapture) w.resolve(this.committedCapture);
      else this.coverWaiters.push(w);
    }
  }

  /** Capture the actor now (undefined unless running or paused), encoded as the checkpoint record it would be stored as. */
  private take(afterCapture?: () => void): { snapshot: ActorSnapshot; turn: number; chain: string; record: CheckpointRecord } | undefined {
    if (this.cell.status !== 'running' && this.cell.status !== 'paused') return undefined;
    const snapshot = this.cell.capture({ tokens: this.deps.spent(this.cell.id) });
    if (!snapshot) return undefined;
    afterCapture?.();
    const turn = this.cell.turn;
    const chain = this.chainAt(turn);
    return { snapshot, turn, chain, record: { v: 1, turn, at: wholeMs(this.deps.clock.now()), chain, snapshot: encodeSnapshot(snapshot) } };
  }

  /** The turn log's chain hash after `turn`: mid re-run (a stop, or ref.checkpoint()) that is not the last logged turn's. */
  private chainAt(turn: number): string {
    if (turn === 0) return GENESIS_CHAIN;
    const memo = this.since.find((m) => m.turn === turn);
    if (memo) return memo.chain;
    return this.latest?.turn === turn ? this.latest.chain : this.chain;
  }

  // ── calls in flight ───────────────────────────────────────────────────

  callStarted(key: string, promise: Promise<unknown>): void {
    this.inflight.set(key, promise);
    const forget = (): void => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    };
    promise.then(forget, forget);
  }

  /** The calls in flight here, in the order they started. */
  callsInFlight(): string[] {
    return [...this.inflight.keys()];
  }

  /** Resolves when the call `key` (if in flight here) has settled. */
  async callDone(key: string): Promise<void> {
    await this.inflight.get(key)?.then(
      () => undefined,
      () => undefined,
    );
  }

  // ── bringing it back ──────────────────────────────────────────────────

  /** First start in this process: everything from LMDB. Throws StorageError if what is stored cannot be used. */
  load(): StartPlan {
    const { store } = this.deps;
    const id = this.cell.id;
    const def = this.cell.def;
    this.seq = store.lastSeq(id);
    const base = store.checkpointOf(id, 'base');
    const latest = store.checkpointOf(id, 'latest');
    this.baseTurn = base?.turn ?? 0;
    let snapshot: ActorSnapshot | undefined;
    if (latest) {
      snapshot = decodeSnapshot(latest.snapshot, {
        definition: { name: def.name, version: def.version },
        ...(this.persistence.migrate ? { migrate: this.persistence.migrate } : {}),
      });
      this.latest = { snapshot, turn: latest.turn, chain: latest.chain };
      this.chain = latest.chain;
    }
    const afterTurn = latest?.turn ?? 0;
    const turns: TurnMemo[] = [];
    // Only turns that follow the checkpoint's chain, with none missing, run again.
    let prev = latest?.chain ?? GENESIS_CHAIN;
    let expected = afterTurn + 1;
    for (const t of store.turns(id, afterTurn)) {
      const { chain, ...rest } = t;
      if (t.turn !== expected) throw chainBroken(id, expected, `turn ${expected} is missing from its turn log (the next stored turn is ${t.turn})`);
      if (chainOf(prev, rest) !== chain) throw chainBroken(id, t.turn, `turn ${t.turn} does not follow its hash chain: it was altered, or a turn before it was replaced`);
      prev = chain;
      expected++;
      const env = t.crashed ? undefined : this.deps.envelope(this.cell, { payload: store.payload(id, t.body), ...(t.from === undefined ? {} : { from: t.from }) });
      if (env) this.seqs.set(env, { seq: t.seq, body: t.body, written: Promise.resolve() });
      turns.push({ turn: t.turn, at: t.at, chain, env, crashed: t.crashed === true, settled: t.settled });
      this.chain = t.chain;
    }
    this.since = [...turns];
    const inbox = store.inbox(id).map((r) => {
      const env = this.deps.envelope(this.cell, { ...r, payload: store.payload(id, r.body) });
      this.seqs.set(env, { seq: r.seq, body: r.body, written: Promise.resolve() });
      return env;
    });
    return { snapshot, turns, inbox };
  }

  /** A restart after a crash: the last checkpoint and the turns since (or the initial state, if so configured). */
  restartPlan(): StartPlan {
    if (this.persistence.restart === 'initial' || !this.latest) return { snapshot: undefined, turns: [], inbox: [] };
    const turns = this.since.filter((m) => m.turn > this.latest!.turn);
    return { snapshot: this.latest.snapshot, turns, inbox: [] };
  }

  /** Where the turn counter stands in a plan (for a restart from the initial state, it keeps counting). */
  get lastCheckpointTurn(): number | undefined {
    return this.latest?.turn;
  }
}

/** Record times are whole milliseconds (the record decoders require them); a real clock reads fractions. */
function wholeMs(t: number): number {
  return Math.max(0, Math.floor(t));
}

function chainBroken(actor: string, turn: number, why: string): StorageError {
  return new StorageError(DurableCodes.chainBroken, `persistent actor "${actor}": ${why}`, { field: `turn ${turn}`, details: { actor, turn } });
}

function turnOfKey(key: string): number {
  const m = /\/t(\d+)(?:\/s\d+)?\/c\d+$/.exec(key);
  return m ? Number(m[1]) : 0;
}

function chainOf(prev: string, record: Omit<TurnRecord, 'chain'>): string {
  return createHash('sha256').update(prev, 'hex').update(pack(record)).digest('hex');
}

export { chainOf };
