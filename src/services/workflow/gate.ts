// Human approval gates (`type: HITL_approval`) as durable blocking steps. The
// request goes to the node's approval queue (so `node.approvals`, `agentos
// approvals` / `agentos approve <id>` and the inspector see it) under a stable id,
// `wf-<run>-<step>`, with the full context: the gate's inputs and what the steps
// it consents for will do. Its deadline is kept in the run's record, so after a
// restart the same id is asked again with the time that was left — escalated if
// the first deadline passed while the node was down.

import type { ApprovalOutcome } from '../../kernel/policy/index.js';
import { digest } from './data.js';
import type { RunDriver } from './driver.js';
import { WorkflowCodes, WorkflowError } from './errors.js';
import type { DriverHost } from './host.js';
import type { ApprovalStep, Step } from './types.js';

export class Gate {
  /** Open approvals of this run: step id → approval id. */
  private readonly open_ = new Map<string, string>();

  constructor(
    private readonly host: DriverHost,
    private readonly driver: RunDriver,
  ) {}

  /** The approval's id for a step of a run. */
  static idFor(runId: string, stepId: string): string {
    return `wf-${runId}-${stepId}`;
  }

  /** What the approver sees: the context and the steps this approval lets act. */
  args(step: ApprovalStep, input: Record<string, unknown>): Record<string, unknown> {
    const { def, run } = this.driver;
    const gated = downstream(def.steps, step.id)
      .filter((s) => s.type === 'agent' && this.host.consentedFor(def, s.id).some((c) => step.policy.consentFor.includes(c)))
      .map((s) => ({ step: s.id, agent: (s as { agent: string }).agent, needs: s.needs }));
    return {
      workflow: def.name,
      run: run.id,
      step: step.id,
      ...(step.description === undefined ? {} : { description: step.description }),
      consentFor: step.policy.consentFor,
      context: input,
      willRun: gated,
    };
  }

  /** Ask (or, after a restart, ask again); resolves once the request is queued, not when it is decided. */
  async open(step: ApprovalStep, input: Record<string, unknown>): Promise<void> {
    const { run } = this.driver;
    const rec = this.driver.record(step.id);
    const kernel = this.host.kernel;
    const now = kernel.now();
    const args = this.args(step, input);
    const id = Gate.idFor(run.id, step.id);
    if (!rec.approval) {
      rec.approval = { id, requestedAt: now, deadline: now + step.policy.timeoutMs, escalationLevel: 0, argsHash: digest(args) };
      rec.status = 'waiting';
      await this.driver.save();
    }
    const a = rec.approval;
    // Where the request stands now: still in its first window, escalated, or past every deadline.
    let level: 0 | 1 = a.escalationLevel;
    let deadline = a.deadline;
    if (deadline <= now && level === 0 && step.policy.escalateTo !== undefined) {
      level = 1;
      deadline = a.deadline + (step.policy.escalationTimeoutMs ?? step.policy.timeoutMs);
    }
    if (deadline <= now) return this.decided(step, { status: 'expired', id, escalated: level === 1 });
    const queue = kernel.governance.policy.approvals;
    let request: { id: string; promise: Promise<ApprovalOutcome> };
    try {
      request = queue.request({
        id,
        actor: `wf.${run.id}`,
        tenant: run.tenant,
        requester: `wf.${run.id}`,
        capability: step.policy.consentFor.length === 1 ? step.policy.consentFor[0]! : `workflow.${this.driver.def.name}.${step.id}`,
        args,
        reason: step.description ?? `workflow ${this.driver.def.name}: approve step "${step.id}"`,
        timeoutMs: deadline - now,
        deadline,
        ...(step.policy.escalateTo === undefined ? {} : { escalateTo: step.policy.escalateTo }),
        ...(step.policy.escalationTimeoutMs === undefined ? {} : { escalationTimeoutMs: step.policy.escalationTimeoutMs }),
        expiresInMs: 60_000,
        escalationLevel: level,
      });
    } catch (err) {
      return this.driver.fail(step, rec, err);
    }
    this.open_.set(step.id, request.id);
    kernel.emit('@agentos.workflow.waiting', { run: run.id, step: step.id, approval: id });
    const span = this.driver.span(step, rec).set({ 'agentos.approval.id': id, 'agentos.approval.escalation': level });
    // Resolves once the request is in the queue; the decision continues the run later.
    void request.promise.then((outcome) => {
      this.open_.delete(step.id);
      span.set({ 'agentos.approval.outcome': outcome.status });
      span.end(outcome.status === 'granted' || outcome.status === 'withdrawn' ? undefined : new WorkflowError(outcome.status === 'rejected' ? WorkflowCodes.rejected : WorkflowCodes.expired, `approval ${outcome.status}`));
      return this.decided(step, outcome);
    });
  }

  private async decided(step: ApprovalStep, outcome: ApprovalOutcome): Promise<void> {
    const rec = this.driver.record(step.id);
    if (rec.status !== 'waiting') return;
    if (outcome.status === 'withdrawn') return; // the node is stopping or the run is compensating: the record stays as it was
    const now = this.host.kernel.now();
    rec.approval!.decidedAt = now;
    if (outcome.status === 'granted') {
      rec.approval!.by = outcome.by;
      this.host.hitlLatency(now - rec.approval!.requestedAt);
      return this.driver.complete(step, rec, {});
    }
    if (outcome.status === 'rejected') {
      rec.approval!.by = outcome.by;
      this.host.hitlLatency(now - rec.approval!.requestedAt);
      return this.driver.fail(step, rec, new WorkflowError(WorkflowCodes.rejected, `approval ${outcome.id} rejected by ${outcome.by}: ${outcome.reason}`, { field: step.id }));
    }
    return this.driver.fail(step, rec, new WorkflowError(WorkflowCodes.expired, `approval ${outcome.id} expired${outcome.escalated ? ' after escalation' : ''} with nobody deciding`, { field: step.id }));
  }

  /** Withdraw open requests (the run is compensating or cancelled): the gate steps stay `waiting` in the record only if detached. */
  closeAll(): void {
    for (const [stepId, id] of this.open_) {
      const rec = this.driver.record(stepId);
      rec.status = 'failed';
      rec.error = { code: WorkflowCodes.cancelled, message: 'the run ended before the approval was decided', step: stepId };
      this.withdraw(id);
    }
    this.open_.clear();
  }

  /** The node is stopping: withdraw requests from the in-memory queue; records keep them `waiting` for the next start. */
  detachAll(): void {
    for (const id of this.open_.values()) this.withdraw(id);
    this.open_.clear();
  }

  private withdraw(id: string): void {
    try {
      this.host.kernel.governance.policy.approvals.withdraw(id, { by: `wf.${this.driver.run.id}`, reason: 'workflow run stopped waiting' });
    } catch {
      // already decided
    }
  }
}

/** Steps that (transitively) need `id`. */
export function downstream(steps: readonly Step[], id: string): Step[] {
  const reached = new Set([id]);
  const out: Step[] = [];
  for (const s of steps) {
    if (s.needs.some((n) => reached.has(n))) {
      reached.add(s.id);
      out.push(s);
    }
  }
  return out;
}
