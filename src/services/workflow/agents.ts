// Running agent steps. Each step binds its own contract: the agent's definition
// with the step's contract fields layered over its own and the step's binding
// mode, so admission and the kernel's binder (sealed manifest, audited) run per
// step at spawn. A `service` step gets a fresh actor, asked once and stopped; an
// `instance` step reuses one actor per run and agent (a stateful session) until
// the run ends. The agent answers the ask with the step's output.

import { parse as parseYaml } from 'yaml';
import { defineAgent, type AgentDefinition } from '../../actors/define.js';
import type { Kernel } from '../../kernel/kernel.js';
import { WorkflowCodes, WorkflowError } from './errors.js';
import type { AgentStep, WorkflowDefinition } from './types.js';

export type AgentLookup = (name: string) => AgentDefinition | undefined;

/** The message a step's agent receives (`type` is the step's `message`, default `step`). */
export interface StepMessage {
  type: string;
  /** The step's bound inputs. */
  input: Record<string, unknown>;
  /** The step's idempotency key: the same for every attempt, retry and resume. */
  key: string;
  run: string;
  step: string;
  attempt: number;
  /** Compensation messages: what the step produced. */
  output?: unknown;
}

export class StepAgents {
  private readonly derived = new Map<string, AgentDefinition>();

  constructor(
    private readonly kernel: Kernel,
    private readonly agents: AgentLookup,
    /** Capabilities an approval gate upstream of the step consented to (the step's agent is not asked again). */
    private readonly consented: (def: WorkflowDefinition, step: string) => readonly string[] = () => [],
  ) {}

  /** Ask the step's agent; resolves with its answer. */
  async ask(def: WorkflowDefinition, step: AgentStep, runId: string, tenant: string, message: StepMessage, traceparent?: string): Promise<unknown> {
    const id = await this.actorFor(def, step, runId, tenant, message.attempt);
    try {
      return await this.kernel.ask(id, message, { timeoutMs: step.timeoutMs, ...(traceparent ? { traceparent } : {}) });
    } finally {
      // Not awaited: the step's answer does not wait for its actor's graceful stop.
      if (step.mode === 'service') void this.stopQuietly(id);
    }
  }

  /** Stop the instance actors of a run (its sessions end with it). */
  async release(def: WorkflowDefinition, runId: string): Promise<void> {
    const agents = new Set(def.steps.filter((s): s is AgentStep => s.type === 'agent' && s.mode === 'instance').map((s) => s.agent));
    for (const agent of agents) await this.stopQuietly(instanceId(runId, agent));
  }

  private async actorFor(def: WorkflowDefinition, step: AgentStep, runId: string, tenant: string, attempt: number): Promise<string> {
    if (step.mode === 'instance') {
      const id = instanceId(runId, step.agent);
      if (this.kernel.lookup(id)) return id;
      await this.kernel.spawn(this.definitionFor(def, step), { id, tenant, restart: 'temporary' });
      return id;
    }
    const id = `wf.${runId}.${step.id}.${attempt}`;
    if (this.kernel.lookup(id)) await this.stopQuietly(id); // an earlier attempt that timed out
    // Temporary: a step actor that crashes fails its step; it is not restarted (nor counted against the root's intensity).
    await this.kernel.spawn(this.definitionFor(def, step), { id, tenant, restart: 'temporary' });
    return id;
  }

  /** The agent's definition under the step's contract and binding mode (cached per workflow step). */
  definitionFor(def: WorkflowDefinition, step: AgentStep): AgentDefinition {
    const cacheKey = `${def.name}@${def.hash}/${step.id}`;
    const hit = this.derived.get(cacheKey);
    if (hit) return hit;
    const base = this.agents(step.agent);
    if (!base) throw new WorkflowError(WorkflowCodes.unknownAgent, `step "${step.id}": no agent named "${step.agent}" is registered on this node`, { field: `steps.${step.id}.agent` });
    let out = base;
    const consented = this.consented(def, step.id);
    if (step.contract !== undefined || step.binding !== 'strict' || consented.length > 0) {
      const own = typeof base.contract === 'string' ? (parseYaml(base.contract) as Record<string, unknown>) : (base.contract ?? {});
      const contract: Record<string, unknown> = { ...own, ...(step.contract ?? {}), binding: step.binding };
      const security = contract.security as { consent_for?: string[] } | undefined;
      if (consented.length > 0 && Array.isArray(security?.consent_for)) {
        // The approval gate upstream was the human consent for these; the step's calls do not ask again.
        contract.security = { ...security, consent_for: security.consent_for.filter((c) => !consented.includes(c)) };
      }
      out = defineAgent({
        name: base.name,
        version: base.version,
        machine: base.machine,
        messages: base.messages,
        contract,
        ...(base.input === undefined ? {} : { input: base.input }),
        ...(base.persistent === undefined ? {} : { persistent: base.persistent }),
      });
    }
    this.derived.set(cacheKey, out);
    return out;
  }

  private async stopQuietly(id: string): Promise<void> {
    if (!this.kernel.lookup(id)) return;
    try {
      await this.kernel.stopActor(id);
    } catch {
      // already gone
    }
  }
}

export function instanceId(runId: string, agent: string): string {
  return `wf.${runId}.${agent}`;
}
