// What a run's driver needs from the engine: storage, the kernel, agents, the
// other runs (children and parents), and the books (audit, events, stats).

import type { Kernel } from '../../kernel/kernel.js';
import type { StepAgents } from './agents.js';
import type { RunRecord, RunStore } from './records.js';
import type { WorkflowDefinition } from './types.js';

export interface DriverHost {
  readonly kernel: Kernel;
  readonly store: RunStore;
  readonly agents: StepAgents;
  /** Capabilities consented by approval gates upstream of each agent step, by definition hash and step id. */
  consentedFor(def: WorkflowDefinition, step: string): readonly string[];
  /** Start (or, after a restart, re-attach to) a child run; its end is reported to the parent's `childEnded`. */
  startChild(parent: RunRecord, step: string, def: WorkflowDefinition, childId: string, input: Record<string, unknown>): Promise<void>;
  /** Compensate a completed child run (its completed steps, in reverse). */
  compensateChild(childId: string): Promise<void>;
  /** The definition a child run of `step` runs: a registered workflow, or a loop's body. */
  childDefinition(def: WorkflowDefinition, step: string): WorkflowDefinition;
  /** A run reached an end state (completed, failed, cancelled). */
  ended(run: RunRecord): void;
  audit(run: RunRecord, decision: string, data?: Record<string, unknown>, step?: string): void;
  hitlLatency(ms: number): void;
}
