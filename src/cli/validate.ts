// `agentos validate <files…>`: checks declarative files offline, with the same
// loader the node uses, and reports `file:line:col: field: message` per problem.
// Agent Contracts and Workflows (offline: a workflow's agents are not known here, so
// any agent name passes; its structure, types, bindings, graph and conditions are
// checked, and `workflow:` steps may name workflows given earlier on the line).
// Any other `kind` is named as unsupported.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { ContractError, isAgentOsError } from '../base/errors.js';
import { CONTRACT_KIND, DEFAULT_LIMITS, loadContract, type LatencyClass } from '../kernel/contract/index.js';
import { ContractErrorCodes, contractError } from '../kernel/contract/issues.js';
import { parseContractYaml, readContractSource } from '../kernel/contract/yaml.js';
import { loadWorkflow } from '../services/workflow/load.js';
import type { WorkflowDefinition } from '../services/workflow/types.js';
import { outPaint, type CliIo } from './exit.js';
import { PLAIN, type Paint } from './style.js';

export type FileVerdict =
  | { file: string; ok: true; kind: typeof CONTRACT_KIND; name: string; class: LatencyClass }
  | { file: string; ok: true; kind: 'Workflow'; name: string; steps: number }
  | { file: string; ok: false; code: string; message: string; details?: Record<string, unknown> };

/** A URL, so that a file name that looks like YAML text is still read as a file. */
const fileUrl = (file: string): URL => pathToFileURL(resolve(file));

/**
 * A ContractError naming `kind` when the file declares some other kind. Files that
 * do not even parse are left to loadContract, which reports them with positions.
 */
function unsupportedKind(file: string) {
  let parsed;
  try {
    parsed = parseContractYaml(readContractSource(fileUrl(file), DEFAULT_LIMITS, file), DEFAULT_LIMITS);
  } catch {
    return undefined;
  }
  const kind = (parsed.data as Record<string, unknown>).kind;
  if (typeof kind !== 'string' || kind === CONTRACT_KIND || kind === 'Workflow') return undefined;
  const message = `unsupported kind ${JSON.stringify(kind.slice(0, 40))}; this version validates kind: ${CONTRACT_KIND} and Workflow`;
  return contractError(ContractErrorCodes.invalid, [{ path: ['kind'], message }], { source: file, locate: parsed.locate });
}

function declaredKind(file: string): unknown {
  try {
    return (parseContractYaml(readContractSource(fileUrl(file), DEFAULT_LIMITS, file), DEFAULT_LIMITS).data as Record<string, unknown>).kind;
  } catch {
    return undefined;
  }
}

/** Check one file; `workflows` holds the workflows validated before it (for `workflow:` steps). */
export function validateFile(file: string, workflows: Map<string, WorkflowDefinition> = new Map()): FileVerdict {
  try {
    // Said plainly here: the loader's own message also explains its text-or-path heuristic.
    if (!existsSync(file)) throw new ContractError(ContractErrorCodes.read, `${file}: no such file`, { field: 'file' });
    const wrongKind = unsupportedKind(file);
    if (wrongKind) throw wrongKind;
    if (declaredKind(file) === 'Workflow') {
      const def = loadWorkflow(resolve(file), { file, agents: () => ({}), workflows: (name) => workflows.get(name) });
      workflows.set(def.name, def);
      return { file, ok: true, kind: 'Workflow', name: def.name, steps: def.steps.length };
    }
    const contract = loadContract(fileUrl(file), { filename: file });
    return { file, ok: true, kind: CONTRACT_KIND, name: contract.name, class: contract.class.latency };
  } catch (err) {
    if (!isAgentOsError(err)) throw err;
    return { file, ok: false, code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  }
}

/** One line per valid file; the error's own `file:line:col: field: message` lines per invalid one. */
export function formatVerdict(v: FileVerdict, p: Paint = PLAIN): string {
  if (!v.ok) return p.red(v.message);
  return v.kind === 'Workflow' ? `${p.green('ok')}  ${v.file} (${v.name}, workflow, ${v.steps} steps)` : `${p.green('ok')}  ${v.file} (${v.name}, ${v.class})`;
}

export function registerValidateCommand(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('validate Agent Contract (*.agent.yaml) and Workflow (*.workflow.yaml) files offline')
    .argument('<files...>', 'contract and workflow files to check')
    .option('--json', 'print the verdicts as a JSON array')
    .addHelpText(
      'after',
      `
Exit status: 0 when every file is valid, 1 when any is not.

Examples:
  $ agentos validate agents/*.agent.yaml
  $ agentos validate examples/city-permit/city-permit.workflow.yaml
  $ agentos validate --json triage.agent.yaml`,
    )
    .action((files: string[], opts: { json?: boolean }) => {
      const workflows = new Map<string, WorkflowDefinition>();
      const verdicts = files.map((f) => validateFile(f, workflows));
      if (opts.json) io.out(JSON.stringify(verdicts, null, 2));
      else for (const v of verdicts) io.out(formatVerdict(v, outPaint(io)));
      if (verdicts.some((v) => !v.ok)) io.fail();
    });
}
