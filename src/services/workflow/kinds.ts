// What each step type adds to the IR, and its checks: agents and their
// contracts (HRT refused), approval gates (known tools), sub-workflows (known,
// not including themselves, types fitting), loops (a checked body and `until`).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ContractError } from '../../base/errors.js';
import { describeZodIssue, fromZodIssues } from '../../kernel/contract/issues.js';
import { loadContract, loadContractLayer } from '../../kernel/contract/parse.js';
import { ContractSchema } from '../../kernel/contract/schema.js';
import { checkCondition, readCondition } from './condition.js';
import { WorkflowCodes } from './errors.js';
import type { Issues, IssuePath } from './problems.js';
import type { AgentStepSpec, ApprovalStepSpec, BodySpec, LoopStepSpec, SubWorkflowStepSpec } from './spec.js';
import { EMPTY_OBJECT, describeType, fieldsOf, fits, objectSchema } from './typelang.js';
import type { AgentStep, ApprovalStep, JsonSchema, LoopStep, RetryPolicy, Step, SubWorkflowStep, WorkflowDefinition } from './types.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 86_400_000;
export const DEFAULT_RETRY: Readonly<RetryPolicy> = { attempts: 1, backoffMs: 100, factor: 2, maxBackoffMs: 10_000 };

/** What a step's `agent:` must name: a known agent, with its contract if it has one. */
export interface AgentInfo {
  /** The agent's own contract: an object (YAML field names) or YAML text. */
  contract?: Record<string, unknown> | string;
}

export interface WorkflowLookups {
  agents: (name: string) => AgentInfo | undefined;
  /** When given, each `consent_for` entry must name a tool it knows. */
  tools?: (name: string) => boolean;
  /** Registered workflows for `workflow:` steps. */
  workflows?: (name: string) => WorkflowDefinition | undefined;
  /** Where relative `contract:` paths resolve. */
  baseDir: string;
}

export interface CompiledBody {
  def: WorkflowDefinition;
  outputSchema: JsonSchema;
  /** The body's critical path, ms (for the enclosing deadline). */
  criticalMs: number;
}

export interface StepContext {
  lookups: WorkflowLookups;
  issues: Issues;
  /** The step's path in the document. */
  path: IssuePath;
  /** The step as messages name it (`refine.draft` inside a body). */
  label: string;
  /** The enclosing workflows' names, outermost first (a sub-workflow naming one of these includes itself). */
  ancestors: readonly string[];
  timeoutMs: number;
  compileBody: (body: BodySpec, input: JsonSchema, path: IssuePath, label: string) => CompiledBody;
}

type Own<S extends Step> = Omit<S, 'id' | 'needs' | 'in' | 'out' | 'bind' | 'when' | 'timeoutMs'>;
export type KindFields = Own<AgentStep> | Own<ApprovalStep> | Own<SubWorkflowStep> | Own<LoopStep>;

export interface KindResult {
  fields: KindFields;
  in: JsonSchema;
  out: JsonSchema;
  /** The step's share of the critical path, ms. */
  weightMs: number;
}

/** Contract fields a step may layer over its agent's: any subset, each valid. */
const ContractLayerSchema = ContractSchema.partial();

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function agentKind(spec: AgentStepSpec, declared: { in: JsonSchema; out: JsonSchema }, ctx: StepContext): KindResult {
  const { issues, path, label } = ctx;
  const agent = ctx.lookups.agents(spec.agent);
  if (!agent) issues.add(WorkflowCodes.unknownAgent, [...path, 'agent'], `step "${label}": unknown agent "${spec.agent}" (not among the node's agents)`);
  const contract = stepContract(spec, ctx);
  const ownClass = isMapping(contract?.class) ? contract.class : undefined;
  const cls = ownClass ?? agentClass(agent);
  let weightMs = ctx.timeoutMs;
  if (cls?.latency === 'HRT') {
    issues.add(WorkflowCodes.unschedulable, ownClass ? [...path, 'contract'] : [...path, 'agent'],
      `step "${label}": agent "${spec.agent}" is HRT; HRT actors run on fixed-period lanes and a workflow step is a request/response turn, so use an SRT or DT agent`);
  } else if (isMapping(cls?.slo)) {
    const slo = cls.latency === 'SRT' ? cls.slo.turn_ms : cls.latency === 'DT' ? cls.slo.completion_sla_ms : undefined;
    if (typeof slo === 'number' && slo > 0) weightMs = slo;
  }
  const retry: RetryPolicy = {
    attempts: spec.retry?.attempts ?? DEFAULT_RETRY.attempts,
    backoffMs: spec.retry?.backoff_ms ?? DEFAULT_RETRY.backoffMs,
    factor: spec.retry?.factor ?? DEFAULT_RETRY.factor,
    maxBackoffMs: spec.retry?.max_backoff_ms ?? DEFAULT_RETRY.maxBackoffMs,
  };
  const idempotent = spec.idempotent ?? false;
  if (retry.attempts > 1 && !idempotent) {
    issues.add(WorkflowCodes.invalid, [...path, 'retry', 'attempts'],
      `step "${label}": retry.attempts is ${retry.attempts} but the step is not idempotent; only idempotent steps are retried (add idempotent: true)`);
  }
  const fields: Own<AgentStep> = {
    type: 'agent', agent: spec.agent, binding: spec.bind ?? 'strict', mode: spec.mode ?? 'service', message: spec.message ?? 'step',
    idempotent, retry, ...(contract ? { contract } : {}), ...(spec.compensate ? { compensate: spec.compensate } : {}),
  };
  return { fields, ...declared, weightMs };
}

/** The step's contract layer: a file (loaded and validated whole) or inline fields (each checked). */
function stepContract(spec: AgentStepSpec, ctx: StepContext): Record<string, unknown> | undefined {
  const at = [...ctx.path, 'contract'];
  if (typeof spec.contract === 'string') {
    const file = resolve(ctx.lookups.baseDir, spec.contract);
    try {
      return loadContract(pathToFileURL(file), { filename: file }) as Record<string, unknown>;
    } catch (err) {
      const why = err instanceof ContractError ? err.message.split('\n')[0] : String(err);
      ctx.issues.add(WorkflowCodes.invalid, at, `step "${ctx.label}": cannot load contract ${JSON.stringify(spec.contract)}: ${why}`);
      return undefined;
    }
  }
  if (spec.contract === undefined) return undefined;
  // A layer is partial; each field present must be valid (the whole merged contract is checked at spawn).
  const parsed = ContractLayerSchema.safeParse(spec.contract, { error: describeZodIssue });
  if (!parsed.success) {
    for (const issue of fromZodIssues(parsed.error.issues, () => Object.keys(ContractSchema.shape))) {
      ctx.issues.add(WorkflowCodes.invalid, [...at, ...issue.path], `step "${ctx.label}": contract: ${issue.message}`);
    }
    return undefined;
  }
  return spec.contract;
}

/** The agent's own latency class; an agent contract that does not read is the kernel's concern, not the workflow's. */
function agentClass(agent: AgentInfo | undefined): Record<string, unknown> | undefined {
  let contract = agent?.contract;
  if (typeof contract === 'string') {
    try {
      contract = loadContractLayer(contract);
    } catch {
      return undefined;
    }
  }
  return isMapping(contract) && isMapping(contract.class) ? contract.class : undefined;
}

export function approvalKind(spec: ApprovalStepSpec, declared: { in: JsonSchema }, ctx: StepContext): KindResult {
  const { issues, path, label } = ctx;
  if (spec.out && Object.keys(spec.out).length > 0) issues.add(WorkflowCodes.invalid, [...path, 'out'], `step "${label}": an approval gate outputs nothing; remove out:`);
  const policy = spec.policy ?? {};
  (policy.consent_for ?? []).forEach((tool, j) => {
    if (ctx.lookups.tools && !tool.endsWith('.*') && !ctx.lookups.tools(tool)) {
      issues.add(WorkflowCodes.unknownTool, [...path, 'policy', 'consent_for', j], `step "${label}": consent_for names "${tool}", which is not among the node's tools`);
    }
  });
  if (policy.escalation_timeout_ms !== undefined && policy.escalate_to === undefined) {
    issues.add(WorkflowCodes.invalid, [...path, 'policy', 'escalation_timeout_ms'], `step "${label}": escalation_timeout_ms needs escalate_to`);
  }
  const fields: Own<ApprovalStep> = {
    type: 'HITL_approval',
    policy: {
      consentFor: [...(policy.consent_for ?? [])], roles: [...(policy.roles ?? [])], timeoutMs: policy.timeout_ms ?? DEFAULT_APPROVAL_TIMEOUT_MS,
      ...(policy.escalate_to ? { escalateTo: policy.escalate_to } : {}),
      ...(policy.escalation_timeout_ms ? { escalationTimeoutMs: policy.escalation_timeout_ms } : {}),
    },
    ...(spec.description ? { description: spec.description } : {}),
  };
  // Human time is not scheduled: a gate adds nothing to the critical path.
  return { fields, in: declared.in, out: EMPTY_OBJECT, weightMs: 0 };
}

export function subWorkflowKind(spec: SubWorkflowStepSpec, declared: { in?: JsonSchema; out?: JsonSchema }, ctx: StepContext): KindResult {
  const { issues, path, label } = ctx;
  const at = [...path, 'workflow'];
  const fields: Own<SubWorkflowStep> = { type: 'workflow', workflow: spec.workflow };
  const fallback = { fields, in: declared.in ?? EMPTY_OBJECT, out: declared.out ?? EMPTY_OBJECT, weightMs: ctx.timeoutMs };
  if (ctx.ancestors.includes(spec.workflow)) {
    issues.add(WorkflowCodes.unknownWorkflow, at, `step "${label}": workflow "${spec.workflow}" includes itself (${[...ctx.ancestors.slice(ctx.ancestors.indexOf(spec.workflow)), spec.workflow].join(' → ')})`);
    return fallback;
  }
  const sub = ctx.lookups.workflows?.(spec.workflow);
  if (!sub) {
    issues.add(WorkflowCodes.unknownWorkflow, at, `step "${label}": unknown workflow "${spec.workflow}" (not registered)`);
    return fallback;
  }
  const loop = inclusionCycle(sub, ctx.ancestors, ctx.lookups);
  if (loop) {
    issues.add(WorkflowCodes.unknownWorkflow, at, `step "${label}": workflow "${spec.workflow}" includes this workflow again (${loop.join(' → ')})`);
    return fallback;
  }
  const subOut = workflowOutputSchema(sub);
  const inSchema = declared.in ?? sub.input;
  const outSchema = declared.out ?? subOut;
  const whyIn = fits(inSchema, sub.input);
  if (whyIn) issues.add(WorkflowCodes.typeMismatch, [...path, 'in'], `step "${label}": in (${describeType(inSchema)}) does not fit the input of workflow "${sub.name}" (${describeType(sub.input)}): ${whyIn}`);
  const whyOut = fits(subOut, outSchema);
  if (whyOut) issues.add(WorkflowCodes.typeMismatch, [...path, 'out'], `step "${label}": the output of workflow "${sub.name}" (${describeType(subOut)}) does not fit out (${describeType(outSchema)}): ${whyOut}`);
  return { fields, in: inSchema, out: outSchema, weightMs: ctx.timeoutMs };
}

/** A registered workflow that reaches back to one of `ancestors` through its sub-workflows and loop bodies: the chain. */
function inclusionCycle(sub: WorkflowDefinition, ancestors: readonly string[], lookups: WorkflowLookups): string[] | undefined {
  const seen = new Set<string>();
  const stack: { def: WorkflowDefinition; chain: string[] }[] = [{ def: sub, chain: [...ancestors, sub.name] }];
  while (stack.length > 0) {
    const { def, chain } = stack.pop() as { def: WorkflowDefinition; chain: string[] };
    if (seen.has(def.name)) continue;
    seen.add(def.name);
    for (const name of subWorkflowNames(def)) {
      if (ancestors.includes(name)) return [...chain, name];
      const next = lookups.workflows?.(name);
      if (next) stack.push({ def: next, chain: [...chain, name] });
    }
  }
  return undefined;
}

function subWorkflowNames(def: WorkflowDefinition): string[] {
  return def.steps.flatMap((s) => (s.type === 'workflow' ? [s.workflow] : s.type === 'loop' ? subWorkflowNames(s.body) : []));
}

/** The object schema of a definition's output, from the schemas of the fields it takes. */
export function workflowOutputSchema(def: WorkflowDefinition): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [field, source] of Object.entries(def.output)) {
    let from: JsonSchema | undefined;
    if (source.from === 'input') from = def.input;
    else if (source.from === 'step') from = def.steps.find((s) => s.id === source.step)?.out;
    const name = source.from === 'value' ? undefined : source.field;
    const f = from && name !== undefined ? fieldsOf(from) : undefined;
    properties[field] = (f && name !== undefined ? f.properties[name] : undefined) ?? {};
    if (f && name !== undefined && f.required.has(name)) required.push(field);
  }
  return objectSchema(properties, required);
}

export function loopKind(spec: LoopStepSpec, declared: { in: JsonSchema; out?: JsonSchema }, ctx: StepContext): KindResult {
  const { issues, path, label } = ctx;
  const own = fieldsOf(declared.in);
  if (Object.hasOwn(own.properties, 'iteration')) {
    issues.add(WorkflowCodes.invalid, [...path, 'in', 'iteration'], `step "${label}": "iteration" is given to the body by the loop; rename this input`);
  }
  const bodyInput = objectSchema({ ...own.properties, iteration: { type: 'integer' } }, [...own.required, 'iteration']);
  const body = ctx.compileBody(spec.body, bodyInput, [...path, 'body'], label);
  const until = readCondition(spec.until);
  const untilAt = [...path, 'until'];
  let condition = { field: '', op: '==' as const, value: null, text: spec.until } as LoopStep['until'];
  if ('error' in until) {
    issues.add(WorkflowCodes.invalid, untilAt, `step "${label}": until ${until.error}`);
  } else {
    condition = until;
    const problem = checkCondition(until, body.outputSchema, 'the body\'s output fields');
    if (problem) issues.add(problem.code, untilAt, `step "${label}": until ${problem.message}`);
  }
  const out = declared.out ?? body.outputSchema;
  const why = fits(body.outputSchema, out);
  if (why) issues.add(WorkflowCodes.typeMismatch, [...path, 'out'], `step "${label}": the body's output (${describeType(body.outputSchema)}) does not fit out (${describeType(out)}): ${why}`);
  const fields: Own<LoopStep> = { type: 'loop', body: body.def, until: condition, maxIterations: spec.max_iterations };
  return { fields, in: declared.in, out, weightMs: body.criticalMs * spec.max_iterations };
}
