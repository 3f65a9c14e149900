// The workflow definition, as the engine runs it: a validated, typed DAG. YAML
// (`kind: Workflow`) and TypeScript (`defineWorkflow`) both load into this shape;
// `validateWorkflow` has checked it (known agents and tools, every input bound to
// a source of a fitting type, no cycles, schedulable classes) before a run starts.

/** A JSON Schema (draft 2020-12 subset: type, properties, required, items, enum, …). */
export type JsonSchema = Record<string, unknown>;

export type BindMode = 'strict' | 'smooth' | 'flexible';

/** Where a step's input field comes from. */
export type Source =
  /** The run's input field. */
  | { from: 'input'; field: string }
  /** An upstream step's output field. */
  | { from: 'step'; step: string; field: string }
  /** A constant given in the definition. */
  | { from: 'value'; value: unknown };

/** `field op literal`, evaluated over a step's bound inputs (`when`) or a loop body's output (`until`). */
export interface Condition {
  field: string;
  op: '==' | '!=' | '<' | '<=' | '>' | '>=';
  value: string | number | boolean | null;
  /** The expression as written, for messages. */
  text: string;
}

export interface RetryPolicy {
  /** Attempts in all (1 = no retry). Only idempotent steps are retried. */
  attempts: number;
  backoffMs: number;
  factor: number;
  maxBackoffMs: number;
}

interface StepBase {
  id: string;
  /** Steps that must complete first (explicit `needs`, else the previous step in the list). */
  needs: string[];
  /** Declared input: a JSON Schema of type object. */
  in: JsonSchema;
  /** Declared output: a JSON Schema of type object. */
  out: JsonSchema;
  /** Each `in` property's source. */
  bind: Record<string, Source>;
  /** Skip the step (status `skipped`, empty output) unless this holds over its inputs. */
  when?: Condition;
  timeoutMs: number;
}

export interface AgentStep extends StepBase {
  type: 'agent';
  /** The agent definition's name (as given to `createNode({ agents })`). */
  agent: string;
  /** Binding mode for the step's contract (`bind:` in YAML). */
  binding: BindMode;
  /** Contract fields layered over the agent's own for this step (object form; a YAML path is loaded at load time). */
  contract?: Record<string, unknown>;
  /** `service`: a fresh actor per step; `instance`: one actor per run and agent, kept for the run (a stateful session). */
  mode: 'service' | 'instance';
  /** The message type the agent receives (default `step`); it answers the ask with the output. */
  message: string;
  /** Safe to run again with the same key: retried after failures and after a crash in flight. */
  idempotent: boolean;
  retry: RetryPolicy;
  /** SAGA: the message type sent to the agent to undo this step, when a later step fails permanently. */
  compensate?: string;
}

export interface ApprovalStep extends StepBase {
  type: 'HITL_approval';
  policy: {
    /** Capabilities of downstream steps this approval consents to. */
    consentFor: string[];
    /** Roles that may approve (RBAC), when the node has RBAC. */
    roles: string[];
    timeoutMs: number;
    escalateTo?: string;
    escalationTimeoutMs?: number;
  };
  /** The approver's message (`reason` of the approval). */
  description?: string;
}

export interface SubWorkflowStep extends StepBase {
  type: 'workflow';
  /** The registered workflow's name. */
  workflow: string;
}

export interface LoopStep extends StepBase {
  type: 'loop';
  /** The body, an inline workflow run once per iteration with this step's inputs (plus `iteration`). */
  body: WorkflowDefinition;
  /** Stop after the iteration whose output satisfies this. */
  until: Condition;
  maxIterations: number;
}

export type Step = AgentStep | ApprovalStep | SubWorkflowStep | LoopStep;

export interface WorkflowDefinition {
  name: string;
  version: string;
  description?: string;
  /** The run's input: a JSON Schema of type object. */
  input: JsonSchema;
  /** The run's output: fields taken from steps. */
  output: Record<string, Source>;
  /** Named types (JSON Schemas) `in`/`out` may refer to, already inlined into the step schemas. */
  types: Record<string, JsonSchema>;
  /** A deadline for the whole run (critical path of step SLOs must fit), if any. */
  deadlineMs?: number;
  /**
   * When a step fails for good: `compensate` (default) runs the saga and ends the run `failed`;
   * `pause` leaves the run `paused` for an operator to `retry` the step (same key) or `cancel` (saga).
   */
  onFailure?: 'compensate' | 'pause';
  /** Steps in a topological order. */
  steps: Step[];
  /** SHA-256 of the canonical definition: a run records it; replay compares it. */
  hash: string;
}
