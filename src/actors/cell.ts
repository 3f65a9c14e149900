// An ActorCell is one addressable actor: a bounded mailbox plus the XState
// actor that currently incarnates it. The mailbox outlives incarnations, so a
// supervisor restart keeps queued messages (as Akka does); a crash drops only
// the message being processed. Delivery happens only when the scheduler says.

import { createActor, type Actor, type AnyActorRef, type AnyStateMachine, type InspectionEvent } from 'xstate';
import type { Clock, TimerHandle } from '../base/clock.js';
import { errorExit, normalExit, type ExitReason } from '../base/exit.js';
import type { Mailbox } from '../mailboxes/types.js';
import type { LatencyClass } from '../mailboxes/types.js';
import type { AgentDefinition } from './define.js';
import type { Envelope, SendOptions } from './envelope.js';
import { captureCell, ReplayTimeline, type CallRecord, type CallRequest } from './cell-persist.js';
import { restoreActor, trackDelays, type ActorSnapshot } from './snapshot/index.js';
import { settleInFlight, reissueInFlight } from './snapshot/inflight.js';
import { findByPath } from './snapshot/tree.js';

export type { CallRecord, CallRequest } from './cell-persist.js';

export type CellStatus = 'new' | 'running' | 'paused' | 'held' | 'exited' | 'stopping' | 'stopped';

/** What a persistent cell tells the kernel's durability layer. */
export interface CellDurability {
  /** A message was handled as turn `cell.turn` (`crashed`: the handler ended the incarnation). */
  handled(cell: ActorCell, env: Envelope, crashed: boolean): void;
}

/** The event a machine may handle to stop gracefully (trap exits, in OTP terms). */
export const SHUTDOWN_EVENT = 'agentos.shutdown';

/** What a cell needs from the kernel. */
export interface CellHost {
  readonly clock: Clock;
  /** XState inspection events of every actor, when the node was created with `inspect`. */
  readonly xstateInspect: ((event: InspectionEvent) => void) | undefined;
  /** On-demand inspection: told of each XState actor the cell creates, before it starts (src/kernel/inspection.ts). */
  readonly inspection?: { created(cell: ActorCell, actor: AnyActorRef): void };
  /** The cell has a message to deliver and is runnable. */
  schedule(cell: ActorCell): void;
  /** The incarnation ended on its own (final state or crash). Called once per incarnation. */
  exited(cell: ActorCell, reason: ExitReason): void;
  /** A message sent from inside this actor's machine. */
  tell(from: ActorCell, to: string, message: { type: string }, options?: SendOptions): void;
  /** A reply to `env` from inside this actor's machine. */
  reply(from: ActorCell, env: Pick<Envelope, 'replyTo' | 'correlationId' | 'conversationId'>, value: unknown): void;
  /** A sensitive call (tool, model, memory) on behalf of this actor, checked by the kernel; `signal` aborts it if the caller stops. */
  call(from: ActorCell, request: CallRequest, signal?: AbortSignal, origin?: AnyActorRef): Promise<unknown>;
  /** A message whose handling ended the incarnation (a crash): fail its ask now rather than at timeout. */
  lost(env: Envelope, reason: string): void;
  /** Traces turns: `beginTurn` returns what `endTurn` gets back, kept on the cell as its latest turn's trace. */
  readonly turns?: { beginTurn(cell: ActorCell, env: Envelope): unknown; endTurn(cell: ActorCell, trace: unknown, crashed: boolean): void };
}

export interface CellOptions {
  id: string;
  path: string;
  parentPath: string;
  tenant: string | undefined;
  latency: LatencyClass;
  mailbox: Mailbox<Envelope>;
  host: CellHost;
  /** Default relative deadline (HRT) and priority (SRT) for messages to this actor. */
  deadlineMs: number | undefined;
  priority: number | undefined;
}

const cellsBySystem = new WeakMap<object, ActorCell>();

/** The cell whose machine is running an action (looked up by XState's actor system). */
export function cellOfSystem(system: unknown): ActorCell | undefined {
  return typeof system === 'object' && system !== null ? cellsBySystem.get(system) : undefined;
}

export class ActorCell {
  readonly id: string;
  readonly path: string;
  readonly parentPath: string;
  readonly tenant: string | undefined;
  readonly latency: LatencyClass;
  readonly mailbox: Mailbox<Envelope>;
  readonly deadlineMs: number | undefined;
  readonly priority: number | undefined;
  readonly host: CellHost;
  def: AgentDefinition;
  status: CellStatus = 'new';
  incarnation = 0;
  /** The envelope being delivered right now (read by the `reply` action helper). */
  current: Envelope | undefined;
  /** The host's trace of the latest turn (sends and calls made by the machine continue it). */
  trace: unknown;
  /** Scheduler bookkeeping: is the cell in a ready queue, and which entry is live. */
  ready = false;
  readyVersion = 0;
  readyKey = 0;
  // Counters, reported by `node.tree()` and the inspector.
  delivered = 0;
  deadlineMisses = 0;
  maxLatenessMs = 0;
  lastExit: ExitReason | undefined;
  // Persistence (set by the kernel for persistent actors).
  durable: CellDurability | undefined;
  /** Messages handled over the actor's whole history (turn numbers survive restarts and restores). */
  turn = 0;
  /** Side effects (calls, sends) made so far in the current turn: the `call` part of their idempotency keys. */
  effectIndex = 0;
  /** Keys of calls whose results arrived since the last turn began (for replay). */
  settled: string[] = [];
  /** Messages handled again after a restore (their turns are already logged). */
  redelivering = false;
  heldReason: string | undefined;
  /**
   * Set by the durability layer before a start after which it runs logged turns again:
   * that incarnation's delayed events are held, and its clock follows the turns' times
   * (`replayTo`) until `endReplay`, so timers fire between turns where they first did.
   */
  replayNext = false;
  private replay: ReplayTimeline | undefined;
  private readonly calls = new Map<AnyActorRef, CallRecord>();

  private actor: Actor<AnyStateMachine> | undefined;

  /** The running XState actor of this incarnation (for inspection; undefined before the first start). */
  get xstateActor(): AnyActorRef | undefined {
    return this.actor;
  }
  /** Aborted when the incarnation ends: its pending syscalls (and consent requests) are withdrawn. */
  private lifetime = new AbortController();
  private exitReported = false;
  /** An operator's pause holds across restarts. */
  private pausedByUser = false;
  private starting = false;
  private startError: { error: unknown } | undefined;

  constructor(def: AgentDefinition, options: CellOptions) {
    this.def = def;
    this.id = options.id;
    this.path = options.path;
    this.parentPath = options.parentPath;
    this.tenant = options.tenant;
    this.latency = options.latency;
    this.mailbox = options.mailbox;
    this.host = options.host;
    this.deadlineMs = options.deadlineMs;
    this.priority = options.priority;
  }

  /** Start a new incarnation from the machine's initial state, or from a snapshot (persistent actors). */
  start(incarnation: number, from?: ActorSnapshot): void {
    this.incarnation = incarnation;
    this.exitReported = false;
    this.heldReason = undefined;
    this.lifetime = new AbortController();
    this.calls.clear();
    this.replay = this.replayNext ? new ReplayTimeline(this.host.clock) : undefined;
    this.replayNext = false;
    if (from) return this.startFrom(from);
    const clock = this.replay?.clock ?? this.host.clock;
    const actor = createActor(this.def.machine, {
      id: this.id,
      input: this.def.input,
      clock,
      ...(this.host.xstateInspect ? { inspect: this.host.xstateInspect } : {}),
    });
    // Delayed events must be capturable with their due times: a persistent actor checkpoints them,
    // and any actor may be captured to move to another node.
    trackDelays(actor, clock);
    this.actor = actor;
    cellsBySystem.set(actor.system, this);
    this.host.inspection?.created(this, actor);
    this.watch(actor);
    this.status = this.pausedByUser ? 'paused' : 'running';
    this.startError = undefined;
    this.starting = true;
    try {
      actor.start();
    } finally {
      this.starting = false;
    }
    const failed = this.startError as { error: unknown } | undefined;
    if (failed) {
      // A crash while entering the initial state is a failed start (OTP: init failed).
      this.startError = undefined;
      throw failed.error;
    }
    if (this.actor === actor && this.status === 'running' && this.mailbox.size > 0) this.host.schedule(this);
  }

  /** Restore from a snapshot (throws StorageError if it cannot be used); in-flight calls stay held for the kernel. */
  private startFrom(snapshot: ActorSnapshot): void {
    const actor = restoreActor(this.def.machine, snapshot, {
      clock: this.replay?.clock ?? this.host.clock,
      // Replaying: the events due since the capture fire between the logged turns, not all now.
      catchUp: this.replay === undefined,
      id: this.id,
      definition: { name: this.def.name, version: this.def.version },
      ...(this.def.input === undefined ? {} : { input: this.def.input }),
      ...(this.host.xstateInspect ? { inspect: this.host.xstateInspect } : {}),
    });
    const extra = snapshot.extra as { turn?: number; effectIndex?: number };
    this.turn = extra.turn ?? this.turn;
    this.effectIndex = extra.effectIndex ?? 0;
    this.replay?.clock.pin(snapshot.capturedAt);
    this.actor = actor;
    cellsBySystem.set(actor.system, this);
    this.host.inspection?.created(this, actor);
    this.status = this.pausedByUser ? 'paused' : 'running';
    this.watch(actor);
    if (actor.getSnapshot().status === 'done') this.incarnationEnded(actor, normalExit);
  }

  private watch(actor: Actor<AnyStateMachine>): void {
    actor.subscribe({
      error: (err) => this.incarnationEnded(actor, errorExit(err)),
      complete: () => {
        if (actor.getSnapshot().status === 'done') this.incarnationEnded(actor, normalExit);
      },
    });
  }

  get runnable(): boolean {
    return this.status === 'running' && !this.redelivering && this.mailbox.size > 0;
  }

  /** Deliver the next queued message to the machine. Returns the envelope, if any. */
  deliverNext(): Envelope | undefined {
    if (this.status !== 'running' || this.redelivering || !this.actor) return undefined;
    const env = this.mailbox.shift();
    if (!env) return undefined;
    this.deliver(env);
    return env;
  }

  /** Hand one envelope to the machine (from the mailbox, or redelivered after a restore). */
  deliver(env: Envelope): void {
    const actor = this.actor;
    if (!actor) return;
    if (this.durable) {
      this.turn++;
      this.effectIndex = 0;
    }
    this.current = env;
    const trace = this.host.turns?.beginTurn(this, env);
    if (trace !== undefined) this.trace = trace;
    try {
      actor.send(env.payload as { type: string });
    } finally {
      this.current = undefined;
    }
    this.delivered++;
    const crashed = this.actor !== actor && this.lastExit?.kind === 'error';
    if (trace !== undefined) this.host.turns?.endTurn(this, trace, crashed);
    this.durable?.handled(this, env, crashed);
    if (crashed && env.replyTo !== undefined) this.host.lost(env, 'the actor crashed while handling it');
  }

  /**
   * Replaying: deliver the delayed events due by `time` in due order, then keep the
   * actor's clock at `time` (never earlier than it is), so what runs next arms its
   * timers as it did the first time. `limit`: deliver at most that many.
   */
  replayTo(time: number, limit?: number): void {
    if (this.replay && this.actor) this.replay.to(this.actor, time, limit);
  }

  /** Replaying: when the next delayed event is due (undefined if none is armed). */
  nextTimerDue(): number | undefined {
    return this.replay && this.actor ? this.replay.nextDue(this.actor) : undefined;
  }

  /** Replay over: catch up to the present, and the clock runs free. */
  endReplay(): void {
    this.replay?.end(this.actor);
    this.replay = undefined;
  }

  /** A logged turn that crashed before: counted, not run again. */
  skipTurn(): void {
    this.turn++;
  }

  /** Claim the idempotency position of the next side effect: [turn, call]. */
  claimEffect(): [number, number] {
    return [this.turn, this.effectIndex++];
  }

  /** A persistent call went out from the promise actor `origin`. */
  trackCall(origin: AnyActorRef | undefined, record: CallRecord): void {
    if (origin) this.calls.set(origin, record);
  }

  callSettled(origin: AnyActorRef | undefined, key: string): void {
    if (origin) this.calls.delete(origin);
    this.settled.push(key);
  }

  /** A checkpoint of the running machine, with the turn counters and in-flight calls beside it. */
  capture(more: Record<string, unknown> = {}): ActorSnapshot | undefined {
    if (!this.actor) return undefined;
    const definition = { name: this.def.name, version: this.def.version };
    return captureCell(this.actor, definition, this.host.clock, this.calls, { ...more, turn: this.turn, effectIndex: this.effectIndex });
  }

  /** After a restore: complete a held in-flight promise with its journaled outcome. */
  settleHeld(path: readonly string[], outcome: { output: unknown } | { error: unknown }): void {
    if (this.actor) settleInFlight(this.actor, path, outcome);
  }

  /** After a restore: run a held promise that is not a kernel call again (at-least-once). */
  reissueHeld(path: readonly string[]): void {
    if (this.actor) reissueInFlight(this.actor, path);
  }

  /** The promise actor at `path` (to track a resumed call against it). */
  childAt(path: readonly string[]): AnyActorRef | undefined {
    return this.actor ? findByPath(this.actor, path) : undefined;
  }

  /** Keep the actor down: its stored state could not be used. Messages stay queued. */
  hold(reason: string): void {
    this.heldReason = reason;
    this.status = 'held';
  }

  /** A signal that aborts when the current incarnation ends, combined with `signal` if given. */
  callSignal(signal?: AbortSignal): AbortSignal {
    return signal ? AbortSignal.any([signal, this.lifetime.signal]) : this.lifetime.signal;
  }

  getSnapshot(): ReturnType<Actor<AnyStateMachine>['getSnapshot']> | undefined {
    return this.actor?.getSnapshot();
  }

  pause(): void {
    this.pausedByUser = true;
    if (this.status === 'running') this.status = 'paused';
  }

  resume(): void {
    this.pausedByUser = false;
    if (this.status !== 'paused') return;
    this.status = 'running';
    if (this.mailbox.size > 0) this.host.schedule(this);
  }

  /**
   * Stop the current incarnation. If the machine handles `agentos.shutdown`, it
   * gets that event and up to `timeoutMs` to reach a final state; then it is
   * stopped regardless. Does not report an exit (the stop was requested).
   */
  async stop(timeoutMs: number | 'infinity'): Promise<void> {
    const actor = this.actor;
    if (!actor || this.status === 'stopped') {
      this.status = 'stopped';
      return;
    }
    this.status = 'stopping';
    this.exitReported = true; // a requested stop is not an exit the supervisor must act on
    const snapshot = actor.getSnapshot();
    if (snapshot.status === 'active' && timeoutMs !== 0 && snapshot.can({ type: SHUTDOWN_EVENT })) {
      await this.awaitFinal(actor, timeoutMs);
    }
    actor.stop();
    this.actor = undefined;
    this.status = 'stopped';
    this.lifetime.abort();
  }

  /** Stop at once, without the graceful step (used for forced shutdown). */
  kill(): void {
    this.exitReported = true;
    this.actor?.stop();
    this.actor = undefined;
    this.status = 'stopped';
    this.lifetime.abort();
  }

  private awaitFinal(actor: Actor<AnyStateMachine>, timeoutMs: number | 'infinity'): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        sub.unsubscribe();
        if (timer !== undefined) this.host.clock.clearTimeout(timer);
        resolve();
      };
      const sub = actor.subscribe({
        next: (s) => {
          if (s.status !== 'active') done();
        },
        error: done,
        complete: done,
      });
      if (timeoutMs !== 'infinity') timer = this.host.clock.setTimeout(done, timeoutMs);
      actor.send({ type: SHUTDOWN_EVENT });
      if (actor.getSnapshot().status !== 'active') done();
    });
  }

  private incarnationEnded(actor: Actor<AnyStateMachine>, reason: ExitReason): void {
    if (this.actor !== actor || this.exitReported) return;
    if (this.starting && reason.kind === 'error') {
      this.startError = { error: reason.error };
      this.exitReported = true;
      this.actor = undefined;
      this.status = 'exited';
      return;
    }
    this.exitReported = true;
    this.lastExit = reason;
    this.status = 'exited';
    this.actor = undefined;
    this.lifetime.abort();
    this.host.exited(this, reason);
  }
}
