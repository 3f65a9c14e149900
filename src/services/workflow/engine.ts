// The workflow engine: registered definitions, and the runs of them, each driven
// by a RunDriver and checkpointed in LMDB after every step. On start the engine
// resumes every run that was active (`recover`): completed steps stay completed,
// approval waits are asked again under the same id, a step that was in flight is
// retried (idempotent), or left in doubt for a person (`resolve`).
//
//   register(def)                 a validated definition (loadWorkflow / defineWorkflow)
//   start(name, input, opts?)     a new run (or the existing one, for a runId already used)
//   wait(runId)                   resolves with the run's record when it ends
//   get(runId), list(filter?)     records (copies)
//   retry(runId, step)            run a failed step again, same idempotency key
//   resolve(runId, step, r)       settle an in-doubt step: { output } or { failed: reason }
//   approve / reject              a gate, checking what the approver saw (argsHash)
//   cancel(runId, reason)         stop and compensate
//   replay(runId)                 check the recorded history follows from the definition

import type { RootDatabase } from 'lmdb';
import { randomBytes } from 'node:crypto';
import type { Kernel } from '../../kernel/kernel.js';
import { startSpan } from '../../kernel/trace.js';
import { StepAgents, type AgentLookup } from './agents.js';
import { check, digest } from './data.js';
import { RunDriver } from './driver.js';
import { WorkflowCodes, WorkflowError } from './errors.js';
import { downstream } from './gate.js';
import type { DriverHost } from './host.js';
import { ACTIVE, RunStore, type RunRecord, type RunStatus, type StepRecord } from './records.js';
import { loadWorkflow } from './load.js';
import { parseWorkflow } from './parse.js';
import { replayRun, type ReplayReport } from './replay.js';
import type { WorkflowOptions } from './validate.js';
import { WorkflowStats, type WorkflowStatsView } from './stats.js';
import type { WorkflowDefinition } from './types.js';

export interface WorkflowEngineOptions {
  kernel: Kernel;
  db: RootDatabase;
  /** Agent definitions by name (the node's `agents`). */
  agents: AgentLookup;
  newRunId?: () => string;
}

export interface StartOptions {
  /** Choose the run's id (letters, digits, `_`, `-`; ≤ 64): starting an id again returns that run. */
  runId?: string;
  tenant?: string;
}

const RUN_ID = /^[A-Za-z0-9][\w-]{0,63}$/;

export class WorkflowEngine {
  private readonly kernel: Kernel;
  private readonly store: RunStore;
  private readonly agents: StepAgents;
  private readonly defs = new Map<string, WorkflowDefinition>();
  /** Definitions by hash: runs find theirs (and loop bodies) by it. */
  private readonly byHash = new Map<string, WorkflowDefinition>();
  private readonly consented = new Map<string, readonly string[]>();
  private readonly drivers = new Map<string, RunDriver>();
  private readonly newRunId: () => string;
  private readonly agentLookup: AgentLookup;
  private readonly books = new WorkflowStats();
  private readonly host: DriverHost;
  /** OpenTelemetry: how long approval gates waited for a person (ms). */
  private readonly hitlHistogram;
  private closed = false;

  constructor(options: WorkflowEngineOptions) {
    this.kernel = options.kernel;
    this.store = new RunStore(options.db);
    this.agentLookup = options.agents;
    this.agents = new StepAgents(options.kernel, options.agents, (def, step) => this.consented.get(`${def.hash}/${step}`) ?? []);
    this.newRunId = options.newRunId ?? (() => randomBytes(6).toString('hex'));
    this.hitlHistogram = options.kernel.telemetry.meter.createHistogram('agentos.workflow.hitl.latency', { unit: 'ms', description: 'time an approval gate waited for a person' });
    this.host = this.makeHost();
  }

  /** Load, validate against this node's agents, tools and workflows, and register a workflow file. */
  load(path: string | URL): WorkflowDefinition {
    const def = loadWorkflow(path, this.lookups());
    this.register(def);
    return def;
  }

  /** As `load`, from YAML text (`file` names it in errors; `baseDir` resolves contract paths). */
  parse(text: string, options: { file?: string; baseDir?: string } = {}): WorkflowDefinition {
    const def = parseWorkflow(text, { ...this.lookups(), ...options });
    this.register(def);
    return def;
  }

  private lookups(): WorkflowOptions {
    return {
      agents: (name) => this.agentLookup(name),
      tools: (name) => this.kernel.syscalls.list().some((e) => e.kind === 'tool' && e.name === name),
      workflows: (name) => this.defs.get(name),
    };
  }

  register(def: WorkflowDefinition): void {
    this.defs.set(def.name, def);
    this.index(def);
  }

  definition(name: string): WorkflowDefinition | undefined {
    return this.defs.get(name);
  }

  definitions(): WorkflowDefinition[] {
    return [...this.defs.values()];
  }

  /** Start a run; resolves once its first record is committed (steps are under way). */
  async start(name: string, input: Record<string, unknown>, options: StartOptions = {}): Promise<{ id: string; existing: boolean }> {
    this.open();
    const def = this.defs.get(name);
    if (!def) throw new WorkflowError(WorkflowCodes.unknownWorkflow, `no workflow named "${name}" is registered`, { field: 'workflow' });
    const id = options.runId ?? this.newRunId();
    if (typeof id !== 'string' || !RUN_ID.test(id)) throw new WorkflowError(WorkflowCodes.invalid, `runId must be 1-64 letters, digits, '_' or '-' (got ${JSON.stringify(id)})`, { field: 'runId' });
    if (this.store.get(id)) return { id, existing: true };
    check(def.input, input, 'input', WorkflowCodes.badInput);
    await this.begin(def, id, input, options.tenant ?? 'default');
    return { id, existing: false };
  }

  private async begin(def: WorkflowDefinition, id: string, input: Record<string, unknown>, tenant: string, parent?: RunRecord['parent'], parentTrace?: string): Promise<RunDriver> {
    const now = this.kernel.now();
    const span = startSpan(this.kernel.telemetry, 'agentos.workflow.run', parentTrace, { 'agentos.workflow': def.name, 'agentos.workflow.run': id });
    const steps: Record<string, StepRecord> = {};
    for (const s of def.steps) steps[s.id] = { status: 'pending', attempts: 0, key: `wf/${id}/${s.id}` };
    const run: RunRecord = {
      id, workflow: def.name, version: def.version, hash: def.hash, tenant, input, status: 'running', steps, completed: [], compensated: [],
      ...(parent ? { parent } : {}),
      ...(span.traceparent ? { traceparent: span.traceparent } : {}),
      createdAt: now, updatedAt: now,
    };
    span.end();
    await this.store.save(run);
    this.audit(run, 'started', { inputHash: digest(input), definition: def.hash });
    const driver = new RunDriver(this.host, def, run);
    this.drivers.set(id, driver);
    driver.advance();
    return driver;
  }

  /** Resolves with the run's record once it has ended (completed, failed, cancelled) — or is held. */
  async wait(runId: string): Promise<RunRecord> {
    const driver = this.drivers.get(runId);
    if (driver) return structuredClone(await driver.ended());
    return this.get(runId);
  }

  get(runId: string): RunRecord {
    const run = this.drivers.get(runId)?.run ?? this.store.get(runId);
    if (!run) throw new WorkflowError(WorkflowCodes.runNotFound, `no workflow run "${runId}"`, { field: 'runId' });
    return structuredClone(run);
  }

  list(filter: { status?: RunStatus; workflow?: string; topLevel?: boolean } = {}): RunRecord[] {
    const out: RunRecord[] = [];
    for (const stored of this.store.all()) {
      const run = this.drivers.get(stored.id)?.run ?? stored;
      if (filter.status && run.status !== filter.status) continue;
      if (filter.workflow && run.workflow !== filter.workflow) continue;
      if (filter.topLevel && run.parent) continue;
      out.push(structuredClone(run));
    }
    return out;
  }

  /** Resume every active run (call once, after registering definitions). */
  async recover(): Promise<{ resumed: string[]; held: string[] }> {
    const resumed: string[] = [];
    const held: string[] = [];
    const drivers: RunDriver[] = [];
    for (const run of this.store.all()) {
      if (!ACTIVE.has(run.status) || this.drivers.has(run.id)) continue;
      const def = this.byHash.get(run.hash);
      if (!def) {
        run.status = 'held';
        run.error = { code: WorkflowCodes.unknownWorkflow, message: `run ${run.id}: workflow "${run.workflow}" with definition ${run.hash.slice(0, 12)}… is not registered (changed or removed)` };
        await this.store.save(run);
        this.audit(run, 'held', { code: run.error.code });
        held.push(run.id);
        continue;
      }
      const driver = new RunDriver(this.host, def, run);
      this.drivers.set(run.id, driver);
      drivers.push(driver);
      resumed.push(run.id);
    }
    // Every active run has a driver before any resumes, so a child that ended finds its parent.
    for (const d of drivers) await d.resume();
    return { resumed, held };
  }

  /** Run a failed step of a paused run again, with the same idempotency key. */
  async retry(runId: string, stepId: string): Promise<void> {
    const driver = this.driver(runId);
    const rec = driver.record(driver.step(stepId).id);
    if (rec.status !== 'failed' || driver.run.status !== 'paused') {
      throw new WorkflowError(WorkflowCodes.badState, `step "${stepId}" of run ${runId} is ${rec.status} in a ${driver.run.status} run; only a failed step of a paused run (on_failure: pause) can be retried`, { field: 'step' });
    }
    this.audit(driver.run, 'step-retry-requested', { key: rec.key }, stepId);
    await driver.retry(stepId);
  }

  /** Settle an in-doubt step by hand: what it produced, or that it failed (the run then compensates). */
  async resolve(runId: string, stepId: string, resolution: { output: Record<string, unknown> } | { failed: string }, by: string): Promise<void> {
    const driver = this.driver(runId);
    const step = driver.step(stepId);
    const rec = driver.record(stepId);
    if (rec.status !== 'in-doubt') throw new WorkflowError(WorkflowCodes.badState, `step "${stepId}" of run ${runId} is ${rec.status}, not in doubt`, { field: 'step' });
    this.audit(driver.run, 'step-resolved', { by, outcome: 'output' in resolution ? 'output' : 'failed' }, stepId);
    rec.status = 'running';
    if ('output' in resolution) {
      check(step.out, resolution.output, `steps.${stepId}.out`, WorkflowCodes.badOutput);
      driver.run.status = 'running';
      await driver.complete(step, rec, resolution.output);
    } else {
      await driver.fail(step, rec, new WorkflowError(WorkflowCodes.stepFailed, `resolved as failed by ${by}: ${resolution.failed}`));
    }
  }

  /** Approve a gate through the node's approval queue; `argsHash`, when given, must be what the gate asks about now. */
  approve(runId: string, stepId: string, options: { by: string; argsHash?: string; roles?: readonly string[] }): void {
    const pending = this.pendingGate(runId, stepId, options.argsHash);
    this.kernel.governance.policy.approvals.approve(pending, { by: options.by, ...(options.roles ? { roles: options.roles } : {}) });
  }

  reject(runId: string, stepId: string, options: { by: string; reason: string; roles?: readonly string[] }): void {
    const pending = this.pendingGate(runId, stepId);
    this.kernel.governance.policy.approvals.reject(pending, { by: options.by, reason: options.reason, ...(options.roles ? { roles: options.roles } : {}) });
  }

  private pendingGate(runId: string, stepId: string, argsHash?: string): string {
    const driver = this.driver(runId);
    const rec = driver.record(driver.step(stepId).id);
    if (rec.status !== 'waiting' || !rec.approval) throw new WorkflowError(WorkflowCodes.badState, `step "${stepId}" of run ${runId} is ${rec.status}, not waiting for an approval`, { field: 'step' });
    const item = this.kernel.governance.policy.approvals.get(rec.approval.id);
    if (argsHash !== undefined && item && item.argsHash !== argsHash) {
      this.audit(driver.run, 'consent-mismatch', { approval: rec.approval.id, expected: item.argsHash, given: argsHash }, stepId);
      throw new WorkflowError(WorkflowCodes.consentMismatch, `approval ${rec.approval.id} now asks about arguments with hash ${item.argsHash}, not ${argsHash}: review it again`, { field: 'argsHash' });
    }
    return rec.approval.id;
  }

  async cancel(runId: string, reason: string): Promise<void> {
    const driver = this.driver(runId);
    this.audit(driver.run, 'cancel-requested', { reason });
    driver.run.status = 'cancelled';
    await driver.cancel(reason);
  }

  replay(runId: string): ReplayReport {
    const run = this.get(runId);
    return replayRun(this.byHash.get(run.hash), this.defs.get(run.workflow), run);
  }

  stats(): WorkflowStatsView {
    return this.books.view(this.drivers.size);
  }

  /** Stop driving runs (node stopping): records stay, approval requests leave the in-memory queue. */
  close(): void {
    this.closed = true;
    for (const d of this.drivers.values()) d.detach();
    this.drivers.clear();
  }

  private open(): void {
    if (this.closed) throw new WorkflowError(WorkflowCodes.badState, 'the workflow engine is closed (node stopping)', { field: 'engine' });
  }

  private driver(runId: string): RunDriver {
    const driver = this.drivers.get(runId);
    if (driver) return driver;
    const run = this.store.get(runId);
    if (!run) throw new WorkflowError(WorkflowCodes.runNotFound, `no workflow run "${runId}"`, { field: 'runId' });
    throw new WorkflowError(WorkflowCodes.badState, `run ${runId} is ${run.status}: nothing to do`, { field: 'runId' });
  }

  private index(def: WorkflowDefinition): void {
    this.byHash.set(def.hash, def);
    for (const step of def.steps) {
      if (step.type === 'loop') this.index(step.body);
      if (step.type !== 'agent') continue;
      // Capabilities an upstream approval gate consented to, for this step's agent.
      const gates = def.steps.filter((g) => g.type === 'HITL_approval' && downstream(def.steps, g.id).some((d) => d.id === step.id));
      this.consented.set(`${def.hash}/${step.id}`, gates.flatMap((g) => (g.type === 'HITL_approval' ? g.policy.consentFor : [])));
    }
  }

  private makeHost(): DriverHost {
    return {
      kernel: this.kernel,
      store: this.store,
      agents: this.agents,
      consentedFor: (def, step) => this.consented.get(`${def.hash}/${step}`) ?? [],
      startChild: async (parent, step, def, childId, input) => {
        const stored = this.drivers.get(childId)?.run ?? this.store.get(childId);
        if (stored && !ACTIVE.has(stored.status)) {
          await this.drivers.get(parent.id)?.childEnded(step, stored);
          return;
        }
        if (stored) return; // resumed on its own; its end reaches the parent
        await this.begin(def, childId, input, parent.tenant, { run: parent.id, step }, parent.traceparent);
      },
      compensateChild: async (childId) => {
        const run = this.store.get(childId);
        if (!run || run.status !== 'completed') return;
        const def = this.byHash.get(run.hash);
        if (!def) throw new WorkflowError(WorkflowCodes.unknownWorkflow, `child run ${childId}: its definition is not registered`, { field: 'runId' });
        await new RunDriver(this.host, def, run).compensate('failed');
      },
      childDefinition: (def, step) => {
        const s = def.steps.find((x) => x.id === step)!;
        if (s.type === 'loop') return s.body;
        const child = s.type === 'workflow' ? this.defs.get(s.workflow) : undefined;
        if (!child) throw new WorkflowError(WorkflowCodes.unknownWorkflow, `step "${step}": workflow "${(s as { workflow?: string }).workflow}" is not registered`, { field: `steps.${step}.workflow` });
        return child;
      },
      ended: (run) => {
        this.drivers.delete(run.id);
        this.books.run(run.status);
        if (run.parent) void this.drivers.get(run.parent.run)?.childEnded(run.parent.step, run);
      },
      audit: (run, decision, data, step) => this.audit(run, decision, data, step),
      hitlLatency: (ms) => {
        this.books.hitl(ms);
        this.hitlHistogram.record(ms);
      },
    };
  }

  private audit(run: RunRecord, decision: string, data: Record<string, unknown> = {}, step?: string): void {
    if (decision === 'step-completed') this.books.step();
    try {
      this.kernel.governance.record({ kind: 'workflow', decision, actor: `wf.${run.id}`, tenant: run.tenant, subject: step === undefined ? run.workflow : `${run.workflow}/${step}`, data: { run: run.id, ...data } });
    } catch {
      // the audit log refusing (node stopping) must not break the run's own bookkeeping
    }
  }

}

export type { ReplayReport };
