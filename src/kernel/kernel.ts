// The kernel: root supervisor and actor host of one node. Actors are admitted
// here (contract, schedulability, policy), started and stopped here, and every
// message and sensitive call crosses here (`route`, `syscall`). Time comes
// only from the injected Clock.

import { queuedByClass, rootSpec, userActorIds } from './views.js';
import type { RemoteChildren, RemoteRouting } from './remote.js';
import { placeChild } from './remote-child.js';
import { Inspection } from './inspection.js';
import { Fences } from './fence.js';
import { ADMISSION_REFUSED } from './admission/controller.js';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ActorCell, CellHost } from '../actors/cell.js';
import type { AgentDefinition } from '../actors/define.js';
import { publicSendOptions, type Envelope, type SendOptions } from '../actors/envelope.js';
import type { Clock } from '../base/clock.js';
import { ActorError, AgentOsError, ErrorCodes } from '../base/errors.js';
import { describeExit, type ExitReason } from '../base/exit.js';
import type { OverflowPolicy } from '../mailboxes/types.js';
import { shouldRestart } from '../supervisors/restart.js';
import { Supervisor } from '../supervisors/supervisor.js';
import type { ChildHandle, ChildHost, ChildSpec, RestartType, SupervisorSpec, TreeNode } from '../supervisors/types.js';
import type { Governance, SyscallRequest } from './governance.js';
import { ActorRef, type AskOptions, type RefHost } from './ref.js';
import { Router } from './router.js';
import { Scheduler } from './scheduler.js';
import { prepareSpawn } from './spawn-checks.js';
import { startLeaf, type LeafDeps } from './leaf.js';
import { SyscallTable } from './syscalls.js';
import { TenantPaths } from './tenancy.js';
import { describeCell, EventRelay, type SystemEvent } from './events.js';
import type { Durability, RecoveryReport } from './durable/manager.js';
import { durabilityFor } from './durable/wire.js';
import type { KernelOptions, SpawnOptions, StartTarget } from './kernel-types.js';
import type { HandoffPersistence } from './handoff-start.js';
import type { KernelHandoff } from './handoff.js';
import { handoffFor } from './handoff-wire.js';
import { runSyscall, type SyscallDeps } from './syscall-path.js';
import { NO_TELEMETRY, type Telemetry } from './trace.js';
import { KernelTracing } from './turn-trace.js';
import { assertUserId, SystemTree } from './system.js';
import { Lifecycle } from './lifecycle.js';
import { laneHost, type HrtLanes } from './hrt/host.js';

export type { SystemEvent } from './events.js';
export type { KernelOptions, SpawnOptions, StartTarget } from './kernel-types.js';

export class Kernel implements CellHost, ChildHost<StartTarget>, RefHost {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly router: Router;
  readonly governance: Governance;
  readonly syscalls = new SyscallTable();
  readonly xstateInspect: ((event: InspectionEvent) => void) | undefined;
  /** Persistent actors' storage and effect journal (absent without a database). */
  readonly durability: Durability | undefined;
  /** HRT lanes (worker threads started on first use). */
  readonly lanes: HrtLanes;
  /** Spans of turns and syscalls, traceparents of sends. */
  readonly tracing: KernelTracing;
  /** CellHost: turns are traced by `tracing`. */
  readonly turns: KernelTracing;
  private readonly persistence: HandoffPersistence;
  /** Actors whose new sensitive calls wait (their node lost quorum); see fence.ts. */
  readonly fences = new Fences();
  /** On-demand XState inspection for in-process services (the inspector): per actor, or every actor. */
  readonly inspection = new Inspection((id) => this.cells.get(id), () => this.cells.values());
  /** Moving actors to and from other nodes (migration, failover). */
  readonly handoff: KernelHandoff;
  private readonly syscallDeps: SyscallDeps;
  private readonly leafDeps: LeafDeps;
  private readonly events: EventRelay;
  private readonly mailboxDefaults: { capacity: number; overflow: OverflowPolicy };
  private readonly cells = new Map<string, ActorCell>();
  private readonly taps = new Set<(event: SystemEvent) => void>();
  private remote: RemoteRouting | undefined;
  private remoteChildren: RemoteChildren | undefined;
  private readonly exits = new Map<string, { onExit: (reason: ExitReason) => void; restart: RestartType }>();
  private readonly supervisors = new Map<string, Supervisor<StartTarget>>();
  private readonly tenants = new TenantPaths();
  /** Child id → path of the supervisor whose spec holds it (ids are node-wide). */
  private readonly owners = new Map<string, string>();
  private readonly root: Supervisor<StartTarget>;
  /** The kernel's service actors (tools, models, memory), beside the users' root. */
  readonly system: SystemTree<StartTarget>;
  private readonly lifecycle: Lifecycle<StartTarget>;
  private stopping = false;

  constructor(options: KernelOptions) {
    this.nodeId = options.nodeId;
    this.clock = options.clock;
    this.governance = options.governance;
    this.lanes = laneHost(options.hrt, this.clock, (e) => this.emit(e));
    this.governance.policy.budgets.onAlert((a) => this.emit('@agentos.budget.alert', { ...a }));
    // Approvals raised, decided, escalated, expired: system events `@agentos.consent.*` (redacted by the queue).
    this.governance.policy.approvals.listen(({ type, ...event }) => this.emit(`@agentos.${type}`, event));
    this.tracing = this.turns = new KernelTracing(options.telemetry ?? NO_TELEMETRY, this.nodeId, () => this.clock.now());
    this.events = new EventRelay(options.inspect, options.redact ? { redact: options.redact } : {});
    this.xstateInspect = this.events.xstate;
    this.mailboxDefaults = { capacity: options.mailbox?.capacity ?? 10_000, overflow: options.mailbox?.overflow ?? 'reject' };
    this.scheduler = new Scheduler({
      ...options.scheduler,
      clock: this.clock,
      defer: options.defer,
      onDeadlineMiss: (cell, env, late) => this.emit({ type: '@agentos.deadline.missed', id: cell.id, messageId: env.id, latenessMs: late }),
    });
    this.router = new Router({
      nodeId: this.nodeId,
      clock: this.clock,
      scheduler: this.scheduler,
      limits: { maxPayloadBytes: options.maxPayloadBytes ?? 1024 * 1024, validate: options.validate ?? true },
      cell: (id) => this.handoff.routable(id),
      emit: (e) => this.emit(e),
      audit: (record) => this.governance.record(record),
      durable: (cell) => cell.durable as never,
      remote: () => this.remote,
      ...(options.tokens ? { tokens: options.tokens } : {}),
    });
    if (options.redact) this.router.deadLetters.setRedactor(options.redact);
    this.durability = options.db ? durabilityFor(this, options.db, options.defer) : undefined;
    this.syscallDeps = {
      governance: this.governance,
      syscalls: this.syscalls,
      durability: this.durability,
      durabilityOf: (id) => (this.cells.get(id)?.durable as { persistence?: { durability: 'sync' | 'async' } } | undefined)?.persistence?.durability ?? 'sync',
      kernel: this,
    };
    ({ persistence: this.persistence, handoff: this.handoff } = handoffFor(this, { cells: this.cells, supervisors: this.supervisors, exits: this.exits }));
    this.leafDeps = {
      nodeId: this.nodeId,
      clock: this.clock,
      host: this,
      governance: this.governance,
      persistence: this.persistence,
      router: this.router,
      mailboxDefaults: this.mailboxDefaults,
      cells: this.cells,
      owners: this.owners,
      exits: this.exits,
      tenants: this.tenants,
      emit: (e) => this.emit(e),
      lanes: this.lanes,
    };
    this.root = new Supervisor<StartTarget>(rootSpec<StartTarget>(options.root), this, { clock: this.clock, path: '', onExit: (r) => options.onRootExit?.(r) });
    this.system = new SystemTree<StartTarget>(this, this.clock, (r) => options.onRootExit?.(r));
    this.lifecycle = new Lifecycle<StartTarget>({
      ...this.leafDeps,
      supervisors: this.supervisors,
      root: () => this.root,
      stopping: () => this.stopping,
    });
  }

  async start(): Promise<void> {
    await this.system.start();
    this.supervisorStarted(this.system.supervisor, this.system.supervisor.path);
    await this.root.start();
  }

  // ── spawning ────────────────────────────────────────────────────────────

  /** Admit and start an agent or a supervisor tree under the root supervisor. */
  async spawn(target: AgentDefinition | SupervisorSpec<StartTarget>, options: SpawnOptions, recovering = false): Promise<ActorRef> {
    this.assertRunning();
    const taken = (cid: string): boolean => this.cells.has(cid) || this.supervisors.has(cid) || this.owners.has(cid);
    const { start, isSup } = prepareSpawn(target, options, (cid) => taken(cid) || (!recovering && cid === options.id && this.persistence.isRegistered(cid)), this.nodeId);
    const id = options.id;
    // A persistent spawn is registered (committed) before it starts: a crash from here on brings it back.
    const registered = recovering ? false : await this.persistence.registerSpawn(id, isSup ? start : (target as AgentDefinition), options);
    this.tenants.set(`/${id}`, options.tenant);
    try {
      await this.root.startChild({
        id,
        start,
        restart: options.restart ?? 'transient',
        ...(options.shutdownMs === undefined ? {} : { shutdownMs: options.shutdownMs }),
      });
    } catch (err) {
      this.tenants.forget(`/${id}`);
      if (registered) this.persistence.forget(id);
      // Counted with the other system events (`agentos.events{type}`); the audit log has the record.
      if ((err as AgentOsError).code === ADMISSION_REFUSED) this.emit('@agentos.admission.refused', { id, agent: isSup ? undefined : (target as AgentDefinition).name, reason: (err as Error).message });
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

  /** ChildHost: admit (first start only) and start a leaf actor; a restart reuses its mailbox. */
  startChild(spec: ChildSpec<StartTarget>, context: { parentPath: string; incarnation: number }, onExit: (reason: ExitReason) => void): ChildHandle | Promise<ChildHandle> {
    const away = spec.node !== undefined && spec.node !== this.nodeId ? placeChild(spec, context.parentPath, this.remoteChildren, this.tenants) : undefined;
    return away ? this.remoteChildren!.start(away, onExit) : startLeaf(this.leafDeps, spec, context, onExit);
  }

  /** Children placed on other nodes: the cluster layer sets this. */
  setRemoteChildren(children: RemoteChildren | undefined): void {
    this.remoteChildren = children;
  }

  /** ChildHost: a child is gone for good (its supervisor dropped it); its id is free again. */
  released(id: string, context?: { parentPath: string }): void {
    this.lifecycle.released(id, context);
  }

  supervisorStarted(sup: Supervisor<StartTarget>, path: string): void {
    this.supervisors.set(sup.id, sup);
    // A top-level tree's tenant comes from spawn; a nested supervisor inherits its parent's.
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== '') this.tenants.set(path, this.tenants.of(parent));
  }

  supervisorStopped(sup: Supervisor<StartTarget>): void {
    if (this.supervisors.get(sup.id) === sup) this.supervisors.delete(sup.id);
    this.tenants.forget(sup.path);
  }


  now(): number {
    return this.clock.now();
  }

  describe(id: string): Record<string, unknown> | undefined {
    const cell = this.cells.get(id);
    if (!cell) return this.remoteChildren?.describe(id);
    const lane = this.lanes.report(id);
    return {
      ...describeCell(cell, this.governance.admittedActor(id)),
      // Counted across nodes: an actor that moved here goes on from its source's incarnation.
      incarnation: this.handoff.incarnationOf(cell),
      ...(lane ? { lane: { state: lane.state, queued: lane.queued, stats: lane.stats } } : {}),
    };
  }


  emit(event: SystemEvent): void;
  emit(type: string, data: Record<string, unknown>): void;
  emit(a: SystemEvent | string, data?: Record<string, unknown>): void {
    const event = typeof a === 'string' ? ({ type: a, ...data } as SystemEvent) : a;
    this.tracing.count(event.type);
    this.events.emit(event);
    for (const tap of this.taps) tap(event);
  }

  /** Services that must see system events (the cluster directory: actors started and stopped), whether or not anyone inspects. */
  tap(listener: (event: SystemEvent) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** Ids of the leaf actors on this node (services excluded). */
  actorIds(): string[] {
    return userActorIds(this.cells);
  }

  /** Actors on other nodes: the cluster layer sets this; messages to ids no local actor has go through it. */
  setRemote(remote: RemoteRouting | undefined): void {
    this.remote = remote;
  }


  // ── messages and calls ─────────────────────────────────────────────────

  /** An external send (no sending actor): only the public options are honoured. */
  send(to: string, message: unknown, options?: SendOptions): void {
    this.assertRunning();
    this.router.route(to, message, this.tracing.outside(publicSendOptions(options)));
  }

  ask(to: string, message: unknown, options?: AskOptions): Promise<unknown> {
    try {
      this.assertRunning();
      const timeoutMs = (options as AskOptions | null | undefined)?.timeoutMs;
      return this.router.ask(to, message, { ...this.tracing.outside(publicSendOptions(options)), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * A sensitive call on behalf of an actor: resolve the handler, check the
   * actor's contract (capabilities, consent, budgets; audited), then run it.
   */
  async syscall(actorId: string, request: SyscallRequest, signal?: AbortSignal, key?: string): Promise<unknown> {
    this.assertRunning();
    const span = this.tracing.syscall(this.cells.get(actorId), actorId, request, key);
    // Without tracing the call adds no promise layer of its own.
    if (!span) return runSyscall(this.syscallDeps, actorId, request, signal, key);
    return this.tracing.within(span, () => runSyscall(this.syscallDeps, actorId, request, signal, key, span));
  }

  get telemetry(): Telemetry {
    return this.tracing.telemetry;
  }

  // CellHost
  schedule(cell: ActorCell): void {
    this.scheduler.schedule(cell);
  }

  tell(from: ActorCell, to: string, message: { type: string }, options?: SendOptions): void {
    // A persistent sender's message carries its place in the sender's history, so a turn run again after a crash does not send it twice.
    const traceparent = options?.traceparent === undefined ? this.tracing.fromActor(from) : undefined;
    this.router.tell(from, to, message, traceparent === undefined ? options : { ...options, traceparent }, from.durable ? from.claimEffect() : undefined);
  }

  reply(from: ActorCell, env: Pick<Envelope, 'replyTo' | 'correlationId' | 'conversationId'>, value: unknown): void {
    this.router.reply(from, env, value);
  }

  call(from: ActorCell, request: SyscallRequest, signal?: AbortSignal, origin?: AnyActorRef): Promise<unknown> {
    const run = (): Promise<unknown> => this.persistence.call(from, request, signal, origin, () => this.syscall(from.id, request, signal));
    // A fenced actor's new calls wait (before anything is journaled) until the fence lifts or the actor goes.
    const gate = this.fences.gate(from.id);
    return gate ? gate.then(run) : run();
  }

  /** Send and wait until the message is accepted: journaled (and flushed, under sync durability) for a persistent actor. */
  async post(to: string, message: unknown, options?: SendOptions): Promise<void> {
    this.assertRunning();
    await this.persistence.accepted(to, this.router.route(to, message, this.tracing.outside(publicSendOptions(options))));
  }

  checkpointActor(id: string): Promise<void> {
    return this.persistence.checkpoint(id);
  }

  lost(env: Envelope, reason: string): void {
    this.router.undeliverable(env, reason);
  }

  exited(cell: ActorCell, reason: ExitReason): void {
    this.emit({ type: '@agentos.actor.stopped', id: cell.id, reason: describeExit(reason), incarnation: cell.incarnation });
    const exit = this.exits.get(cell.id);
    exit?.onExit(reason);
    // A child its restart type will not bring back is gone: its queue becomes dead letters.
    if (exit && !shouldRestart(exit.restart, reason)) {
      this.fences.drop(cell.id);
      this.lifecycle.drop(cell.id);
      // A top-level agent that ended frees its id (nested children stay in their supervisor's spec, as in OTP).
      if (cell.parentPath === '') void this.lifecycle.forgetRootChild(cell.id);
    }
  }

  // ── lifecycle of single actors ─────────────────────────────────────────

  /** Stop one actor or subtree for good (ref.stop). The kernel's service actors are not the users' to stop. */
  stopActor(id: string): Promise<void> {
    this.fences.drop(id);
    return this.lifecycle.stop(id);
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
    return this.cells.get(id)?.path ?? this.supervisors.get(id)?.path ?? `/${id}`;
  }

  /** Start every registered persistent actor again (node start); definitions are looked up by `name@version`. */
  recover(lookup: (ref: string) => AgentDefinition | undefined): Promise<RecoveryReport | undefined> {
    return this.persistence.recover(lookup);
  }

  registerDynamic(supId: string, id: string, args: unknown): Promise<void> {
    return this.persistence.registerDynamic(supId, id, args);
  }

  /** A supervisor by id (for the dynamic child API). */
  supervisor(id: string): Supervisor<StartTarget> | undefined {
    return this.supervisors.get(id);
  }

  tree(): TreeNode {
    return this.root.tree();
  }

  /** Stop every actor, children in reverse start order. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.persistence.checkpointAll(this.cells.values());
    await this.root.stop('infinity');
    // Services outlive the agents: an agent's last calls during its shutdown still find them.
    await this.system.stop();
    await this.lanes.stop();
    this.scheduler.stop();
    this.router.asks.rejectAll((target) => new ActorError(ErrorCodes.nodeStopped, `node "${this.nodeId}" stopped before "${target}" replied`));
  }

  /** Actors of the users' tree (the kernel's service actors are not counted). */
  get actorCount(): number {
    return this.cells.size - this.system.size;
  }

  /** Messages queued in mailboxes, by latency class (for metrics). */
  queuedByClass(): Record<'HRT' | 'SRT' | 'DT', number> {
    return queuedByClass(this.cells.values());
  }

  // ── internals ──────────────────────────────────────────────────────────

  private cellOrThrow(id: string): ActorCell {
    assertUserId(id);
    const cell = this.cells.get(id);
    if (!cell) throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" on node "${this.nodeId}"`, { field: 'id' });
    return cell;
  }

  private assertRunning(): void {
    if (this.stopping) throw new AgentOsError(ErrorCodes.nodeStopped, `node "${this.nodeId}" is stopped`);
  }
}
