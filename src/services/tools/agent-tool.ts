// Agent-as-tool: an agent's service interface registered as a tool. Calling it
// `ask`s the agent with a message built from the arguments, as the calling actor
// (so the router refuses a caller of another tenant). The kernel checks the
// caller's capability for the tool's name before anything is asked; with
// `callerField` the message also carries the caller's id, set here and never
// taken from the arguments, so the agent can make its own calls `onBehalfOf` the
// caller — and the kernel then grants only what both may do (delegation = intersection).

import type { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import { defineTool, type ToolDefinition, type ToolRisk } from './define.js';
import { ToolCodes, ToolError } from './errors.js';

export interface AgentToolConfig<I extends z.ZodType, O extends z.ZodType> {
  /** The tool's (and capability's) name, e.g. `agents.summarize`. */
  name: string;
  description: string;
  input: I;
  output?: O;
  /** The message sent is `{ type, ...args }`; without `type` (and `message`), the arguments are the message. */
  type?: string;
  /** Build the message from the arguments yourself. */
  message?: (args: z.output<I>) => { type: string } & Record<string, unknown>;
  /** Message field that carries the caller's actor id (e.g. `onBehalfOf`). */
  callerField?: string;
  /** How long to wait for the agent's reply, ms. Default 5000. */
  timeoutMs?: number;
  risk?: ToolRisk;
  version?: string;
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function agentTool<I extends z.ZodType, O extends z.ZodType>(kernel: Kernel, agent: string | { id: string }, config: AgentToolConfig<I, O>): ToolDefinition<I, O> {
  const agentId = typeof agent === 'string' ? agent : agent?.id;
  const bad = (field: string, why: string): never => {
    throw new ToolError(ToolCodes.invalidTool, `registerAgent: ${field} ${why}`, { field });
  };
  if (typeof agentId !== 'string' || agentId.length === 0) bad('agent', 'must be an actor id or a ref');
  if (config?.type !== undefined && (typeof config.type !== 'string' || config.type.length === 0)) bad('type', 'must be a message type');
  if (config.message !== undefined && typeof config.message !== 'function') bad('message', 'must be a function of the arguments');
  if (config.callerField !== undefined && !(typeof config.callerField === 'string' && FIELD.test(config.callerField))) bad('callerField', 'must be a field name');
  const timeoutMs = config.timeoutMs ?? 5000;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) bad('timeoutMs', 'must be a positive number of ms');
  const { type, message, callerField, timeoutMs: _t, ...tool } = config;
  return defineTool<I, O>({
    ...tool,
    idempotent: false,
    execute: async (args, ctx) => {
      if (ctx.actor === agentId) {
        throw new ToolError(ToolCodes.selfCall, `agent "${agentId}" called itself through tool "${config.name}"; it would wait on its own turn`, { field: 'name' });
      }
      const base: Record<string, unknown> = message ? { ...message(args) } : { ...(type === undefined ? {} : { type }), ...(args as Record<string, unknown>) };
      if (callerField !== undefined) base[callerField] = ctx.actor;
      // `from` is the caller: the router enforces tenancy and the agent sees who asks.
      return (await kernel.router.ask(agentId!, base, { from: ctx.actor, timeoutMs })) as z.input<O>;
    },
  });
}
