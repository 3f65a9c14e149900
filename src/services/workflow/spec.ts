// What a user writes: the workflow as YAML (`kind: Workflow`) or as the same
// object in TypeScript (`defineWorkflow`). Field names are the YAML ones; the
// loader turns this into the validated IR of types.ts.

/** A field's type: `string`, `number`, `integer`, `boolean`, `object`, `any`, `T[]`, `T?`, a named type, or an inline JSON Schema. */
export type TypeSpec = string | Record<string, unknown>;

/** Field name → type. */
export type FieldsSpec = Record<string, TypeSpec>;

export interface RetrySpec {
  /** Attempts in all (default 1); more than 1 needs `idempotent: true`. */
  attempts?: number;
  backoff_ms?: number;
  factor?: number;
  max_backoff_ms?: number;
}

interface StepSpecBase {
  id: string;
  /** Steps that must complete first; default: the previous step in the list. `[]` starts at once. */
  needs?: string[];
  in?: FieldsSpec;
  out?: FieldsSpec;
  /** Explicit sources: `{ field: "<step>.<field>" | "input.<field>" }`. */
  from?: Record<string, string>;
  /** Constant inputs: `{ field: value }`. */
  with?: Record<string, unknown>;
  /** `<field> <op> <literal>` over the step's inputs; the step is skipped unless it holds. */
  when?: string;
  timeout_ms?: number;
  description?: string;
}

export interface AgentStepSpec extends StepSpecBase {
  type?: 'agent';
  agent: string;
  /** The binding mode for the step's contract (default strict). */
  bind?: 'strict' | 'smooth' | 'flexible';
  /** A contract file (relative to the workflow file, or to `baseDir`) or contract fields layered over the agent's. */
  contract?: string | Record<string, unknown>;
  mode?: 'service' | 'instance';
  message?: string;
  idempotent?: boolean;
  retry?: RetrySpec;
  compensate?: string;
}

export interface ApprovalStepSpec extends StepSpecBase {
  type: 'HITL_approval';
  policy?: {
    consent_for?: string[];
    roles?: string[];
    timeout_ms?: number;
    escalate_to?: string;
    escalation_timeout_ms?: number;
  };
}

export interface SubWorkflowStepSpec extends StepSpecBase {
  type?: 'workflow';
  workflow: string;
}

export interface LoopStepSpec extends StepSpecBase {
  type?: 'loop';
  body: BodySpec;
  until: string;
  max_iterations: number;
}

export type StepSpec = AgentStepSpec | ApprovalStepSpec | SubWorkflowStepSpec | LoopStepSpec;

/** A loop's body: an inline workflow run once per iteration. */
export interface BodySpec {
  steps: StepSpec[];
  /** Output field → `"<step>.<field>"` or `"input.<field>"`. */
  output?: Record<string, string>;
  types?: Record<string, TypeSpec>;
}

export interface WorkflowSpec {
  /** Required in YAML; optional in TypeScript. */
  apiVersion?: 'agentos/v0.2';
  kind?: 'Workflow';
  $schema?: string;
  name: string;
  /** Default "1". */
  version?: string | number;
  description?: string;
  deadline_ms?: number;
  /** When a step fails for good: `compensate` (default) or `pause` for an operator. */
  on_failure?: 'compensate' | 'pause';
  types?: Record<string, TypeSpec>;
  input?: FieldsSpec;
  steps: StepSpec[];
  /** Output field → `"<step>.<field>"` or `"input.<field>"`. */
  output?: Record<string, string>;
}
