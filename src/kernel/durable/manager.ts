// Durability of a node's persistent actors: one DurableActor per persistent cell,
// the durable store and the side-effect journal they share, the registrations
// recovery replays, and the in-doubt calls waiting for a person. The kernel calls
// in here at the points of the message path that matter (accept, handle, call,
// start, release); nothing here decides policy.

import type { RootDatabase } from 'lmdb';
import type { ActorCell, CallRecord } from '../../actors/cell.js';
import type { Envelope } from '../../actors/envelope.js';
import type { ActorSnapshot } from '../../actors/snapshot/index.js';
import type { Clock } from '../../base/clock.js';
import { ActorError, ErrorCodes, StorageError } from '../../base/errors.js';
import { EffectJournal, idempotencyKey, parseIdempotencyKey, type InDoubtCall, type Resolution, type VerifyResult } from '../effects/index.js';
import { DurableActor, type DurableDeps, type StartPlan, type TurnMemo } from './actor.js';
import { InDoubtGate } from './calls.js';
import { OutcomeTimes } from './order.js';
import { DurableCodes, type ActorRecord } from './records.js';
import { readHistory } from './replay-log.js';
import { DurableStore } from './store.js';

export interface DurabilityOptions {
  db: RootDatabase;
  clock: Clock;
  defer: (fn: () => void) => void;
  envelope: DurableDeps['envelope'];
  /** System events (`@agentos.effect.in-doubt`, `@agentos.actor.held`, …). */
  emit(type: string, data: Record<string, unknown>): void;
  /** Audit a durability decision. */
  audit(record: { kind: string; decision: string; actor?: string; subject?: string; reason?: string }): void;
  /** Token spending of an actor, and restoring it from a checkpoint. */
  spent(id: string): number;
  restoreSpent(id: string, tokens: number): void;
  /** Run a call on behalf of a restored actor (the kernel's syscall with the journaled key). */
  syscall(cell: ActorCell, record: CallRecord, signal: AbortSignal): Promise<unknown>;
}

/** What recovery did: who came back, who is held and why. */
export interface RecoveryReport {
  /** Persistent actors started (from a checkpoint, or fresh when none was written yet). */
  restored: string[];
  /** Actors kept down: unreadable or incompatible state, unknown definition. */
  held: Array<{ id: string; code: string; reason: string }>;
  /** Handled-but-not-checkpointed turns run again, and accepted messages queued again. */
  redelivered: number;
  requeued: number;
  /** Calls in flight at the crash resumed through the journal. */
  resumedCalls: number;
  /** Time from the start of recovery to every restored actor being up (ms, node clock). */
  ms: number;
}

export class Durability {
  readonly store: DurableStore;
  readonly journal: EffectJournal;
  readonly gate: InDoubtGate;
  private readonly actors = new Map<string, DurableActor>();
  private order = 0;
  private report: RecoveryReport | undefined;
  /** Restored actors waiting for the end of recovery before they run. */
  private readonly waiting: Array<() => void> = [];
  private outcomeTimes: OutcomeTimes | undefined;
  /** Told of every committed checkpoint (cluster replication). */
  private readonly checkpointListeners = new Set<(id: string, turn: number) => void>();
  /** Actors leaving this node for another: forgetting them keeps the marks others hold of them. */
  private readonly leaving = new Set<string>();
  private readonly forgetting = new Map<string, Promise<void>>();

  constructor(private readonly options: DurabilityOptions) {
    this.store = new DurableStore(options.db);
    this.journal = EffectJournal.open({ db: options.db, clock: options.clock });
    this.gate = new InDoubtGate((call) => {
      options.emit('@agentos.effect.in-doubt', { id: call.actor, key: call.key, attempt: call.attempt });
      options.audit({ kind: 'effect', decision: 'in-doubt', actor: call.actor, subject: call.key, reason: 'dispatched with no journaled outcome; not idempotent, no compensation: waiting for a person' });
    });
    for (const r of this.store.registrations()) if ('order' in r) this.order = Math.max(this.order, r.order);
  }

  /** The durable side of the running persistent actor `id`, if there is one. */
  actorOf(id: string): DurableActor | undefined {
    return this.actors.get(id);
  }

  of(cell: ActorCell): DurableActor | undefined {
    return cell.durable as DurableActor | undefined;
  }

  /** `durability` (from the contract) overrides the definition's. */
  attach(cell: ActorCell, durability?: 'sync' | 'async'): DurableActor {
    const persistence = durability === undefined ? cell.def.persistence! : { ...cell.def.persistence!, durability };
    const actor = new DurableActor(cell, persistence, {
      store: this.store,
      clock: this.options.clock,
      defer: this.options.defer,
      envelope: this.options.envelope,
      failed: (c, err) => this.failed(c, err),
      spent: (id) => this.options.spent(id),
      compact: (id, turn) => this.compact(id, turn),
      checkpointed: (id, turn) => {
        for (const l of this.checkpointListeners) l(id, turn);
      },
    });
    cell.durable = actor;
    this.actors.set(cell.id, actor);
    return actor;
  }

  // ── registrations ─────────────────────────────────────────────────────

  nextOrder(): number {
    return ++this.order;
  }

  register(record: ActorRecord): Promise<void> {
    return this.store.register(record);
  }

  isRegistered(id: string): boolean {
    try {
      return this.store.registration(id) !== undefined;
    } catch {
      return true;
    }
  }

  /** The actor is gone for good, or moved to another node (`movingAway`): its stored state goes too. */
  forget(id: string): Promise<void> {
    const moved = this.leaving.delete(id);
    this.actors.delete(id);
    // An actor that moved keeps its history elsewhere: what others here saw of it still holds.
    if (!moved) for (const d of this.actors.values()) d.forgetSender(id);
    const done = this.store.forget(id, true, moved).then(() => this.journal.forget(id)).then(() => undefined);
    const settled = done.catch(() => undefined).finally(() => this.forgetting.get(id) === settled && this.forgetting.delete(id));
    this.forgetting.set(id, settled);
    return done;
  }

  /** Resolves once what `forget(id)` started is done (an actor coming back must not meet its old records going). */
  forgotten(id: string): Promise<void> {
    return this.forgetting.get(id) ?? Promise.resolve();
  }

  /** The next `forget(id)` is of an actor that lives on on another node (migration); `false` withdraws it. */
  movingAway(id: string, on = true): void {
    if (on) this.leaving.add(id);
    else this.leaving.delete(id);
  }

  /** Listen to committed checkpoints (id, turn); returns the unsubscribe. */
  /**
   * What a persistent actor's new sensitive call waits for before it is dispatched (undefined: nothing).
   * The cluster sets it while replicas are kept: the call waits until a checkpoint holding it in flight
   * is stored by the actor's replica holders, so a failover resumes that call under its own key.
   */
  callBarrier: ((cell: ActorCell) => Promise<void> | undefined) | undefined;

  onCheckpoint(listener: (id: string, turn: number) => void): () => void {
    this.checkpointListeners.add(listener);
    return () => this.checkpointListeners.delete(listener);
  }

  // ── starting ──────────────────────────────────────────────────────────

  /** The plan for a start: first start in this process reads LMDB; a restart uses memory. Throws StorageError on bad state. */
  plan(cell: ActorCell, first: boolean): StartPlan {
    const d = this.of(cell)!;
    const plan = first ? d.load() : d.restartPlan();
    cell.replayNext = true; // resume() drives its timers through the logged turns (rerun)
    return plan;
  }

  /** Keep a cell down, say why, and count it in the recovery report. */
  hold(cell: ActorCell, err: unknown): void {
    const code = (err as { code?: string }).code ?? DurableCodes.held;
    const reason = (err as Error).message ?? String(err);
    cell.hold(reason);
    this.report?.held.push({ id: cell.id, code, reason });
    this.options.emit('@agentos.actor.held', { id: cell.id, code, reason });
    this.options.audit({ kind: 'durability', decision: 'held', actor: cell.id, subject: code, reason });
  }

  /** After `cell.start(…, plan.snapshot)`: resume in-flight calls, queue the inbox, run logged turns again. */
  resume(cell: ActorCell, plan: StartPlan): void {
    const d = this.of(cell)!;
    this.report?.restored.push(cell.id);
    for (const env of plan.inbox) {
      if (!cell.mailbox.push(env).ok) this.options.emit('@agentos.deadletter', { to: cell.id, messageType: env.type, reason: 'mailbox full on recovery' });
    }
    if (this.report) {
      this.report.requeued += plan.inbox.length;
      this.report.redelivered += plan.turns.length;
    }
    const tokens = (plan.snapshot?.extra as { tokens?: unknown } | undefined)?.tokens;
    if (typeof tokens === 'number' && tokens > 0) this.options.restoreSpent(cell.id, tokens);
    if (!plan.snapshot && d.lastCheckpointTurn === undefined) void d.checkpoint().catch((err: unknown) => this.failed(cell, err));
    // Nothing runs (calls, logged turns, the inbox) until every recovered actor is back:
    // a turn run again may message an actor that recovery has not started yet.
    cell.redelivering = true;
    const incarnation = cell.incarnation;
    const report = this.report; // go() runs after endRecovery: count its resumed calls here
    const go = (): void => {
      this.gate.order.hold(cell.id);
      if (plan.snapshot) {
        const resumed = this.resumeCalls(cell, plan.snapshot);
        if (report) report.resumedCalls += resumed;
      }
      void this.rerun(cell, d, plan, incarnation);
    };
    if (this.report) this.waiting.push(go);
    else go();
  }

  /**
   * Run the logged turns again, in order, each at the time it first ran: before it, the
   * delayed events due by then and the call results it saw the first time, in order;
   * after the last, the results still to come in journal order. Then the inbox.
   * Results are held (gate.order) and timers too (the cell's replay clock) until let through.
   */
  private async rerun(cell: ActorCell, d: DurableActor, plan: StartPlan, incarnation: number): Promise<void> {
    // Paused too: turns run again restore what was, they are not new work.
    const live = (): boolean => cell.incarnation === incarnation && (cell.status === 'running' || cell.status === 'paused');
    try {
      for (const t of plan.turns) {
        await this.releaseSettled(cell, d, t);
        if (!live()) return;
        cell.replayTo(t.at);
        if (t.crashed || !t.env) cell.skipTurn();
        else cell.deliver({ ...t.env, replyTo: undefined, correlationId: undefined } as Envelope);
      }
      await this.releaseRest(cell, d, live);
    } finally {
      // A new incarnation already re-running holds its own results; otherwise none stay held.
      if (cell.incarnation === incarnation || !cell.redelivering) this.gate.order.end(cell.id);
      if (cell.incarnation === incarnation) {
        cell.endReplay();
        cell.redelivering = false;
        if (cell.runnable) cell.host.schedule(cell);
      }
    }
  }

  /** Before a logged turn: the results the actor got since the previous one, in order, each at the time it was journaled. */
  private async releaseSettled(cell: ActorCell, d: DurableActor, t: TurnMemo): Promise<void> {
    for (const key of t.settled) {
      const outcome = this.outcomes.of(key);
      if (outcome) cell.replayTo(Math.min(outcome.at, t.at)); // a timer due by then may be what makes the call
      if (!d.callsInFlight().includes(key)) continue; // consumed before the checkpoint, or not made again
      this.gate.order.release(key);
      await d.callDone(key);
      await this.tick(); // XState hands the result to the machine a few microtasks later
    }
    await this.tick();
  }

  /**
   * After the last logged turn, up to now: the delayed events due and the results the
   * journal holds for calls in flight, merged by time (results in the order the journal
   * recorded them; an event due at a result's time first, as the clock fires it first).
   */
  private async releaseRest(cell: ActorCell, d: DurableActor, live: () => boolean): Promise<void> {
    const now = this.options.clock.now();
    for (let i = 0; i < 100_000 && live(); i++) {
      const result = this.nextJournaled(d);
      const due = cell.nextTimerDue();
      if (due !== undefined && due <= now && (result === undefined || due <= result.at)) {
        cell.replayTo(due, 1);
        continue;
      }
      if (!result) return;
      cell.replayTo(result.at);
      this.gate.order.release(result.key);
      await d.callDone(result.key);
      await this.tick();
    }
  }

  private nextJournaled(d: DurableActor): { key: string; seq: number; at: number } | undefined {
    let best: { key: string; seq: number; at: number } | undefined;
    for (const key of d.callsInFlight()) {
      const o = this.outcomes.of(key);
      if (o && (!best || o.seq < best.seq)) best = { key, ...o };
    }
    return best;
  }

  private get outcomes(): OutcomeTimes {
    return (this.outcomeTimes ??= new OutcomeTimes(this.options.db));
  }

  private tick(): Promise<void> {
    return new Promise<void>((resolve) => this.options.defer(resolve));
  }

  /** Resume the snapshot's in-flight kernel calls through the journal; returns how many. */
  private resumeCalls(cell: ActorCell, snapshot: ActorSnapshot): number {
    const calls = ((snapshot.extra as { calls?: Array<{ path: string[]; key: string; request: CallRecord['request'] }> }).calls ?? []);
    let resumed = 0;
    for (const f of snapshot.inFlight) {
      const label = f.path.join('/');
      const rec = calls.find((c) => c.path.join('/') === label);
      if (!rec) {
        cell.reissueHeld(f.path); // not a kernel call: the machine's own promise runs again (at-least-once)
        continue;
      }
      resumed++;
      const origin = cell.childAt(f.path);
      const record: CallRecord = { key: rec.key, request: rec.request };
      cell.trackCall(origin, record);
      const p = this.options.syscall(cell, record, cell.callSignal());
      this.of(cell)!.callStarted(rec.key, p);
      const settle = (outcome: { output: unknown } | { error: unknown }): void => {
        cell.callSettled(origin, rec.key);
        try {
          cell.settleHeld(f.path, outcome);
        } catch {
          // the incarnation ended meanwhile
        }
      };
      p.then(
        (output) => settle({ output }),
        (error: unknown) => settle({ error }),
      );
    }
    return resumed;
  }

  // ── calls ─────────────────────────────────────────────────────────────

  /** The idempotency key of a persistent actor's next call. */
  claimKey(cell: ActorCell): string {
    const [turn, call] = cell.claimEffect();
    return idempotencyKey({ actor: cell.id, turn, call });
  }

  /** Settle an in-doubt call by hand; the waiting actor gets this outcome. */
  async resolve(key: string, resolution: Resolution, by: string): Promise<void> {
    await this.journal.resolve(key, resolution, by);
    const actor = parseIdempotencyKey(key).actor;
    this.options.audit({ kind: 'effect', decision: 'resolved', actor, subject: key, reason: `by ${by}: ${Object.keys(resolution)[0]}` });
    this.gate.resolved(key);
  }

  /** In-doubt calls: those actors wait on now, and those found in the journal with no one waiting. */
  inDoubt(): InDoubtCall[] {
    const waiting = this.gate.list();
    const seen = new Set(waiting.map((c) => c.key));
    return [...waiting, ...this.journal.inDoubt().filter((c) => !seen.has(c.key))];
  }

  async checkpoint(cell: ActorCell): Promise<void> {
    const d = this.of(cell);
    if (!d) throw new ActorError(ErrorCodes.invalidOptions, `"${cell.id}" is not persistent: define it with persistent: true to checkpoint it`, { field: 'id' });
    if (cell.status === 'held') throw new StorageError(DurableCodes.held, `"${cell.id}" is held: ${cell.heldReason}`, { field: 'id' });
    await d.checkpoint();
  }

  // ── recovery bookkeeping ──────────────────────────────────────────────

  beginRecovery(): void {
    this.report = { restored: [], held: [], redelivered: 0, requeued: 0, resumedCalls: 0, ms: 0 };
  }

  /** Every recovered actor is back: let them run. */
  endRecovery(ms: number): RecoveryReport {
    const report = this.report ?? { restored: [], held: [], redelivered: 0, requeued: 0, resumedCalls: 0, ms: 0 };
    report.ms = ms;
    this.report = undefined;
    const waiting = this.waiting.splice(0);
    for (const go of waiting) go();
    return report;
  }

  noteHeld(id: string, code: string, reason: string): void {
    this.report?.held.push({ id, code, reason });
    this.options.emit('@agentos.actor.held', { id, code, reason });
    this.options.audit({ kind: 'durability', decision: 'held', actor: id, subject: code, reason });
  }

  /**
   * Check the hash chains of persistent actors (one, or every registered one): the turn
   * log from its replay base, then the effect journal. The first break, with the actor.
   */
  verify(actor?: string): VerifyResult {
    const ids = actor === undefined ? this.store.actorsWithState() : [actor];
    for (const id of ids) {
      let broken: { problem: string } | undefined;
      try {
        broken = readHistory(this.options.db, id).breaks.find((b) => b.log === 'turns');
      } catch (err) {
        broken = { problem: (err as Error).message }; // a checkpoint or registration that does not decode
      }
      if (broken) return { ok: false, actor: id, problem: broken.problem };
    }
    return this.journal.verify(actor);
  }

  /** Resolves when every durable write queued so far is on disk. */
  async flushed(): Promise<void> {
    await this.store.flushed();
    await this.journal.flushed();
  }

  private async compact(id: string, turn: number): Promise<void> {
    await this.journal.compact(id, turn);
  }

  private failed(cell: ActorCell, err: unknown): void {
    this.options.emit('@agentos.durability.failed', { id: cell.id, reason: (err as Error)?.message ?? String(err) });
  }
}
