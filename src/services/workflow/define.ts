// defineWorkflow: a workflow written in TypeScript, the same shape as the YAML
// (field names included) and the same validation; apiVersion and kind may be left out.
import { WorkflowCodes } from './errors.js';
import { fail } from './problems.js';
import { WORKFLOW_API_VERSION, WORKFLOW_KIND } from './schema.js';
import type { WorkflowSpec } from './spec.js';
import type { WorkflowDefinition } from './types.js';
import { validateWorkflow, type WorkflowOptions } from './validate.js';

export function defineWorkflow(spec: WorkflowSpec, options: WorkflowOptions): WorkflowDefinition {
  const source = options?.file ?? '<object>';
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    fail(WorkflowCodes.invalid, [], 'a workflow must be an object with name and steps', { source });
  }
  return validateWorkflow({ apiVersion: WORKFLOW_API_VERSION, kind: WORKFLOW_KIND, ...spec }, options, { source });
}
