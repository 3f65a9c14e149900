// The kernel: root supervisor, router and actor host of one node. Every message
// crosses `route` (edge checks, then the target's mailbox, then the scheduler);
// every actor is started and stopped through here. Time comes from the Clock.

import type { InspectionEvent } from 'xstate';
import { ActorCell, type CellHost } from '../actors/cell.js';
import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import { ASK_ADDRESS, type Envelope, type SendOptions } from '../actors/envelope.js';
import type { Clock } from '../base/clock.js';
import { ActorError, AgentOsError, ErrorCodes, MailboxFull, isAgentOsError } from '../base/errors.js';
import { describeExit, type ExitReason } from '../base/exit.js';
import { createMailbox, mailboxKindFor } from '../mailboxes/index.js';
import type { OverflowPolicy } from '../mailboxes/types.js';
import { shouldRestart } from '../supervisors/restart.js';
import { Supervisor } from '../supervisors/supervisor.js';
import type { ChildHandle, ChildHost, ChildSpec, RestartType, SupervisorSpec, TreeNode } from '../supervisors/types.js';
import { AskRegistry } from './asks.js';
import { DeadLetterLog } from './deadletters.js';
import { runtimeProfile, type RuntimeProfile } from './profile.js';
import { ActorRef, type AskOptions, type RefHost } from './ref.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { checkMessage, type EdgeLimits } from './validate.js';

/** What a child spec's `start` may be at this layer. */
export type StartTarget = AgentDefinition | { agent: AgentDefinition; input?: unknown };

export interface SystemEvent {
  type: `@agentos.${string}`;
  [key: string]: unknown;
}

export interface KernelOptions {
  nodeId: string;
  clock: Clock;
  defer: (fn: () => void) => void;
  inspect?: (event: SystemEvent | InspectionEvent) => void;
  maxPayloadBytes?: number;
  validate?: boolean;
  mailbox?: { capacity?: number; overflow?: OverflowPolicy };
  scheduler?: Pick<SchedulerOptions, 'dtMinShare' | 'batchSize' | 'sliceMs' | 'srtLevels' | 'srtBurst'>;
  root?: { intensity?: number; periodMs?: number };
  onRootExit?: (reason: ExitReason) => void;
}

export interface SpawnOptions {
  id: string;
  tenant?: string;
  restart?: RestartType;
  shutdownMs?: number | 'infinity';
  input?: unknown;
}

const ID_PATTERN = /^[A-Za-z0-9][\w.:@-]{0,127}$/;

export class Kernel implements CellHost, ChildHost<StartTarget>, RefHost {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly deadLetters = new DeadLetterLog();
  readonly inspect: ((event: InspectionEvent) => void) | undefined;
  private readonly sink: KernelOptions['inspect'];
  private readonly limits: EdgeLimits;
  private readonly mailboxDefaults: { capacity: number; overflow: OverflowPolicy };
  private readonly cells = new Map<string, ActorCell>();
  private readonly exits = new Map<string, { onExit: (reason: ExitReason) => void; restart: RestartType }>();
  private readonly supervisors = new Map<string, Supervisor<StartTarget>>();
  private readonly tenants = new Map<string, string | undefined>(); // path → tenant
  private readonly asks: AskRegistry;
  private readonly root: Supervisor<StartTarget>;
  private msgSeq = 0;
  private stopping = false;

  constructor(options: KernelOptions) {
    this.nodeId = options.nodeId;
    this.clock = options.clock;
    this.sink = options.inspect;
    this.inspect = options.inspect as ((event: InspectionEvent) => void) | undefined;
    this.limits = { maxPayloadBytes: options.maxPayloadBytes ?? 1024 * 1024, validate: options.validate ?? true };
    this.mailboxDefaults = { capacity: options.mailbox?.capacity ?? 10_000, overflow: options.mailbox?.overflow ?? 'reject' };
    this.asks = new AskRegistry(this.clock, `${this.nodeId}:ask:`);
    this.scheduler = new Scheduler({
      ...options.scheduler,
      clock: this.clock,
      defer: options.defer,
      onDeadlineMiss: (cell, env, late) =>
        this.emit({ type: '@agentos.deadline.missed', id: cell.id, messageId: env.id, latenessMs: late }),
    });
    this.root = new Supervisor<StartTarget>(
      {
        kind: 'supervisor',
        id: 'root',
        strategy: 'one_for_one',
        intensity: options.root?.intensity ?? 10,
        periodMs: options.root?.periodMs ?? 5000,
        children: [],
      },
      this,
      { clock: this.clock, path: '', onExit: (reason) => options.onRootExit?.(reason) },
    );
  }

  async start(): Promise<void> {
    await this.root.start();
  }

  // ── spawning ────────────────────────────────────────────────────────────

  /** Start an agent or a supervisor tree under the root supervisor. */
  async spawn(target: AgentDefinition | SupervisorSpec<StartTarget>, options: SpawnOptions): Promise<ActorRef> {
    this.assertRunning();
    const id = options?.id;
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
      throw new ActorError(ErrorCodes.invalidOptions, `spawn: id must be 1-128 characters of letters, digits and _.:@- (got ${JSON.stringify(id)})`, {
        field: 'id',
      });
    }
    if (this.cells.has(id) || this.supervisors.has(id)) {
      throw new ActorError(ErrorCodes.duplicateActor, `spawn: an actor with id "${id}" already exists on node "${this.nodeId}"`, {
        field: 'id',
      });
    }
    const isSup = (target as { kind?: unknown })?.kind === 'supervisor';
    if (!isSup && !isAgentDefinition(target)) {
      throw new ActorError(ErrorCodes.invalidAgent, 'spawn: expected a defineAgent(...) definition or a supervisor(...) spec', {
        field: 'definition',
      });
    }
    const start: StartTarget | SupervisorSpec<StartTarget> = isSup
      ? { ...(target as SupervisorSpec<StartTarget>), id }
      : options.input === undefined
        ? (target as AgentDefinition)
        : { agent: target as AgentDefinition, input: options.input };
    this.tenants.set(`/${id}`, options.tenant);
    const spec: ChildSpec<StartTarget> = {
      id,
      start,
      restart: options.restart ?? 'transient',
      ...(options.shutdownMs === undefined ? {} : { shutdownMs: options.shutdownMs }),
    };
    try {
      await this.root.startChild(spec);
    } catch (err) {
      this.tenants.delete(`/${id}`);
      throw err;
    }
    return this.ref(id);
  }

  ref(id: string): ActorRef {
    return new ActorRef(id, this);
  }

  lookup(id: string): ActorRef | undefined {
    return this.cells.has(id) || this.supervisors.has(id) ? this.ref(id) : undefined;
  }

  /** ChildHost: start (or restart) a leaf actor. */
  startChild(spec: ChildSpec<StartTarget>, context: { parentPath: string; incarnation: number }, onExit: (reason: ExitReason) => void): ChildHandle {
    const target = spec.start as StartTarget;
    const def = isAgentDefinition(target) ? target : target.agent;
    if (!isAgentDefinition(def)) {
      throw new ActorError(ErrorCodes.invalidAgent, `child "${spec.id}": start must be an agent definition or a supervisor spec`, {
        field: `children.${spec.id}.start`,
      });
    }
    const input = isAgentDefinition(target) ? undefined : target.input;
    const path = `${context.parentPath}/${spec.id}`;
    let cell = this.cells.get(spec.id);
    if (cell && cell.status !== 'exited' && cell.status !== 'stopped') {
      throw new ActorError(ErrorCodes.duplicateActor, `an actor with id "${spec.id}" is already running on node "${this.nodeId}"`, {
        field: 'id',
      });
    }
    if (!cell || cell.def !== def) cell = this.createCell(spec.id, path, context.parentPath, def, input);
    this.cells.set(spec.id, cell);
    this.exits.set(spec.id, { onExit, restart: spec.restart ?? 'permanent' });
    const started = cell;
    started.start(context.incarnation);
    this.emit({ type: '@agentos.actor.started', id: spec.id, parent: context.parentPath || '/', path, incarnation: context.incarnation });
    return {
      id: spec.id,
      stop: async (timeoutMs) => {
        await started.stop(timeoutMs);
        this.emit({ type: '@agentos.actor.stopped', id: spec.id, reason: 'shutdown', incarnation: started.incarnation });
      },
    };
  }

  /** ChildHost: a child is gone for good; its queued messages become dead letters. */
  released(id: string): void {
    const cell = this.cells.get(id);
    if (!cell || cell.status === 'running' || cell.status === 'paused') return;
    this.cells.delete(id);
    this.exits.delete(id);
    for (const env of cell.mailbox.drain()) this.undeliverable(env, `actor "${id}" stopped`);
  }

  /** ChildHost: nested supervisors register so they can be looked up and described. */
  supervisorStarted(sup: Supervisor<StartTarget>, path: string): void {
    this.supervisors.set(sup.id, sup);
    const parentTenant = this.tenantOfPath(path);
    if (!this.tenants.has(path)) this.tenants.set(path, parentTenant);
  }

  supervisorStopped(sup: Supervisor<StartTarget>): void {
    if (this.supervisors.get(sup.id) === sup) this.supervisors.delete(sup.id);
  }

  now(): number {
    return this.clock.now();
  }

  describe(id: string): Record<string, unknown> | undefined {
    const cell = this.cells.get(id);
    if (!cell) return undefined;
    const snap = cell.getSnapshot();
    return {
      agent: cell.def.name,
      version: cell.def.version,
      class: cell.latency,
      tenant: cell.tenant,
      status: cell.status,
      state: snap?.value,
      incarnation: cell.incarnation,
      mailbox: cell.mailbox.size,
      delivered: cell.delivered,
      deadlineMisses: cell.deadlineMisses,
    };
  }

  emit(event: SystemEvent): void;
  emit(type: string, data: Record<string, unknown>): void;
  emit(a: SystemEvent | string, data?: Record<string, unknown>): void {
    if (!this.sink) return;
    this.sink(typeof a === 'string' ? ({ type: a, ...data } as SystemEvent) : a);
  }

  // ── messages ───────────────────────────────────────────────────────────

  /** Validate and enqueue. Throws a typed error (and records a dead letter) on refusal. */
  route(to: string, message: unknown, options: SendOptions = {}): Envelope {
    const cell = this.cells.get(to);
    const type = typeof (message as { type?: unknown })?.type === 'string' ? (message as { type: string }).type : '?';
    if (!cell || cell.status === 'stopped' || cell.status === 'stopping') {
      const err = new ActorError(ErrorCodes.unknownActor, `no actor "${to}" on node "${this.nodeId}"`, { field: 'to' });
      this.recordDead(to, type, message, options.from, err.code);
      throw err;
    }
    let payload: { type: string };
    try {
      payload = checkMessage(cell.def, message, to, this.limits);
    } catch (err) {
      this.recordDead(to, type, message, options.from, (err as AgentOsError).code);
      throw err;
    }
    const now = this.clock.now();
    const env: Envelope = {
      id: `${this.nodeId}:${++this.msgSeq}`,
      from: options.from,
      to,
      type: payload.type,
      payload,
      class: cell.latency,
      sentAt: now,
      tenant: cell.tenant,
    };
    if (cell.latency === 'HRT') {
      const rel = options.deadlineMs ?? cell.deadlineMs;
      if (rel !== undefined) env.deadline = now + rel;
    } else if (cell.latency === 'SRT') {
      env.priority = options.priority ?? cell.priority ?? 5;
    }
    if (options.conversationId !== undefined) env.conversationId = options.conversationId;
    if (options.performative !== undefined) env.performative = options.performative;
    if (options.traceparent !== undefined) env.traceparent = options.traceparent;
    if (options.idempotencyKey !== undefined) env.idempotencyKey = options.idempotencyKey;
    if (options.replyTo !== undefined) env.replyTo = options.replyTo;
    if (options.correlationId !== undefined) env.correlationId = options.correlationId;
    const pushed = cell.mailbox.push(env);
    if (!pushed.ok) {
      const err = new MailboxFull(ErrorCodes.mailboxFull, `mailbox of "${to}" is full (${cell.mailbox.capacity} messages)`, {
        field: 'to',
        details: { capacity: cell.mailbox.capacity },
      });
      this.recordDead(to, env.type, payload, options.from, err.code);
      throw err;
    }
    if (cell.status === 'running') this.scheduler.schedule(cell);
    return env;
  }

  send(to: string, message: unknown, options?: SendOptions): void {
    this.assertRunning();
    this.route(to, message, options);
  }

  async ask(to: string, message: unknown, options: AskOptions = {}): Promise<unknown> {
    this.assertRunning();
    const timeoutMs = options.timeoutMs ?? 5000;
    const type = (message as { type?: unknown })?.type;
    const { correlationId, reply } = this.asks.open(to, String(type), timeoutMs);
    try {
      this.route(to, message, { ...options, replyTo: ASK_ADDRESS, correlationId });
    } catch (err) {
      this.asks.reject(correlationId, err);
    }
    return reply;
  }

  // CellHost
  schedule(cell: ActorCell): void {
    this.scheduler.schedule(cell);
  }

  tell(from: ActorCell, to: string, message: { type: string }, options?: SendOptions): void {
    try {
      this.route(to, message, { ...options, from: from.id });
    } catch (err) {
      if (!isAgentOsError(err)) throw err;
      // Already a dead letter; a refused send from inside a machine does not crash it.
    }
  }

  reply(from: ActorCell, env: Pick<Envelope, 'replyTo' | 'correlationId' | 'conversationId'>, value: unknown): void {
    if (env.replyTo === ASK_ADDRESS) {
      this.asks.resolve(env.correlationId, value);
      return;
    }
    if (env.replyTo === undefined) return;
    this.tell(from, env.replyTo, value as { type: string }, {
      ...(env.correlationId === undefined ? {} : { correlationId: env.correlationId }),
      ...(env.conversationId === undefined ? {} : { conversationId: env.conversationId }),
    });
  }

  exited(cell: ActorCell, reason: ExitReason): void {
    this.emit({ type: '@agentos.actor.stopped', id: cell.id, reason: describeExit(reason), incarnation: cell.incarnation });
    const exit = this.exits.get(cell.id);
    exit?.onExit(reason);
    // A child its restart type will not bring back is gone: its queue becomes dead letters.
    if (exit && !shouldRestart(exit.restart, reason)) this.released(cell.id);
  }

  // ── lifecycle of single actors ─────────────────────────────────────────

  async stopActor(id: string): Promise<void> {
    const cell = this.cells.get(id);
    const sup = this.supervisors.get(id);
    const parentPath = cell?.parentPath ?? (sup ? sup.path.slice(0, sup.path.lastIndexOf('/')) : undefined);
    if (parentPath === undefined) throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" on node "${this.nodeId}"`, { field: 'id' });
    const parent = parentPath === '' ? this.root : this.supervisorAt(parentPath);
    if (!parent) throw new ActorError(ErrorCodes.unknownActor, `supervisor of "${id}" not found`, { field: 'id' });
    await parent.terminateChild(id);
    parent.deleteChild?.(id);
  }

  pauseActor(id: string): void {
    this.cellOrThrow(id).pause();
  }

  resumeActor(id: string): void {
    this.cellOrThrow(id).resume();
  }

  snapshotOf(id: string): ReturnType<ActorCell['getSnapshot']> {
    return this.cells.get(id)?.getSnapshot();
  }

  pathOf(id: string): string {
    const cell = this.cells.get(id);
    if (cell) return cell.path;
    const sup = this.supervisors.get(id);
    return sup ? sup.path : `/${id}`;
  }

  tree(): TreeNode {
    return this.root.tree();
  }

  /** Stop every actor, children in reverse start order. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.root.stop('infinity');
    this.scheduler.stop();
    this.asks.rejectAll((target) => new ActorError(ErrorCodes.nodeStopped, `node "${this.nodeId}" stopped before "${target}" replied`));
  }

  get actorCount(): number {
    return this.cells.size;
  }

  // ── internals ──────────────────────────────────────────────────────────

  private createCell(id: string, path: string, parentPath: string, def: AgentDefinition, input: unknown): ActorCell {
    const profile: RuntimeProfile = runtimeProfile(def);
    const effectiveDef = input === undefined ? def : { ...def, input };
    const cell: ActorCell = new ActorCell(effectiveDef, {
      id,
      path,
      parentPath,
      tenant: this.tenantOfPath(path),
      latency: profile.latency,
      mailbox: createMailbox(mailboxKindFor(profile.latency), {
        capacity: profile.mailboxCapacity ?? this.mailboxDefaults.capacity,
        overflow: profile.overflow ?? this.mailboxDefaults.overflow,
        now: () => this.clock.now(),
        onDrop: (env, reason) => this.undeliverable(env, reason),
      }),
      host: this,
      deadlineMs: profile.deadlineMs,
      priority: profile.priority,
    });
    return cell;
  }

  private tenantOfPath(path: string): string | undefined {
    for (let p = path; p.length > 0; p = p.slice(0, p.lastIndexOf('/'))) {
      if (this.tenants.has(p)) return this.tenants.get(p);
    }
    return undefined;
  }

  private supervisorAt(path: string): Supervisor<StartTarget> | undefined {
    return this.supervisors.get(path.slice(path.lastIndexOf('/') + 1));
  }

  private cellOrThrow(id: string): ActorCell {
    const cell = this.cells.get(id);
    if (!cell) throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" on node "${this.nodeId}"`, { field: 'id' });
    return cell;
  }

  private undeliverable(env: Envelope, reason: string): void {
    this.recordDead(env.to, env.type, env.payload, env.from, reason, env.id);
    if (env.replyTo === ASK_ADDRESS) {
      this.asks.reject(env.correlationId, new ActorError(ErrorCodes.actorStopped, `"${env.to}" could not handle "${env.type}": ${reason}`, { field: 'to' }));
    }
  }

  private recordDead(to: string, type: string, payload: unknown, from: string | undefined, reason: string, id = '-'): void {
    this.deadLetters.add({ id, from, to, type, payload }, reason, this.clock.now());
    this.emit({ type: '@agentos.deadletter', to, from, messageType: type, reason });
  }

  private assertRunning(): void {
    if (this.stopping) throw new AgentOsError(ErrorCodes.nodeStopped, `node "${this.nodeId}" is stopped`);
  }
}
