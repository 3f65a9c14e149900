// The node's option and handle types (kept apart so node.ts holds the wiring only).

import type { LineageApi, LineageOptions } from '../services/telemetry/lineage.js';
import type { InspectionEvent } from 'xstate';
import type { z } from 'zod';
import type { AgentDefinition } from '../actors/define.js';
import type { Clock } from '../base/clock.js';
import type { ExitReason } from '../base/exit.js';
import type { CatalogModel, HrtPolicy } from '../kernel/admission/index.js';
import type { HrtLaneOptions, HrtLanes } from '../kernel/hrt/host.js';
import type { RegistryEntry } from '../kernel/binding/index.js';
import type { DeadLetter } from '../kernel/deadletters.js';
import type { SyscallRequest } from '../kernel/governance.js';
import type { Kernel, KernelOptions, SpawnOptions, StartTarget, SystemEvent } from '../kernel/kernel.js';
import type { ConsentOptions, Rbac } from '../kernel/policy/index.js';
import type { ActorRef } from '../kernel/ref.js';
import type { SchedulerStats } from '../kernel/scheduler.js';
import type { MemoryService, Keyring, MemoryServiceOptions } from '../services/memory/index.js';
import type { ModelGateway, ModelGatewayOptions } from '../services/models/index.js';
import type { NodeTelemetry, TelemetryOptions } from '../services/telemetry/index.js';
import type { SecretStore, ToolRegistry, AnyToolDefinition, DryRunMode } from '../services/tools/tool.js';
import type { SupervisorSpec, TreeNode } from '../supervisors/types.js';
import type { ApprovalsApi, AuditApi } from './apis.js';
import type { InspectorHandle, InspectorOptions } from './inspector.js';
import type { ClusterNode, ClusterOptions } from '../cluster/cluster.js';
import type { MigrateOptions } from '../cluster/migration/migrate.js';
import type { MigrationResult } from '../cluster/migration/protocol.js';
import type { CoordinationOptions } from './coordination.js';
import type { DurabilityApi } from './durability.js';
import type { WorkflowEngine } from '../services/workflow/engine.js';
import type { A2ABus } from '../services/a2a/index.js';
import type { BlackboardService } from '../services/blackboard/index.js';

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
  /** The inspector web UI (http://127.0.0.1:4200 by default; `true` for the defaults). */
  inspector?: boolean | InspectorOptions;
}


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
  /** The inspector, when started with `inspector`: `url`, `port`, `close()`. */
  readonly inspector: InspectorHandle | undefined;
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
