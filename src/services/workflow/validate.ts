// validateWorkflow: a structurally checked spec (YAML or TypeScript) becomes
// the IR the engine runs, or one WorkflowError listing every problem found:
// types, step ids and needs, cycles, step kinds, bindings, conditions,
// schedulability. Loop bodies are compiled by the same function.
import { dirname } from 'node:path';
import { AgentOsError, ErrorCodes } from '../../base/errors.js';
import { CanonicalJsonError, canonicalJson, sha256Hex } from '../../base/canonical.js';
import { bindOutput, bindSteps, type BindableStep } from './bind.js';
import { checkCondition, readCondition } from './condition.js';
import { WorkflowCodes } from './errors.js';
import { findCycle, longestPath, topologicalOrder } from './graph.js';
import {
  DEFAULT_TIMEOUT_MS, agentKind, approvalKind, loopKind, subWorkflowKind,
  type AgentInfo, type CompiledBody, type KindResult, type StepContext, type WorkflowLookups,
} from './kinds.js';
import { Issues, asWorkflowError, workflowError, type IssuePath, type SourceContext } from './problems.js';
import type { BodySpec, StepSpec, WorkflowSpec } from './spec.js';
import { checkStructure, stepTypeOf } from './structure.js';
import { EMPTY_OBJECT, compileFields, compileNamedTypes } from './typelang.js';
import type { Condition, JsonSchema, Source, Step, WorkflowDefinition } from './types.js';

export interface WorkflowOptions {
  /** The node's agents: a step's `agent:` must name one. */
  agents: (name: string) => AgentInfo | undefined;
  /** The node's tools: when given, every `consent_for` entry (but `x.*` wildcards) must name one. */
  tools?: (name: string) => boolean;
  /** Registered workflows, for `workflow:` steps (none when absent). */
  workflows?: (name: string) => WorkflowDefinition | undefined;
  /** Where relative `contract:` paths resolve: default the workflow file's folder, else the working directory. */
  baseDir?: string;
  /** The name messages give the source (a file path; `<inline>` or `<object>` by default). */
  file?: string;
}

/** The SHA-256 of a definition's canonical JSON, `hash` left out: what `hash` holds. */
export function workflowHash(def: Omit<WorkflowDefinition, 'hash'> & { hash?: string }): string {
  const { hash: _hash, ...rest } = def;
  return sha256Hex(canonicalJson(rest));
}

/**
 * Checks a workflow spec (the YAML shape, as parsed data or a TypeScript
 * object) and returns its IR. `ctx` maps paths to YAML positions when there is a document.
 */
export function validateWorkflow(spec: unknown, options: WorkflowOptions, ctx: SourceContext = { source: options?.file ?? '<object>' }): WorkflowDefinition {
  try {
    checkOptions(options);
    const checked = checkStructure(spec, ctx);
    const issues = new Issues();
    const lookups: WorkflowLookups = {
      agents: options.agents, tools: options.tools, workflows: options.workflows,
      baseDir: options.baseDir ?? (options.file ? dirname(options.file) : process.cwd()),
    };
    const compiled = compileDefinition(checked, { lookups, issues, ancestors: [checked.name], path: [], labelPrefix: '', types: {} });
    if (!issues.empty) throw workflowError(issues.list, ctx);
    // A fresh copy: nothing in the IR is shared with the caller's spec (or between steps), so later edits cannot change a hashed definition.
    return structuredClone(compiled.def);
  } catch (err) {
    throw asWorkflowError(err, ctx);
  }
}

function checkOptions(options: WorkflowOptions): void {
  if (typeof options !== 'object' || options === null || typeof options.agents !== 'function') {
    throw new AgentOsError(ErrorCodes.invalidOptions, 'workflow options need agents: (name) => agent | undefined', { field: 'agents' });
  }
  for (const key of ['tools', 'workflows'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new AgentOsError(ErrorCodes.invalidOptions, `workflow option ${key} must be a function`, { field: key });
    }
  }
}

interface Env {
  lookups: WorkflowLookups;
  issues: Issues;
  ancestors: readonly string[];
  /** Path of the definition in the document (`[]`, or a loop step's `body`). */
  path: IssuePath;
  /** Prefix of step labels in messages (`refine.` inside a body). */
  labelPrefix: string;
  /** Named types of the enclosing workflow. */
  types: Readonly<Record<string, JsonSchema>>;
}

type DefinitionSpec = Pick<WorkflowSpec, 'name' | 'version' | 'description' | 'deadline_ms' | 'on_failure' | 'input'> & BodySpec;

interface Draft extends BindableStep, KindResult {
  when?: Condition;
  timeoutMs: number;
}

function compileDefinition(spec: DefinitionSpec, env: Env, bodyInput?: JsonSchema): CompiledBody {
  const { issues, path } = env;
  const types = compileNamedTypes(spec.types, env.types, issues, [...path, 'types']);
  const input = bodyInput ?? compileFields(spec.input, types, issues, [...path, 'input'], 'input: ');
  const drafts = draftSteps(spec, env, types);

  const firsts = new Map<string, Draft>();
  for (const d of drafts) if (!firsts.has(d.id)) firsts.set(d.id, d);
  const nodes = [...firsts.values()];
  const cycle = findCycle(nodes);
  let order: Draft[] = nodes;
  let binds = new Map<string, Record<string, Source>>();
  if (cycle) {
    const at = firsts.get(cycle[0] as string) as Draft;
    issues.add(WorkflowCodes.cycle, [...at.path, 'needs'], `steps wait on each other in a cycle: ${cycle.map((id) => env.labelPrefix + id).join(' → ')} (each needs the next)`);
  } else {
    binds = bindSteps(nodes, input, issues);
    order = topologicalOrder(nodes).map((id) => firsts.get(id) as Draft);
  }
  const output = bindOutput(spec.output, nodes, input, [...path, 'output'], issues);

  const critical = cycle ? { path: [], total: 0 } : longestPath(order, (id) => (firsts.get(id) as Draft).weightMs);
  if (spec.deadline_ms !== undefined && critical.total > spec.deadline_ms) {
    const parts = critical.path.map((id) => `${id} ${(firsts.get(id) as Draft).weightMs} ms`).join(' → ');
    issues.add(WorkflowCodes.unschedulable, [...path, 'deadline_ms'],
      `the critical path takes ${critical.total} ms (${parts}) but deadline_ms is ${spec.deadline_ms}; shorten the steps' SLOs or timeouts, run steps in parallel, or raise the deadline`);
  }

  const steps = order.map((d): Step => ({
    id: d.id, needs: [...d.needs], in: d.in, out: d.out, bind: binds.get(d.id) ?? {}, ...(d.when ? { when: d.when } : {}), timeoutMs: d.timeoutMs, ...d.fields,
  }) as Step);
  const def: Omit<WorkflowDefinition, 'hash'> = {
    name: spec.name, version: String(spec.version ?? '1'), ...(spec.description !== undefined ? { description: spec.description } : {}),
    input, output: output.output, types, ...(spec.deadline_ms !== undefined ? { deadlineMs: spec.deadline_ms } : {}),
    ...(spec.on_failure !== undefined ? { onFailure: spec.on_failure } : {}), steps,
  };
  let hash = '';
  try {
    hash = workflowHash(def);
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    issues.add(WorkflowCodes.invalid, path, `holds something that is not JSON data (${err.message})`);
  }
  return { def: { ...def, hash }, outputSchema: output.schema, criticalMs: critical.total };
}

/** Each step checked on its own: id, needs, declared types, its kind, its condition. */
function draftSteps(spec: DefinitionSpec, env: Env, types: Readonly<Record<string, JsonSchema>>): Draft[] {
  const { issues } = env;
  const ids = new Set(spec.steps.map((s) => s.id));
  const seen = new Set<string>();
  return spec.steps.map((s, i): Draft => {
    const path = [...env.path, 'steps', i];
    const label = env.labelPrefix + s.id;
    if (seen.has(s.id)) issues.add(WorkflowCodes.duplicateStep, [...path, 'id'], `step id "${label}" is used twice; step ids must be unique`);
    if (s.id === 'input') issues.add(WorkflowCodes.invalid, [...path, 'id'], '"input" is reserved (input.<field> names the run input); rename the step');
    seen.add(s.id);
    const needs = s.needs ? [...new Set(s.needs)] : i > 0 ? [(spec.steps[i - 1] as StepSpec).id] : [];
    (s.needs ?? []).forEach((n, j) => {
      if (!ids.has(n)) issues.add(WorkflowCodes.unknownStep, [...path, 'needs', j], `step "${label}" needs "${n}", which is not a step of this workflow`);
    });
    const declaredIn = s.in === undefined ? undefined : compileFields(s.in, types, issues, [...path, 'in'], `step "${label}": in: `);
    const declaredOut = s.out === undefined ? undefined : compileFields(s.out, types, issues, [...path, 'out'], `step "${label}": out: `);
    const timeoutMs = s.timeout_ms ?? DEFAULT_TIMEOUT_MS;
    const ctx: StepContext = {
      lookups: env.lookups, issues, path, label, ancestors: env.ancestors, timeoutMs,
      compileBody: (body, input, at, lbl) => compileDefinition(
        { ...body, name: `${spec.name}.${s.id}`, version: spec.version },
        { ...env, path: at, labelPrefix: `${lbl}.`, types }, input),
    };
    const kind = kindOf(s, { in: declaredIn, out: declaredOut }, ctx);
    const draft: Draft = { ...kind, id: s.id, path, label, needs, from: s.from, with: s.with, timeoutMs };
    if (s.when !== undefined) {
      const cond = readCondition(s.when);
      if ('error' in cond) {
        issues.add(WorkflowCodes.invalid, [...path, 'when'], `step "${label}": when ${cond.error}`);
      } else {
        draft.when = cond;
        const problem = checkCondition(cond, kind.in, 'the step\'s inputs');
        if (problem) issues.add(problem.code, [...path, 'when'], `step "${label}": when ${problem.message}`);
      }
    }
    return draft;
  });
}

/** Sub-workflow steps default `in`/`out` to the sub-workflow's, loops `out` to the body's; the rest to no fields. */
function kindOf(s: StepSpec, declared: { in?: JsonSchema; out?: JsonSchema }, ctx: StepContext): KindResult {
  const empty = EMPTY_OBJECT;
  switch (stepTypeOf(s as unknown as Record<string, unknown>)) {
    case 'HITL_approval':
      return approvalKind(s as Extract<StepSpec, { type: 'HITL_approval' }>, { in: declared.in ?? empty }, ctx);
    case 'workflow':
      return subWorkflowKind(s as Extract<StepSpec, { workflow: string }>, declared, ctx);
    case 'loop':
      return loopKind(s as Extract<StepSpec, { body: BodySpec }>, { in: declared.in ?? empty, out: declared.out }, ctx);
    default:
      return agentKind(s as Extract<StepSpec, { agent: string }>, { in: declared.in ?? empty, out: declared.out ?? empty }, ctx);
  }
}
