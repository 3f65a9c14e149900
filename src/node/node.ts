// createNode: one agentos node — a kernel (root supervisor, router, scheduler,
// governance) with its storage, audit log and services, on an injected clock.
// This is the object users hold.

import { startLineage } from '../services/telemetry/lineage.js';
import { cpus, totalmem } from 'node:os';
import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import { RealClock } from '../base/clock.js';
import { AgentOsError, ErrorCodes } from '../base/errors.js';
import type { ExitReason } from '../base/exit.js';
import type { CatalogModel } from '../kernel/admission/index.js';
import { AuditLog, loadOrCreateNodeKeys } from '../kernel/audit/index.js';
import { parseCpu, parseMemory } from '../kernel/contract/index.js';
import { Governance } from '../kernel/governance.js';
import { Kernel, type SpawnOptions, type StartTarget } from '../kernel/kernel.js';
import type { ActorRef } from '../kernel/ref.js';
import { MemoryService, nodeKeyring } from '../services/memory/index.js';
import { ModelCatalog, ModelGateway } from '../services/models/index.js';
import { ServiceActor } from '../services/host/index.js';
import { createTelemetry, observeKernel } from '../services/telemetry/index.js';
import { mcpBindingEntries } from '../services/mcp/index.js';
import { approvedToolsIn, Redactor, SecretStore, ToolRegistry, toolRegistryEntries } from '../services/tools/tool.js';
import type { SupervisorSpec } from '../supervisors/types.js';
import { approvalsApi, auditApi } from './apis.js';
import { startControlServer, type ControlServer } from './control.js';
import { inspectorHub, startInspector, type InspectorHandle } from './inspector.js';
import { startCluster } from './cluster.js';
import type { ClusterNode } from '../cluster/cluster.js';
import { startBuses, startCoordination, type Coordination } from './coordination.js';
import { durabilityApi } from './durability.js';
import { validateNodeOptions } from './options.js';
import { lockNodeDir, nodePaths, openNodeDb } from './storage.js';

import type { AgentOsNode, NodeOptions } from './node-types.js';

export type { AgentOsNode, MessageOf, NodeOptions } from './node-types.js';

/** The models every node has: the deterministic local models of the gateway (no weights, no network). */
export const BUILTIN_MODELS: CatalogModel[] = new ModelCatalog().forAdmission();


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
    let inspector: InspectorHandle | undefined;
    // Services closed after the actors stop and before LMDB closes (added as they are built).
    const services: Array<{ close(): unknown }> = [];
    // Set once built; the shutdown closure is defined before it is.
    const services_: { coordination?: Coordination; cluster?: ClusterNode | undefined } = {};
    const shutdown = (reason: ExitReason): Promise<void> =>
      (closing ??= (async () => {
        try {
          // A stopping node stops answering first.
          await control?.close();
          await inspector?.close();
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
    // The inspector is not an `inspect` listener: it taps system events, samples actors and watches on demand
    // (src/node/inspector.ts), so XState inspection stays off unless the user asks for it here.
    const inspectorOptions = options.inspector === true ? {} : options.inspector || undefined;
    const hub = inspectorOptions ? inspectorHub(options.name, clock, inspectorOptions, redact) : undefined;
    const inspect = options.inspect;
    const kernel = new Kernel({
      nodeId: options.name,
      clock,
      governance,
      defer: options.defer ?? ((fn) => setImmediate(fn)),
      ...(inspect ? { inspect } : {}),
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
    // The inspector keeps the system events from here on (recovery's too), before the node is built.
    hub?.tapEarly((listener) => kernel.tap(listener));
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
      get inspector() {
        return inspector;
      },
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
    if (options.control) {
      control = await startControlServer(node, options.control === true ? {} : options.control);
      undo.push(() => control?.close());
    }
    if (hub) {
      inspector = await startInspector(node, hub, inspectorOptions);
      undo.push(() => inspector?.close());
    }
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
