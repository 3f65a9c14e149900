// createNode: one agentos node — a kernel (root supervisor, router, scheduler,
// governance) with its storage, audit log and services, on an injected clock.
// This is the object users hold.

import { startLineage, type LineageApi, type LineageOptions } from '../services/telemetry/lineage.js';
import { cpus, totalmem } from 'node:os';
import type { InspectionEvent } from 'xstate';
import type { z } from 'zod';
import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import { RealClock, type Clock } from '../base/clock.js';
import { AgentOsError, ErrorCodes } from '../base/errors.js';
import type { ExitReason } from '../base/exit.js';
import type { CatalogModel, HrtPolicy } from '../kernel/admission/index.js';
import type { HrtLaneOptions, HrtLanes } from '../kernel/hrt/host.js';
import { AuditLog, loadOrCreateNodeKeys } from '../kernel/audit/index.js';
import type { RegistryEntry } from '../kernel/binding/index.js';
import { parseCpu, parseMemory } from '../kernel/contract/index.js';
import type { DeadLetter } from '../kernel/deadletters.js';
import { Governance, type SyscallRequest } from '../kernel/governance.js';
import { Kernel, type KernelOptions, type SpawnOptions, type StartTarget, type SystemEvent } from '../kernel/kernel.js';
import type { ConsentOptions, Rbac } from '../kernel/policy/index.js';
import type { ActorRef } from '../kernel/ref.js';
import type { SchedulerStats } from '../kernel/scheduler.js';
import { MemoryService, nodeKeyring, type Keyring, type MemoryServiceOptions } from '../services/memory/index.js';
import { ModelCatalog, ModelGateway, type ModelGatewayOptions } from '../services/models/index.js';
import { ServiceActor } from '../services/host/index.js';
import { createTelemetry, observeKernel, type NodeTelemetry, type TelemetryOptions } from '../services/telemetry/index.js';
import { mcpBindingEntries } from '../services/mcp/index.js';
import { approvedToolsIn, Redactor, SecretStore, ToolRegistry, toolRegistryEntries, type AnyToolDefinition, type DryRunMode } from '../services/tools/tool.js';
import type { SupervisorSpec, TreeNode } from '../supervisors/types.js';
import { approvalsApi, auditApi, type ApprovalsApi, type AuditApi } from './apis.js';
import { startControlServer, type ControlServer } from './control.js';
import { startCluster } from './cluster.js';
import type { ClusterNode, ClusterOptions } from '../cluster/cluster.js';
import type { MigrateOptions } from '../cluster/migration/migrate.js';
import type { MigrationResult } from '../cluster/migration/protocol.js';
import { startBuses, startCoordination, type Coordination, type CoordinationOptions } from './coordination.js';
import { durabilityApi, type DurabilityApi } from './durability.js';
import type { WorkflowEngine } from '../services/workflow/engine.js';
import type { A2ABus } from '../services/a2a/index.js';
import type { BlackboardService } from '../services/blackboard/index.js';
import { validateNodeOptions } from './options.js';
import { lockNodeDir, nodePaths, openNodeDb } from './storage.js';

/** The message type an agent definition accepts (its zod schema's input). */
export type MessageOf<D> = D extends AgentDefinition<any, infer S> ? (z.input<S> extends { type: string } ? z.input<S> : never) : never;

export interface NodeOptions extends CoordinationOptions {
  /** Lineage (`agentos trace`): per turn that makes sensitive calls, a record of them in the node's LMDB; `keep` newest turns (default 10,000), or false. */
  lineage?: false | LineageOptions;
  /** Join (or form) a cluster: `{ secret, listen?: { host, port }, seeds?: ['ws://host:port'] }`. */
  cluster?: ClusterOptions;
  /** Node name, unique in a cluster. */
  name: string;
  /** Where this node keeps its data (LMDB, keys) — under `<dataDir>/<name>/`. Default `.agentos`. */
  dataDir?: string;
  /** Time source; a VirtualClock makes everything deterministic. */
  clock?: Clock;
  /** Receives `@agentos.*` system events and XState's `@xstate.*` inspection events. */
  inspect?: (event: SystemEvent | InspectionEvent) => void;
  /** Largest message accepted, in bytes (estimated). Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Validate every message against its agent's zod schema (default true). */
  validate?: boolean;
  /** Default mailbox bound and overflow policy for agents whose contract does not say. */
  mailbox?: KernelOptions['mailbox'];
  scheduler?: KernelOptions['scheduler'];
  /** Restart intensity of the root supervisor (default 10 restarts in 5000 ms). */
  root?: KernelOptions['root'];
  /** Resources admission reserves against (default: this machine's cores and memory). */
  capacity?: { cpu?: string | number; mem?: string | number };
  /** HRT schedulability test: EDF utilisation/demand (default) or rate-monotonic with response-time analysis. */
  hrtPolicy?: HrtPolicy;
  /** The model catalog admission checks `modelPolicy` against (default: the built-in local models). */
  models?: CatalogModel[];
  /** Versions of models and tools that contracts may bind to. */
  registry?: RegistryEntry[];
  /** Conditions flexible bindings react to (`bandwidth_low`, `context_exceeds_local`, `provider_unavailable`). */
  conditions?: string[];
  rbac?: Rbac;
  /** Consent defaults: how long an approval waits (`timeoutMs`), who it escalates to (`escalateTo` role, `escalationTimeoutMs`), how long a grant lives (`expiresInMs`). */
  consent?: ConsentOptions;
  /** Token budgets per tenant (every actor of the tenant draws from them, beside its own contract budgets). */
  tenants?: Record<string, { tokens_per_minute?: number; tokens_per_second?: number; tokens?: number }>;
  /** How the scheduler yields to the event loop; default setImmediate. */
  defer?: (fn: () => void) => void;
  /**
   * Agent definitions this node can host. Registered before recovery, which starts
   * every persistent actor stored under `dataDir` again from its checkpoint.
   */
  agents?: AgentDefinition<any, any>[];
  /** Tools to register before recovery (a restored actor may resume a call to one of them at once). */
  tools?: AnyToolDefinition[];
  /** Named credentials tools may read (declared in their `secrets`); scrubbed from tool results, errors and records. */
  secrets?: SecretStore | Record<string, string>;
  /** Worker sandbox defaults: threads per pool (2), time limit (30000 ms), heap (256 MiB). */
  toolSandbox?: { maxThreads?: number; timeoutMs?: number; memoryMb?: number; idleTimeoutMs?: number; execArgv?: string[] };
  /** Run tools in simulation: their `simulate`, or only a record of the intended call. */
  dryRun?: DryRunMode;
  /** Memory and RAG (`memory.*`, `rag.*` syscalls): options, or false for none. */
  memory?: false | (Omit<MemoryServiceOptions, 'clock' | 'keyring' | 'db'> & { keyring?: Keyring });
  /**
   * The model gateway (or its options): catalog, providers (the deterministic local models by
   * default; OpenAI-compatible endpoints when configured), placement mode, routing. Its catalog is
   * what admission checks `modelPolicy` against unless `models` is given.
   */
  modelGateway?: ModelGateway | ModelGatewayOptions;
  /**
   * OpenTelemetry: spans for every delivered message, syscall, tool call, model call and retrieval, W3C
   * traceparent in every envelope; metrics. Nothing leaves the machine by default (`exporter: 'none'`);
   * `'console'` or `'otlp'` (a collector you run), or your own span processors / metric readers.
   */
  telemetry?: TelemetryOptions;
  /**
   * HRT lanes: HRT actors whose definition has `lane` run on dedicated worker threads, partitioned
   * over `lanes` (default 1) by EDF, fed through shared-memory rings. `realtime` (default true) asks the
   * OS for SCHED_FIFO; `execArgv` adds worker-safe V8 flags.
   */
  hrt?: HrtLaneOptions;
  /** HRT lane threads: the same as `hrt.lanes` (the name the design uses). */
  hrtThreads?: number;
  /**
   * Serve the local control endpoint (JSON over HTTP on 127.0.0.1, a fresh bearer token in
   * `<dataDir>/<name>/control.json`, mode 0600) that `agentos ps` and `agentos tree` talk to.
   */
  control?: boolean | { port?: number };
}

/** The models every node has: the deterministic local models of the gateway (no weights, no network). */
export const BUILTIN_MODELS: CatalogModel[] = new ModelCatalog().forAdmission();

export interface AgentOsNode {
  readonly name: string;
  readonly dataDir: string;
  readonly clock: Clock;
  /** Admit and start an agent (typed ref) or a supervisor tree under the root supervisor. */
  spawn<D extends AgentDefinition<any, any>>(definition: D, options: SpawnOptions & { /** Another node of the cluster (the definition must be registered there). */ on?: string }): Promise<ActorRef<MessageOf<D>>>;
  spawn(definition: SupervisorSpec<StartTarget>, options: SpawnOptions): Promise<ActorRef>;
  /** Start a dynamic child of a `simple_one_for_one` supervisor; `args` becomes the machine's input. */
  startChild(supervisorId: string, child?: { id?: string; args?: unknown }): Promise<ActorRef>;
  register(definition: AgentDefinition<any, any>): void;
  definition(name: string, version?: string): AgentDefinition | undefined;
  lookup(id: string): ActorRef | undefined;
  /** The live supervision tree, as JSON. */
  tree(): TreeNode;
  /** The kernel's own tree: the service actors (tools, models, memory) under `agentos.system`. */
  systemTree(): TreeNode;
  /** A sensitive call on behalf of an actor (what `invoke: syscall` does from inside a machine). */
  syscall(actorId: string, request: SyscallRequest): Promise<unknown>;
  readonly tools: ToolRegistry;
  readonly approvals: ApprovalsApi;
  readonly audit: AuditApi;
  deadLetters(): DeadLetter[];
  stats(): { actors: number; deadLetters: number; scheduler: SchedulerStats };
  /** Resolves when the node has stopped (by `stop()` or because the root supervisor gave up). */
  readonly stopped: Promise<ExitReason>;
  stop(): Promise<void>;
  /** The model gateway: `node.models.stream(actorId, call, signal)` streams a completion (policy-checked), `metrics()`. */
  readonly models: ModelGateway;
  /** Memory and RAG service (undefined with `memory: false`). */
  readonly memory: MemoryService | undefined;
  /** Persistent actors: what recovery did at start, in-doubt calls, manual resolution. */
  readonly durability: DurabilityApi;
  /**
   * HRT lanes: `directRing(id)` is the SharedArrayBuffer of a lane actor's direct safety ring (its
   * `lane.direct`), to read from an actuator thread with `RingConsumer` + `MsgpackRingCodec({ structures:
   * LANE_STRUCTURES })`; `priority(lane)` what scheduling the lane thread got; `report(id)` its latest figures.
   */
  readonly hrt: Pick<HrtLanes, 'directRing' | 'priority' | 'report' | 'gc'>;
  /** OpenTelemetry of this node: `flush()` exports what was recorded so far. */
  readonly telemetry: Pick<NodeTelemetry, 'flush'>;
  /** Agent-to-agent messages and conversations (FIPA-ACL performatives), delegation that keeps scopes. */
  readonly a2a: A2ABus;
  /** The blackboard (undefined with `blackboard: false`): `tenant(t)`, `as(actor)`, `defineTopic`, `controller`. */
  readonly blackboard: BlackboardService | undefined;
  /** This node's place in the cluster (with `createNode({ cluster })`): `url`, `members()`, `on(listener)`, `leave()`. */
  readonly cluster: ClusterNode | undefined;
  /**
   * Move a top-level agent to another member, live: paused, drained, checkpointed, started there
   * (admitted again against its contract), its queued messages and stragglers forwarded in order.
   * Called on any member; the owner does it. Typed errors: CLUSTER_NOT_MIGRATABLE,
   * CLUSTER_MIGRATION_REFUSED, CLUSTER_MIGRATION_FAILED (it carries on where it was), CLUSTER_UNKNOWN_NODE.
   */
  migrate(actorId: string, targetNode: string, options?: MigrateOptions): Promise<MigrationResult>;
  /** Workflow engine: `start(name, input)`, `wait(runId)`, `get`, `list`, `retry`, `resolve`, `approve`, `cancel`, `replay`. */
  readonly workflows: WorkflowEngine;
  /** Lineage records: `byTrace(traceId)`, `byTurn(actor, turn)`, `recent({ actor, limit })`, `find(id)` (undefined with `lineage: false`). */
  readonly lineage: LineageApi | undefined;
  /** Internal: the kernel, for services and tests. Not part of the stable API. */
  readonly kernel: Kernel;
}

export async function createNode(options: NodeOptions): Promise<AgentOsNode> {
  validateNodeOptions(options);
  const clock = options.clock ?? new RealClock();
  const dataDir = options.dataDir ?? '.agentos';
  const paths = nodePaths(dataDir, options.name);
  // One node per directory: taken before LMDB opens, released after it closes.
  const release = lockNodeDir(paths, options.name);
  // If starting fails part way, what was set up is undone, last first, and the lock released.
  const undo: (() => unknown)[] = [release];
  try {
    const db = openNodeDb(paths);
    undo.push(() => db.close());
    const keys = loadOrCreateNodeKeys(paths.root);
    const audit = await AuditLog.open({ db, keys, clock, nodeId: options.name });
    undo.push(() => audit.flushed());
    const hrtLanes = options.hrt?.lanes ?? options.hrtThreads;
    const telemetry = createTelemetry({ name: options.name, clock }, options.telemetry);
    undo.push(() => telemetry.shutdown());
    const models = options.modelGateway instanceof ModelGateway ? options.modelGateway : new ModelGateway(options.modelGateway);
    // One redactor scrubs tool results, approvals, inspect events and dead letters (one counter for all).
    const secrets = options.secrets instanceof SecretStore ? options.secrets : new SecretStore(options.secrets ?? {});
    const redactor = new Redactor({ secrets });
    const redact = (value: unknown): unknown => redactor.redact(value);
    const governance = new Governance({
      clock,
      nodeId: options.name,
      audit,
      sign: (bytes) => Buffer.from(keys.sign(bytes)).toString('hex'),
      capacity: {
        cpuMillis: parseCpu(options.capacity?.cpu ?? cpus().length),
        memBytes: parseMemory(options.capacity?.mem ?? totalmem()),
      },
      models: options.models ?? models.catalog.forAdmission(),
      ...(options.hrtPolicy ? { hrtPolicy: options.hrtPolicy } : {}),
      ...(hrtLanes === undefined ? {} : { hrtLanes }),
      // Versions contracts may bind: the node's registry, the tools given, and MCP tool versions approved before (kept in LMDB).
      registry: [...(options.registry ?? []), ...toolRegistryEntries(options.tools ?? []), ...mcpBindingEntries(approvedToolsIn(db))],
      ...(options.conditions ? { conditions: options.conditions } : {}),
      ...(options.rbac ? { rbac: options.rbac } : {}),
      ...(options.consent ? { consent: options.consent } : {}),
    });
    for (const [tenant, b] of Object.entries(options.tenants ?? {})) {
      governance.policy.budgets.setTenant(tenant, {
        ...(b.tokens_per_minute === undefined ? {} : { tpm: b.tokens_per_minute }),
        ...(b.tokens_per_second === undefined ? {} : { tps: b.tokens_per_second }),
        ...(b.tokens === undefined ? {} : { tokens: b.tokens }),
      });
    }
    governance.policy.approvals.setRedactor(redact);
    undo.push(() => governance.policy.approvals.close());
    let resolveStopped!: (reason: ExitReason) => void;
    const stopped = new Promise<ExitReason>((resolve) => (resolveStopped = resolve));
    let closing: Promise<void> | undefined;
    let control: ControlServer | undefined;
    // Services closed after the actors stop and before LMDB closes (added as they are built).
    const services: Array<{ close(): unknown }> = [];
    // Set once built; the shutdown closure is defined before it is.
    const services_: { coordination?: Coordination; cluster?: ClusterNode | undefined } = {};
    const shutdown = (reason: ExitReason): Promise<void> =>
      (closing ??= (async () => {
        try {
          // A stopping node stops answering first.
          await control?.close();
          services_.coordination?.close();
          // Leave the cluster first: the others see this node leave, not fail.
          await services_.cluster?.leave().catch(() => services_.cluster?.close());
          await kernel.stop();
          for (const service of services) await service.close();
          governance.policy.approvals.close();
          await audit.flushed();
          await kernel.durability?.flushed();
          await telemetry.shutdown();
        } finally {
          try {
            await db.close();
          } finally {
            release();
          }
        }
        resolveStopped(reason);
      })());
    const kernel = new Kernel({
      nodeId: options.name,
      clock,
      governance,
      defer: options.defer ?? ((fn) => setImmediate(fn)),
      ...(options.inspect ? { inspect: options.inspect } : {}),
      ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
      ...(options.validate === undefined ? {} : { validate: options.validate }),
      ...(options.mailbox ? { mailbox: options.mailbox } : {}),
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      ...(options.root ? { root: options.root } : {}),
      // The root supervisor gave up (intensity exceeded): as in OTP, the node goes down.
      onRootExit: (reason) => void shutdown(reason),
      db,
      telemetry: telemetry.telemetry,
      redact,
      ...(options.hrt || hrtLanes !== undefined ? { hrt: { ...options.hrt, ...(hrtLanes === undefined ? {} : { lanes: hrtLanes }) } } : {}),
    });
    observeKernel(kernel);
    // Lineage of the turns that make sensitive calls (agentos trace); closed after the actors stop, before LMDB closes.
    const lineage = options.lineage === false ? undefined : startLineage(kernel, { db, redact, ...options.lineage });
    if (lineage) services.push(lineage);
    undo.push(() => kernel.stop());
    await kernel.start();
    const definitions = new Map<string, AgentDefinition>();
    const register = (def: AgentDefinition): void => {
      if (!isAgentDefinition(def)) throw new AgentOsError(ErrorCodes.invalidAgent, 'register: expected a defineAgent(...) definition', { field: 'definition' });
      definitions.set(`${def.name}@${def.version}`, def);
      definitions.set(def.name, def);
    };
    // Services are actors under the kernel's system supervisor: every tool, model and memory syscall is a call in their mailboxes.
    await new ServiceActor(kernel, 'tools').start(['tool']);
    await new ServiceActor(kernel, 'models').start(['model']);
    if (options.memory !== false) await new ServiceActor(kernel, 'memory').start(['memory']);
    models.register(kernel);
    // Agent-to-agent conversations and the blackboard, before recovery; closed after the actors stop.
    const buses = await startBuses(kernel, db, options);
    services.push(buses);
    undo.push(() => buses.close());
    for (const def of options.agents ?? []) register(def);
    const tools = new ToolRegistry(kernel, {
      secrets,
      redactor,
      db,
      ...(options.toolSandbox ? { sandbox: options.toolSandbox } : {}),
      ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
    });
    services.push(tools);
    undo.push(() => tools.close());
    for (const tool of options.tools ?? []) {
      if (tools.has(tool.name)) tools.replace(tool);
      else tools.register(tool);
    }
    // Memory and RAG over the node's LMDB, encrypted per tenant (master key under the node dir).
    const memory =
      options.memory === false ? undefined : new MemoryService({ ...options.memory, db, clock, keyring: options.memory?.keyring ?? nodeKeyring(paths.root) });
    if (memory) {
      memory.register(kernel);
      services.push(memory);
      undo.push(() => memory.close());
    }
    // Persistent actors stored under dataDir come back before the node is handed out.
    // A stored `name@version` is restored by that version, or else by the version of that name this node has
    // (its `persistent.migrate` hook then turns the old snapshot into one it can use, or the actor is held).
    const recovery = await kernel.recover((ref) => definitions.get(ref) ?? definitions.get(ref.slice(0, ref.lastIndexOf('@'))));
    // Workflow runs resume after actors: a step's agent may be a persistent actor just recovered.
    // The cluster, once this node's own actors are back: its directory publishes them to the members.
    const cluster = options.cluster ? await startCluster(kernel, paths.root, options.cluster, (name, version) => definitions.get(version === undefined ? name : `${name}@${version}`) ?? definitions.get(name)) : undefined;
    if (cluster) undo.push(() => cluster.close());
    services_.cluster = cluster;
    const coordination = startCoordination(kernel, db, (name) => definitions.get(name), options);
    services_.coordination = coordination;
    undo.push(() => coordination.close());
    await coordination.recover();
    // Vector indexes load in the background for every actor with a memory contract, so a first query does not wait for them.
    if (memory) void memory.warmActors(kernel);
    const node: AgentOsNode = {
      name: options.name,
      dataDir,
      clock,
      kernel,
      stopped,
      tools,
      models,
      memory,
      approvals: approvalsApi(governance),
      workflows: coordination.workflows,
      cluster,
      a2a: buses.a2a,
      blackboard: buses.blackboard,
      audit: auditApi(audit),
      async spawn(definition: AgentDefinition | SupervisorSpec<StartTarget>, spawnOptions: SpawnOptions & { on?: string }): Promise<ActorRef<any>> {
        if (isAgentDefinition(definition)) register(definition);
        if (spawnOptions.on !== undefined && spawnOptions.on !== options.name) {
          // On another node, by name and version: that node must have the definition registered.
          if (!cluster) throw new AgentOsError(ErrorCodes.invalidOptions, `spawn on "${spawnOptions.on}": this node is not in a cluster`, { field: 'on' });
          if (!isAgentDefinition(definition)) throw new AgentOsError(ErrorCodes.invalidOptions, 'spawn on another node takes an agent definition, not a supervisor spec', { field: 'on' });
          const { on, ...rest } = spawnOptions;
          await cluster.remote.spawnOn(on, definition, rest);
          return kernel.ref(spawnOptions.id);
        }
        const ref = await kernel.spawn(definition, spawnOptions);
        if (memory && isAgentDefinition(definition)) void memory.warmActor(kernel, spawnOptions.id);
        return ref;
      },
      async startChild(supervisorId, child = {}) {
        const sup = kernel.supervisor(supervisorId);
        if (!sup) throw new AgentOsError(ErrorCodes.unknownActor, `no supervisor "${supervisorId}" on node "${options.name}"`, { field: 'supervisorId' });
        const id = await sup.startChild(child);
        await kernel.registerDynamic(supervisorId, id, child.args);
        return kernel.ref(id);
      },
      register,
      definition: (name, version) => definitions.get(version === undefined ? name : `${name}@${version}`),
      lookup: (id) => kernel.lookup(id),
      async migrate(actorId, targetNode, migrateOptions) {
        if (!cluster) throw new AgentOsError(ErrorCodes.invalidOptions, `migrate: node "${options.name}" is not in a cluster (createNode({ cluster }))`, { field: 'targetNode' });
        return cluster.migrate(actorId, targetNode, migrateOptions);
      },
      tree: () => kernel.tree(),
      systemTree: () => kernel.system.tree(),
      syscall: (actorId, request) => kernel.tracing.external(() => kernel.syscall(actorId, request)),
      lineage,
      deadLetters: () => kernel.router.deadLetters.list(),
      stats: () => ({ actors: kernel.actorCount, deadLetters: kernel.router.deadLetters.count, scheduler: kernel.scheduler.stats() }),
      stop: () => shutdown({ kind: 'shutdown' }),
      durability: durabilityApi(kernel, recovery),
      telemetry: { flush: () => telemetry.flush() },
      hrt: {
        directRing: (id) => kernel.lanes.directRing(id),
        priority: (lane) => kernel.lanes.priority(lane),
        report: (id) => kernel.lanes.report(id),
        gc: (lane) => kernel.lanes.gc(lane),
      },
    };
    if (options.control) control = await startControlServer(node, options.control === true ? {} : options.control);
    return node;
  } catch (err) {
    // Quietly: the error that stopped the start is the one to report.
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch {
        // best effort
      }
    }
    throw err;
  }
}
