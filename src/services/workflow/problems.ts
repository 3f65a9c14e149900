// Validation findings and the one WorkflowError they become. Every check
// records `{ code, path, message }`; the error carries the first as its code,
// field and position, and all of them in `details.issues`, each message
// prefixed with `file:line:col: field.path:` when the source is YAML.
import { AgentOsError, ContractError, ErrorCodes } from '../../base/errors.js';
import { formatPath, type IssuePath, type SourcePosition } from '../../kernel/contract/issues.js';
import { WorkflowCodes, WorkflowError, type WorkflowCode } from './errors.js';

export type { IssuePath, SourcePosition };

export interface WorkflowIssue {
  code: WorkflowCode;
  /** Where in the workflow document: `['steps', 2, 'in', 'pages']`. */
  path: IssuePath;
  message: string;
}

export interface SourceContext {
  /** File name, `<inline>` for text, `<object>` for a TypeScript definition. */
  source: string;
  /** Maps a path to a line:column in the source (YAML only). */
  locate?: (path: IssuePath) => SourcePosition | undefined;
}

/** Collects findings for one workflow; the checks append, the caller throws once. */
export class Issues {
  readonly list: WorkflowIssue[] = [];
  add(code: WorkflowCode, path: IssuePath, message: string): void {
    this.list.push({ code, path, message });
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
}

const MAX_LISTED = 20;

function line(issue: WorkflowIssue, ctx: SourceContext): string {
  const pos = ctx.locate?.(issue.path);
  const where = pos ? `${ctx.source}:${pos.line}:${pos.col}` : ctx.source;
  return `${where}: ${formatPath(issue.path)}: ${issue.message}`;
}

/** The error for a non-empty list of findings: code, field and position of the first; all in `details.issues`. */
export function workflowError(found: readonly WorkflowIssue[], ctx: SourceContext, cause?: unknown): WorkflowError {
  const issues = inDocumentOrder(found, ctx);
  const first = issues[0] ?? { code: WorkflowCodes.invalid, path: [], message: 'invalid workflow' };
  const lines = issues.slice(0, MAX_LISTED).map((i) => line(i, ctx));
  if (issues.length > MAX_LISTED) lines.push(`… and ${issues.length - MAX_LISTED} more`);
  const firstPos = ctx.locate?.(first.path);
  return new WorkflowError(first.code, lines.join('\n'), {
    field: formatPath(first.path),
    cause,
    details: {
      source: ctx.source,
      ...(firstPos ?? {}),
      issues: issues.map((i) => ({ code: i.code, field: formatPath(i.path), message: i.message, ...(ctx.locate?.(i.path) ?? {}) })),
    },
  });
}

/** With positions (YAML), findings in the order of the file, so the first reported is the first a reader meets; else as found. */
function inDocumentOrder(issues: readonly WorkflowIssue[], ctx: SourceContext): readonly WorkflowIssue[] {
  const { locate } = ctx;
  if (!locate || issues.length < 2) return issues;
  const keyed = issues.map((issue, i) => ({ issue, i, pos: locate(issue.path) ?? { line: 0, col: 0 } }));
  keyed.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col || a.i - b.i);
  return keyed.map((k) => k.issue);
}

/** One finding, thrown at once. */
export function fail(code: WorkflowCode, path: IssuePath, message: string, ctx: SourceContext, cause?: unknown): never {
  throw workflowError([{ code, path, message }], ctx, cause);
}

/**
 * The YAML intake is the contract loader's (same limits and refusals); its
 * ContractErrors are re-issued as WORKFLOW_INVALID, keeping the original code
 * (`CONTRACT_YAML`, `CONTRACT_TOO_LARGE`, `CONTRACT_READ`) as `details.yamlCode`.
 */
export function fromIntakeError(err: ContractError): WorkflowError {
  const message = err.message.replace(/\bcontract\b/g, 'workflow');
  return new WorkflowError(WorkflowCodes.invalid, message, {
    field: err.field,
    cause: err,
    details: { ...(err.details ?? {}), yamlCode: err.code },
  });
}

/** Anything that is not already a WorkflowError leaves as one; the API never leaks raw exceptions. */
export function asWorkflowError(err: unknown, ctx: SourceContext): AgentOsError {
  if (err instanceof WorkflowError) return err;
  if (err instanceof ContractError) return fromIntakeError(err);
  if (err instanceof AgentOsError && err.code === ErrorCodes.invalidOptions) return err;
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return workflowError([{ code: WorkflowCodes.invalid, path: [], message: `cannot be processed (${reason.slice(0, 200)})` }], ctx, err);
}
