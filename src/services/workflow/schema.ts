// The workflow file's shape as zod schemas: one source for the structural
// check (field names, types, ranges) and for the JSON Schema editors use
// (schemas/workflow.v0.2.json). Cross-field rules (binding, types, cycles,
// agents) are validate.ts's job.
import { z } from 'zod';
import { AGENT_NAME_PATTERN } from '../../base/names.js';
import { CAPABILITY_PATTERN, ROLE_PATTERN } from '../../kernel/contract/names.js';

export const WORKFLOW_API_VERSION = 'agentos/v0.2';
export const WORKFLOW_KIND = 'Workflow';
/** Where the generated schema is committed, relative to the repository root. */
export const WORKFLOW_JSON_SCHEMA_PATH = 'schemas/workflow.v0.2.json';

export const STEP_TYPES = ['agent', 'HITL_approval', 'workflow', 'loop'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** Step ids: a letter or `_`, then letters, digits, `_`, `-` (no `.`: `<step>.<field>` splits at the dot). */
export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** Field names in `in`, `out`, `input`, `output` and conditions. */
export const FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** `<step>.<field>` or `input.<field>`. */
export const REFERENCE_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}\.[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MESSAGE_PATTERN = /^[A-Za-z_][\w.:-]{0,127}$/;
export const MAX_STEPS = 256;

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : Array.isArray(v) ? 'a list' : typeof v === 'object' && v !== null ? 'a mapping' : String(v));

function named(pattern: RegExp, what: string, example: string) {
  return z.string().regex(pattern, { error: (iss) => `${what} must match ${pattern.source}, like ${example} (got ${show(iss.input)})` });
}

const positiveInt = z.number().int().positive();
const stepId = named(STEP_ID_PATTERN, 'a step id', '"plan"');
const fieldName = named(FIELD_PATTERN, 'a field name', '"summary"');
const reference = named(REFERENCE_PATTERN, 'a source', '"plan.queries" or "input.address"');
const typeSpec = z.union([z.string().min(1).max(256), z.record(z.string(), z.unknown())], {
  error: (iss) => `must be a type like "string", "Citation[]", "integer?" or a JSON Schema mapping (got ${show(iss.input)})`,
});
const fields = z.record(fieldName, typeSpec);
const references = z.record(fieldName, reference);
const condition = z.string().min(1).max(1024);

const common = {
  id: stepId,
  needs: z.array(stepId).max(MAX_STEPS).optional().describe('Steps that must complete first; default: the previous step in the list.'),
  in: fields.optional().describe('Declared inputs: field → type.'),
  out: fields.optional().describe('Declared outputs: field → type.'),
  from: references.optional().describe('Explicit sources of inputs: field → "<step>.<field>" or "input.<field>".'),
  with: z.record(fieldName, z.unknown()).optional().describe('Constant inputs: field → value.'),
  when: condition.optional().describe('Run only if `<field> <op> <literal>` holds over the inputs; else skipped.'),
  timeout_ms: positiveInt.optional().describe('Step timeout, ms (default 30000).'),
  description: z.string().max(4096).optional(),
};

export const RetrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(100).optional(),
  backoff_ms: z.number().int().nonnegative().optional(),
  factor: z.number().min(1).max(100).optional(),
  max_backoff_ms: z.number().int().nonnegative().optional(),
});

export const AgentStepSchema = z.strictObject({
  ...common,
  type: z.literal('agent').optional(),
  agent: named(AGENT_NAME_PATTERN, 'an agent name', '"planner"'),
  bind: z.enum(['strict', 'smooth', 'flexible']).optional().describe('The binding mode of the step\'s contract (default strict).'),
  contract: z
    .union([z.string().min(1).max(1024), z.record(z.string(), z.unknown())])
    .optional()
    .describe('A contract file (relative to the workflow file) or contract fields layered over the agent\'s.'),
  mode: z.enum(['service', 'instance']).optional().describe('service: a fresh actor per step; instance: one actor per run and agent.'),
  message: named(MESSAGE_PATTERN, 'a message type', '"step"').optional().describe('Message type sent to the agent (default "step").'),
  idempotent: z.boolean().optional(),
  retry: RetrySchema.optional(),
  compensate: named(MESSAGE_PATTERN, 'a message type', '"retract"').optional().describe('SAGA: message type that undoes the step.'),
});

export const ApprovalPolicySchema = z.strictObject({
  consent_for: z.array(named(CAPABILITY_PATTERN, 'a capability', '"email.send"')).max(256).optional(),
  roles: z.array(named(ROLE_PATTERN, 'a role', '"permit-officer"')).max(64).optional(),
  timeout_ms: positiveInt.optional().describe('How long the gate waits for a decision (default 86400000, a day).'),
  escalate_to: named(ROLE_PATTERN, 'a role', '"supervisor"').optional(),
  escalation_timeout_ms: positiveInt.optional(),
});

export const ApprovalStepSchema = z.strictObject({
  ...common,
  type: z.literal('HITL_approval'),
  policy: ApprovalPolicySchema.optional(),
});

export const SubWorkflowStepSchema = z.strictObject({
  ...common,
  type: z.literal('workflow').optional(),
  workflow: named(AGENT_NAME_PATTERN, 'a workflow name', '"research"'),
});

const workflowName = named(AGENT_NAME_PATTERN, 'a workflow name', '"city_permit_assistant"');
const typesMap = z.record(named(FIELD_PATTERN, 'a type name', '"Citation"'), typeSpec);

/**
 * Builds the loop, body and top-level schemas around a given schema for a list
 * of steps: `z.array(z.unknown())` for the structural check (each step is then
 * checked by its own type's schema, for precise messages), the recursive union
 * for the JSON Schema.
 */
function around(stepList: z.ZodType) {
  const body = z.strictObject({
    steps: stepList,
    output: references.optional(),
    types: typesMap.optional(),
  });
  const loop = z.strictObject({
    ...common,
    type: z.literal('loop').optional(),
    body,
    until: condition.describe('Stop after the iteration whose output satisfies `<field> <op> <literal>`.'),
    max_iterations: z.number().int().min(1).max(1_000_000),
  });
  const top = z.strictObject({
    $schema: z.string().max(2048).optional().describe('JSON Schema reference for editors; ignored.'),
    apiVersion: z.literal(WORKFLOW_API_VERSION),
    kind: z.literal(WORKFLOW_KIND),
    name: workflowName,
    version: z.union([z.string().min(1).max(64), z.number()]).optional().describe('Default "1".'),
    description: z.string().max(4096).optional(),
    deadline_ms: positiveInt.optional().describe('The critical path of step SLOs must fit in this many ms.'),
    on_failure: z.enum(['compensate', 'pause']).optional().describe('When a step fails for good: compensate (default: the saga, run failed) or pause (an operator retries the step or cancels).'),
    types: typesMap.optional().describe('Named types (JSON Schema or a type expression) usable in in/out/input.'),
    input: fields.optional().describe('The run\'s input: field → type.'),
    steps: stepList,
    output: references.optional().describe('The run\'s output: field → "<step>.<field>" or "input.<field>".'),
  });
  return { body, loop, top };
}

const shallowSteps = z.array(z.unknown()).min(1, { error: 'must have at least 1 step' }).max(MAX_STEPS);
const shallow = around(shallowSteps);
export const LoopStepSchema = shallow.loop;
export const BodySchema = shallow.body;
/** The top level, steps unchecked (each is checked with the schema of its type). */
export const WorkflowTopSchema = shallow.top;

export const STEP_SCHEMAS: Record<StepType, z.ZodObject> = {
  agent: AgentStepSchema,
  HITL_approval: ApprovalStepSchema,
  workflow: SubWorkflowStepSchema,
  loop: LoopStepSchema,
};

/** Field names each schema knows, for "did you mean" hints. */
export function knownKeys(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let s: any = schema;
  for (const seg of path) {
    s = unwrap(s);
    const def = s?._zod?.def;
    if (def?.type === 'object') s = def.shape[seg];
    else if (def?.type === 'array' && typeof seg === 'number') s = def.element;
    else if (def?.type === 'record') s = def.valueType;
    else return [];
  }
  s = unwrap(s);
  return s?._zod?.def?.type === 'object' ? Object.keys(s._zod.def.shape) : [];
}

function unwrap(s: any): any {
  const def = s?._zod?.def;
  if (def && (def.type === 'optional' || def.type === 'default' || def.type === 'nullable')) return unwrap(def.innerType);
  return s;
}

/** JSON Schema (draft 2020-12) of a workflow file, steps recursive through loop bodies. */
export function workflowJsonSchema(): Record<string, unknown> {
  const step: z.ZodType = z.lazy(() => z.union([AgentStepSchema, ApprovalStepSchema, SubWorkflowStepSchema, deep.loop]).meta({ id: 'Step' }));
  const deep = around(z.array(step).min(1).max(MAX_STEPS));
  const generated = z.toJSONSchema(deep.top, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: `agentos Workflow (${WORKFLOW_API_VERSION})`,
    description: 'A typed DAG of agent steps, approval gates, sub-workflows and loops. agentos also checks agents, bindings, types, cycles and schedulability.',
    ...rest,
  };
}

/** The schema as committed: two-space JSON with a trailing newline. */
export function workflowJsonSchemaText(): string {
  return `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
}
