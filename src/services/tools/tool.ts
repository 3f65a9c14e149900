// Tools: typed functions an agent may call through the kernel. Arguments are
// validated against the tool's zod schema before it runs and its result
// against the output schema after; the kernel checks the caller's contract first.

import type { z } from 'zod';
import { AgentOsError, ValidationError } from '../../base/errors.js';
import { summarizeIssues } from '../../base/issues.js';
import type { Kernel } from '../../kernel/kernel.js';

export interface ToolContext {
  /** The actor the call is made for. */
  actor: string;
  tenant: string;
}

export interface ToolConfig<I extends z.ZodType, O extends z.ZodType> {
  /** Also the capability name a contract lists to use it, e.g. `web.fetch`. */
  name: string;
  description: string;
  input: I;
  output?: O;
  execute: (args: z.output<I>, context: ToolContext) => Promise<z.input<O>> | z.input<O>;
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
      handler: async (args, ctx) => {
        const result = await tool.execute(args, { actor: ctx.actor, tenant: ctx.tenant });
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
