// The structural check: plain data within limits, then the zod schema of the
// top level and of each step by its type (loop bodies recursively). All
// problems are collected; nothing past this point sees an unchecked shape.
import type { z } from 'zod';
import { describeZodIssue, fromZodIssues } from '../../kernel/contract/issues.js';
import { DEFAULT_LIMITS, guardTree, type ContractLimits } from '../../kernel/contract/guard.js';
import { WorkflowCodes } from './errors.js';
import { Issues, workflowError, type IssuePath, type SourceContext } from './problems.js';
import { STEP_SCHEMAS, STEP_TYPES, WorkflowTopSchema, knownKeys, type StepType } from './schema.js';
import type { WorkflowSpec } from './spec.js';

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws one WORKFLOW_INVALID listing every structural problem, or returns the data typed. */
export function checkStructure(data: unknown, ctx: SourceContext, limits: ContractLimits = DEFAULT_LIMITS): WorkflowSpec {
  const finding = guardTree(data, limits);
  if (finding) throw workflowError([{ code: WorkflowCodes.invalid, ...finding.issue }], ctx);
  const issues = new Issues();
  if (!isMapping(data)) {
    issues.add(WorkflowCodes.invalid, [], `a workflow must be a mapping with apiVersion, kind, name and steps`);
    throw workflowError(issues.list, ctx);
  }
  zodIssues(WorkflowTopSchema, data, [], issues);
  // The top level's (and each loop body's) steps are a list of unknowns to zod; each is checked by its own type's schema.
  if (Array.isArray(data.steps)) checkSteps(data.steps, ['steps'], issues);
  if (!issues.empty) throw workflowError(issues.list, ctx);
  return data as unknown as WorkflowSpec;
}

function zodIssues(schema: z.ZodType, value: unknown, path: IssuePath, issues: Issues): void {
  const parsed = schema.safeParse(value, { error: describeZodIssue });
  if (parsed.success) return;
  for (const issue of fromZodIssues(parsed.error.issues, (p) => knownKeys(schema, p))) {
    issues.add(WorkflowCodes.invalid, [...path, ...issue.path], issue.message);
  }
}

/** The step's type: `type:`, else implied by `agent:`, `workflow:` or `body:`. */
export function stepTypeOf(step: Record<string, unknown>): StepType | undefined {
  if (typeof step.type === 'string') return (STEP_TYPES as readonly string[]).includes(step.type) ? (step.type as StepType) : undefined;
  if (step.type !== undefined) return undefined;
  if ('agent' in step) return 'agent';
  if ('workflow' in step) return 'workflow';
  if ('body' in step) return 'loop';
  return undefined;
}

function checkSteps(steps: readonly unknown[], path: IssuePath, issues: Issues): void {
  steps.forEach((step, i) => {
    const at = [...path, i];
    if (!isMapping(step)) {
      issues.add(WorkflowCodes.invalid, at, 'a step must be a mapping with an id and an agent (or a type)');
      return;
    }
    const type = stepTypeOf(step);
    if (!type) {
      const message = step.type === undefined
        ? `type is required (${STEP_TYPES.join(', ')}) unless agent:, workflow: or body: says which`
        : `unknown step type ${JSON.stringify(step.type)}; one of ${STEP_TYPES.join(', ')}`;
      issues.add(WorkflowCodes.invalid, step.type === undefined ? at : [...at, 'type'], message);
      return;
    }
    zodIssues(STEP_SCHEMAS[type], step, at, issues);
    const body = step.body;
    if (type === 'loop' && isMapping(body) && Array.isArray(body.steps)) checkSteps(body.steps, [...at, 'body', 'steps'], issues);
  });
}

