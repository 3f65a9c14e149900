// Tools: typed functions an agent may call through the kernel. Arguments are
// validated against the tool's zod schema before it runs and its result
// against the output schema after; the kernel checks the caller's contract first.

import type { z } from 'zod';
import { AgentOsError, ValidationError } from '../../base/errors.js';
import { summarizeIssues } from '../../base/issues.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallEntry } from '../../kernel/syscalls.js';

export interface ToolContext {
  /** The actor the call is made for. */
  actor: string;
  tenant: string;
  /** Idempotency key, for a call made by a persistent actor: the same on every retry of this call, across crashes. */
  key?: string;
  /** 1 on first dispatch; more when a call whose outcome was lost is retried (idempotent tools only). */
  attempt?: number;
}

export interface ToolConfig<I extends z.ZodType, O extends z.ZodType> {
  /** Also the capability name a contract lists to use it, e.g. `web.fetch`. */
  name: string;
  description: string;
  input: I;
  output?: O;
  execute: (args: z.output<I>, context: ToolContext) => Promise<z.input<O>> | z.input<O>;
  /**
   * Whether a call whose outcome was lost in a crash may run again: `false` (default)
   * sends it to compensation or to a person; `true` means running it twice is harmless;
   * `'key'` means the tool deduplicates on `context.key` itself.
   */
  idempotent?: boolean | 'key';
  /** Undo a non-idempotent call left in doubt by a crash (must itself be safe to repeat). */
  compensate?: (call: { key: string; actor: string; attempt: number }, args: z.output<I>) => unknown;
}

export interface ToolDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> extends Readonly<ToolConfig<I, O>> {
  readonly kind: 'tool';
}

const TOOL_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

export function defineTool<I extends z.ZodType, O extends z.ZodType = z.ZodType>(config: ToolConfig<I, O>): ToolDefinition<I, O> {
  const bad = (field: string, why: string): never => {
    throw new AgentOsError('INVALID_TOOL', `defineTool: ${field} ${why}`, { field });
  };
  if (typeof config?.name !== 'string' || !TOOL_NAME.test(config.name)) bad('name', `must look like "web.fetch" (got ${JSON.stringify(config?.name)})`);
  if (typeof config.description !== 'string' || config.description.length === 0) bad('description', 'must be a non-empty string');
  if (typeof (config.input as { safeParse?: unknown })?.safeParse !== 'function') bad('input', 'must be a zod schema');
  if (config.output !== undefined && typeof (config.output as { safeParse?: unknown }).safeParse !== 'function') bad('output', 'must be a zod schema');
  if (typeof config.execute !== 'function') bad('execute', 'must be a function');
  if (config.idempotent !== undefined && typeof config.idempotent !== 'boolean' && config.idempotent !== 'key') bad('idempotent', "must be true, false or 'key'");
  if (config.compensate !== undefined && typeof config.compensate !== 'function') bad('compensate', 'must be a function');
  return Object.freeze({ ...config, kind: 'tool' as const });
}

/** The node's tools, each registered as a kernel syscall. */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  constructor(private readonly kernel: Kernel) {}

  register(tool: ToolDefinition<any, any>): void {
    if (tool?.kind !== 'tool') throw new AgentOsError('INVALID_TOOL', 'tools.register: expected a defineTool(...) definition', { field: 'tool' });
    this.kernel.syscalls.register('tool', tool.name, {
      // The kernel validates before policy asks anyone to consent to these arguments.
      validate: (args) => {
        const parsed = tool.input.safeParse(args);
        if (!parsed.success) throw invalid(tool.name, 'arguments', parsed.error);
        return parsed.data;
      },
      ...(tool.idempotent === undefined ? {} : { idempotent: tool.idempotent }),
      ...(tool.compensate === undefined ? {} : { compensate: tool.compensate as SyscallEntry['compensate'] }),
      handler: async (args, ctx) => {
        const result = await tool.execute(args, {
          actor: ctx.actor,
          tenant: ctx.tenant,
          ...(ctx.key === undefined ? {} : { key: ctx.key }),
          ...(ctx.attempt === undefined ? {} : { attempt: ctx.attempt }),
        });
        if (!tool.output) return result;
        const out = tool.output.safeParse(result);
        if (!out.success) throw invalid(tool.name, 'output', out.error);
        return out.data;
      },
    });
    this.tools.set(tool.name, tool);
  }

  list(): { name: string; description: string }[] {
    return [...this.tools.values()].map((t) => ({ name: t.name, description: t.description }));
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }
}

function invalid(tool: string, what: 'arguments' | 'output', error: unknown): ValidationError {
  const { field, summary } = summarizeIssues(error, what);
  return new ValidationError(what === 'arguments' ? 'INVALID_TOOL_ARGS' : 'INVALID_TOOL_OUTPUT', `tool "${tool}" ${what} invalid: ${summary}`, { field });
}
