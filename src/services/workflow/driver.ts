// Drives one run through its DAG. Every transition is written to the run's record
// before the engine acts on it: a step is marked `running` (and committed) before
// its agent is asked, and its output is committed before any step that needs it
// starts — so after a crash, completed steps are never run again and a step found
// `running` is known to have been in flight. Steps whose `needs` are done start
// together (parallel branches); a step that fails for good stops new starts, lets
// running steps settle, then compensates (saga.ts).

import { startSpan, type TraceSpan } from '../../kernel/trace.js';
import { AgentOsError } from '../../base/errors.js';
import { bindInputs, check, digest, holds } from './data.js';
import { WorkflowCodes, WorkflowError } from './errors.js';
import { Gate } from './gate.js';
import type { DriverHost } from './host.js';
import { ACTIVE, type ErrorRecord, type RunRecord, type StepRecord } from './records.js';
import { compensate } from './saga.js';
import type { AgentStep, LoopStep, Step, WorkflowDefinition } from './types.js';

export class RunDriver {
  /** Steps dispatched by this process and not yet settled. */
  private readonly inFlight = new Set<string>();
  private readonly timers = new Set<unknown>();
  private readonly gate: Gate;
  private compensating = false;
  /** The node is stopping: outcomes arriving now are not recorded (the record keeps what was committed). */
  private detached = false;
  private endResolvers: ((run: RunRecord) => void)[] = [];

  constructor(
    private readonly host: DriverHost,
    readonly def: WorkflowDefinition,
    readonly run: RunRecord,
  ) {
    this.gate = new Gate(host, this);
  }

  /** Resolves when the run reaches an end state (or stops being driven). */
  ended(): Promise<RunRecord> {
    if (!ACTIVE.has(this.run.status)) return Promise.resolve(this.run);
    return new Promise((resolve) => this.endResolvers.push(resolve));
  }

  step(id: string): Step {
    const step = this.def.steps.find((s) => s.id === id);
    if (!step) throw new WorkflowError(WorkflowCodes.unknownStep, `workflow "${this.def.name}" has no step "${id}"`, { field: 'step' });
    return step;
  }

  record(id: string): StepRecord {
    return this.run.steps[id]!;
  }

  async save(): Promise<void> {
    if (this.detached) return;
    this.run.updatedAt = this.host.kernel.now();
    await this.host.store.save(this.run);
  }

  /** Continue a run loaded from storage: settle what was in flight when the node stopped, then advance. */
  async resume(): Promise<void> {
    if (this.run.status === 'compensating') return void this.compensate();
    for (const step of this.def.steps) {
      const rec = this.record(step.id);
      if (rec.status === 'waiting') await this.gate.open(step as Extract<Step, { type: 'HITL_approval' }>, rec.input as Record<string, unknown>);
      else if (rec.status === 'running') await this.resumeRunning(step, rec);
      else if (rec.status === 'pending' && rec.retryAt !== undefined) this.retryLater(step, rec.retryAt);
    }
    this.advance();
  }

  private async resumeRunning(step: Step, rec: StepRecord): Promise<void> {
    if (step.type === 'workflow' || step.type === 'loop') {
      // The child run resumes on its own; its end reaches `childEnded` (at once if it ended before the crash).
      this.inFlight.add(step.id);
      await this.host.startChild(this.run, step.id, this.host.childDefinition(this.def, step.id), rec.child!, childInput(step, rec));
      return;
    }
    if (step.type !== 'agent') return;
    if (step.idempotent) {
      // In flight at the crash, safe to run again with the same key.
      this.host.audit(this.run, 'step-resumed', { attempt: rec.attempts }, step.id);
      void this.dispatchAgent(step, rec);
      return;
    }
    rec.status = 'in-doubt';
    rec.error = { code: WorkflowCodes.inDoubt, message: `step "${step.id}" was in flight when the node stopped; it is not idempotent, so whether it acted is unknown`, step: step.id };
    this.host.audit(this.run, 'step-in-doubt', { attempt: rec.attempts }, step.id);
    this.host.kernel.emit('@agentos.workflow.in-doubt', { run: this.run.id, step: step.id });
    await this.save();
  }

  /** Start every step whose `needs` are done; finish or compensate the run when nothing is left to start. */
  advance(): void {
    if (this.detached) return;
    if (this.run.status !== 'running' && this.run.status !== 'waiting' && this.run.status !== 'in-doubt') return;
    if (this.run.error) {
      if (this.def.onFailure === 'pause' && this.run.error.code !== WorkflowCodes.cancelled) {
        if (this.inFlight.size === 0) this.run.status = 'paused';
        return;
      }
      return this.maybeCompensate();
    }
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const step of this.def.steps) {
        const rec = this.record(step.id);
        if (rec.status !== 'pending' || rec.retryAt !== undefined || !this.ready(step)) continue;
        const input = bindInputs(step.bind, this.run);
        if (step.when && !holds(step.when, input)) {
          rec.status = 'skipped';
          rec.endedAt = this.host.kernel.now();
          this.host.audit(this.run, 'step-skipped', { when: step.when.text }, step.id);
          progressed = true;
          continue;
        }
        void this.start(step, rec, input);
      }
    }
    this.updateStatus();
    if (this.def.steps.every((s) => ['completed', 'skipped'].includes(this.record(s.id).status))) void this.finish();
  }

  private ready(step: Step): boolean {
    return step.needs.every((n) => ['completed', 'skipped'].includes(this.record(n).status));
  }

  private updateStatus(): void {
    if (this.run.status === 'compensating' || !ACTIVE.has(this.run.status)) return;
    const statuses = this.def.steps.map((s) => this.record(s.id).status);
    this.run.status = statuses.includes('in-doubt') ? 'in-doubt' : statuses.includes('running') || this.inFlight.size > 0 ? 'running' : statuses.includes('waiting') ? 'waiting' : 'running';
  }

  private async start(step: Step, rec: StepRecord, input: Record<string, unknown>): Promise<void> {
    // Marked before the first await, so a second `advance` does not start it again.
    rec.status = step.type === 'HITL_approval' ? 'waiting' : 'running';
    rec.input = input;
    rec.inputHash = digest(input);
    rec.startedAt = this.host.kernel.now();
    this.inFlight.add(step.id);
    try {
      check(step.in, input, `steps.${step.id}.in`, WorkflowCodes.badInput);
      if (step.type === 'HITL_approval') {
        this.inFlight.delete(step.id);
        await this.gate.open(step, input);
        this.updateStatus();
        return;
      }
      if (step.type === 'agent') return await this.dispatchAgent(step, rec);
      rec.attempts++;
      rec.iteration = 0;
      rec.child = childId(this.run.id, step, 0);
      await this.save();
      await this.host.startChild(this.run, step.id, this.host.childDefinition(this.def, step.id), rec.child, childInput(step, rec));
    } catch (err) {
      await this.fail(step, rec, err);
    }
  }

  /** Ask the agent (the step is `running` and committed first); retries idempotent steps with backoff. */
  private async dispatchAgent(step: AgentStep, rec: StepRecord): Promise<void> {
    this.inFlight.add(step.id);
    rec.status = 'running';
    rec.attempts++;
    delete rec.retryAt;
    await this.save();
    const span = this.span(step, rec);
    try {
      const output = await this.host.agents.ask(this.def, step, this.run.id, this.run.tenant, {
        type: step.message,
        input: rec.input as Record<string, unknown>,
        key: rec.key,
        run: this.run.id,
        step: step.id,
        attempt: rec.attempts,
      }, span.traceparent);
      check(step.out, output, `steps.${step.id}.out`, WorkflowCodes.badOutput);
      span.end();
      await this.complete(step, rec, output as Record<string, unknown>);
    } catch (err) {
      span.end(err);
      if (this.detached) return;
      if (step.idempotent && rec.attempts < step.retry.attempts && !(err instanceof WorkflowError && err.code === WorkflowCodes.badInput)) {
        const delay = Math.min(step.retry.maxBackoffMs, step.retry.backoffMs * step.retry.factor ** (rec.attempts - 1));
        rec.status = 'pending';
        rec.retryAt = this.host.kernel.now() + delay;
        rec.error = errorRecord(err, step.id);
        this.inFlight.delete(step.id);
        this.host.audit(this.run, 'step-retry', { attempt: rec.attempts, code: rec.error.code, delayMs: delay }, step.id);
        this.retryLater(step, rec.retryAt);
        await this.save();
        return;
      }
      await this.fail(step, rec, err);
    }
  }

  private retryLater(step: Step, at: number): void {
    const clock = this.host.kernel.clock;
    const timer = clock.setTimeout(() => {
      this.timers.delete(timer);
      const rec = this.record(step.id);
      if (rec.status !== 'pending' || !ACTIVE.has(this.run.status) || this.run.error) return;
      void this.dispatchAgent(step as AgentStep, rec);
    }, Math.max(0, at - clock.now()));
    this.timers.add(timer);
  }

  async complete(step: Step, rec: StepRecord, output: Record<string, unknown>): Promise<void> {
    if (this.detached || rec.status === 'completed') return; // a duplicate answer: the first one counts
    rec.status = 'completed';
    rec.output = output;
    rec.endedAt = this.host.kernel.now();
    delete rec.error;
    this.run.completed.push(step.id);
    this.inFlight.delete(step.id);
    this.host.audit(this.run, 'step-completed', { attempts: rec.attempts, inputHash: rec.inputHash, outputHash: digest(output) }, step.id);
    this.host.kernel.emit('@agentos.workflow.step', { run: this.run.id, step: step.id, status: 'completed' });
    this.updateStatus();
    // The next steps start at once: each awaits its own `running` write before it dispatches, and
    // LMDB commits writes in order, so this completion is durable before any step that needs it runs.
    const saved = this.save();
    this.advance();
    await saved;
  }

  async fail(step: Step, rec: StepRecord, err: unknown): Promise<void> {
    if (this.detached) return;
    rec.status = 'failed';
    rec.error = errorRecord(err, step.id);
    rec.endedAt = this.host.kernel.now();
    this.inFlight.delete(step.id);
    this.run.error ??= { ...rec.error, message: `step "${step.id}" failed: ${rec.error.message}` };
    this.host.audit(this.run, 'step-failed', { code: rec.error.code, attempts: rec.attempts }, step.id);
    this.host.kernel.emit('@agentos.workflow.step', { run: this.run.id, step: step.id, status: 'failed', code: rec.error.code });
    if (this.def.onFailure === 'pause' && this.run.error.code !== WorkflowCodes.cancelled) {
      // An operator decides: `retry` the step (same key) or `cancel` the run (saga).
      if (this.inFlight.size === 0) this.run.status = 'paused';
      this.host.audit(this.run, 'paused', { code: rec.error.code }, step.id);
      await this.save();
      return;
    }
    await this.save();
    this.maybeCompensate();
  }

  /** Retry a failed step of a paused (or still running) run, with the same key. */
  async retry(stepId: string): Promise<void> {
    const rec = this.record(stepId);
    rec.status = 'pending';
    delete rec.error;
    delete this.run.error;
    this.run.status = 'running';
    await this.save();
    this.advance();
  }

  /** A child run (sub-workflow or loop iteration) ended. */
  async childEnded(stepId: string, child: RunRecord): Promise<void> {
    const step = this.step(stepId);
    const rec = this.record(stepId);
    if (rec.status !== 'running' || rec.child !== child.id) return;
    if (child.status !== 'completed') {
      const error = child.error ?? { code: WorkflowCodes.stepFailed, message: `child run ${child.id} ${child.status}` };
      return this.fail(step, rec, new WorkflowError(error.code, `child run ${child.id}: ${error.message}`));
    }
    const output = child.output ?? {};
    if (step.type === 'loop') {
      rec.iteration = (rec.iteration ?? 0) + 1;
      if (!holds(step.until, output)) {
        if (rec.iteration >= step.maxIterations) {
          return this.fail(step, rec, new WorkflowError(WorkflowCodes.stepFailed, `loop "${step.id}" ran ${step.maxIterations} iterations without reaching until (${step.until.text})`));
        }
        rec.child = childId(this.run.id, step, rec.iteration);
        await this.save();
        await this.host.startChild(this.run, step.id, this.host.childDefinition(this.def, step.id), rec.child, childInput(step, rec));
        return;
      }
    }
    try {
      check(step.out, output, `steps.${step.id}.out`, WorkflowCodes.badOutput);
    } catch (err) {
      return this.fail(step, rec, err);
    }
    await this.complete(step, rec, output);
  }

  private maybeCompensate(): void {
    if (this.inFlight.size > 0 || this.compensating) return;
    void this.compensate();
  }

  /** SAGA: undo completed steps in reverse completion order, then end the run `failed` (or `cancelled`). */
  async compensate(final: 'failed' | 'cancelled' = this.run.status === 'cancelled' ? 'cancelled' : 'failed'): Promise<void> {
    if (this.compensating) return;
    this.compensating = true;
    this.gate.closeAll();
    this.run.status = 'compensating';
    await this.save();
    await compensate(this.host, this);
    this.run.status = final;
    await this.end();
  }

  async cancel(reason: string): Promise<void> {
    this.run.error ??= { code: WorkflowCodes.cancelled, message: reason };
    if (this.inFlight.size > 0) {
      // Running steps settle first (their outcome decides what to undo); then the saga runs.
      this.run.status = 'running';
      return;
    }
    await this.compensate('cancelled');
  }

  private async finish(): Promise<void> {
    if (this.run.status === 'completed') return;
    const output = bindInputs(this.def.output, this.run);
    this.run.output = output;
    this.run.status = 'completed';
    await this.end();
  }

  private async end(): Promise<void> {
    for (const t of this.timers) this.host.kernel.clock.clearTimeout(t);
    this.timers.clear();
    await this.host.agents.release(this.def, this.run.id);
    this.host.audit(this.run, this.run.status, this.run.error ? { code: this.run.error.code } : { outputHash: digest(this.run.output) });
    this.host.kernel.emit('@agentos.workflow.run', { run: this.run.id, workflow: this.def.name, status: this.run.status });
    await this.save();
    this.host.ended(this.run);
    for (const r of this.endResolvers.splice(0)) r(this.run);
  }

  /** Stop driving (node stopping): pending gates are withdrawn from the queue; records stay as they are. */
  detach(): void {
    this.detached = true;
    for (const t of this.timers) this.host.kernel.clock.clearTimeout(t);
    this.timers.clear();
    this.gate.detachAll();
  }

  /** A step's span under the run's trace (agent steps: the ask; gates: the wait for a person). */
  span(step: Step, rec: StepRecord): TraceSpan {
    return startSpan(this.host.kernel.telemetry, 'agentos.workflow.step', this.run.traceparent, {
      'agentos.workflow': this.def.name,
      'agentos.workflow.run': this.run.id,
      'agentos.workflow.step': step.id,
      'agentos.workflow.step.type': step.type,
      'agentos.workflow.attempt': rec.attempts,
    });
  }
}

export function childId(runId: string, step: Step, iteration: number): string {
  return step.type === 'loop' ? `${runId}.${step.id}.${iteration}` : `${runId}.${step.id}`;
}

function childInput(step: Step, rec: StepRecord): Record<string, unknown> {
  const input = { ...(rec.input as Record<string, unknown>) };
  if ((step as LoopStep).type === 'loop') input.iteration = rec.iteration ?? 0;
  return input;
}

export function errorRecord(err: unknown, step?: string): ErrorRecord {
  const code = err instanceof AgentOsError ? err.code : WorkflowCodes.stepFailed;
  const message = err instanceof Error ? err.message : String(err);
  return { code, message, ...(step === undefined ? {} : { step }) };
}
