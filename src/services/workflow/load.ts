// Workflow files: read size-bounded as UTF-8 by the contract loader's reader,
// then parsed like text; `contract:` paths resolve against the file's folder.
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_LIMITS } from '../../kernel/contract/guard.js';
import { readContractSource } from '../../kernel/contract/yaml.js';
import { parseWorkflow } from './parse.js';
import { asWorkflowError, type SourceContext } from './problems.js';
import type { WorkflowDefinition } from './types.js';
import type { WorkflowOptions } from './validate.js';

/**
 * Reads a workflow file (size-bounded, UTF-8) and validates it; relative
 * `contract:` paths resolve against the file's folder unless `baseDir` is given.
 */
export function loadWorkflow(path: string | URL, options: WorkflowOptions): WorkflowDefinition {
  const file = resolve(path instanceof URL ? fileURLToPath(path) : String(path));
  const ctx: SourceContext = { source: options?.file ?? file };
  try {
    const src = readContractSource(pathToFileURL(file), DEFAULT_LIMITS, ctx.source);
    return parseWorkflow(src.text, { ...options, file: ctx.source, baseDir: options.baseDir ?? dirname(file) });
  } catch (err) {
    throw asWorkflowError(err, ctx);
  }
}
