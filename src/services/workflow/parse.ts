// YAML workflow text through the contract loader's safe YAML intake (size,
// depth, alias, duplicate-key and prototype-key limits), then validateWorkflow
// with positions, so every error names `file:line:col: field`.
import { DEFAULT_LIMITS } from '../../kernel/contract/guard.js';
import { parseContractYaml } from '../../kernel/contract/yaml.js';
import { WorkflowCodes } from './errors.js';
import { asWorkflowError, fail, type SourceContext } from './problems.js';
import type { WorkflowDefinition } from './types.js';
import { validateWorkflow, type WorkflowOptions } from './validate.js';

/** Parses and validates workflow YAML text. `options.file` names it in messages (default `<inline>`). */
export function parseWorkflow(text: string, options: WorkflowOptions): WorkflowDefinition {
  const ctx: SourceContext = { source: options?.file ?? '<inline>' };
  try {
    if (typeof text !== 'string') fail(WorkflowCodes.invalid, [], `workflow text must be a string (got ${typeof text})`, ctx);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > DEFAULT_LIMITS.maxBytes) fail(WorkflowCodes.invalid, [], `workflow is ${bytes} bytes; the limit is ${DEFAULT_LIMITS.maxBytes}`, ctx);
    const yaml = parseContractYaml({ text, source: ctx.source }, DEFAULT_LIMITS);
    return validateWorkflow(yaml.data, { ...options, file: ctx.source }, { source: ctx.source, locate: yaml.locate });
  } catch (err) {
    throw asWorkflowError(err, ctx);
  }
}
