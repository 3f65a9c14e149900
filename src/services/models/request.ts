// The completion request at the edge: a zod schema that checks what an agent
// (or any caller) sends before the kernel asks policy about it, so a bad
// request is refused with the field it got wrong and never reaches a provider.

import { z } from 'zod';
import { summarizeIssues } from '../../base/issues.js';
import { ModelCodes, ModelError } from './errors.js';
import type { CompletionRequest } from './types.js';

const TOOL_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

const ToolCallSchema = z.strictObject({
  id: z.string().min(1).max(256),
  name: z.string().min(1).max(64),
  arguments: z.record(z.string(), z.unknown()),
});

export const MessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(4 * 1024 * 1024),
  toolCalls: z.array(ToolCallSchema).max(128).optional(),
  toolCallId: z.string().min(1).max(256).optional(),
  name: z.string().min(1).max(64).optional(),
});

const ToolSpecSchema = z.strictObject({
  name: z.string().regex(TOOL_NAME, { error: 'a tool name is 1–64 of a-z A-Z 0-9 _ . -' }),
  description: z.string().max(8192),
  parameters: z.record(z.string(), z.unknown()),
});

export const CompletionRequestSchema = z.strictObject({
  messages: z.array(MessageSchema).min(1).max(10_000),
  tools: z.array(ToolSpecSchema).max(128).optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  seed: z.number().int().optional(),
});

/** A validated copy of `input`, or a ModelError naming the first bad field. */
export function parseCompletionRequest(input: unknown): CompletionRequest {
  const parsed = CompletionRequestSchema.safeParse(input);
  if (!parsed.success) {
    const { field, summary, issues } = summarizeIssues(parsed.error, 'request');
    throw new ModelError(ModelCodes.badRequest, `completion request invalid: ${summary}`, { field, details: { issues } });
  }
  const request = parsed.data as CompletionRequest;
  const names = new Set<string>();
  for (const [i, tool] of (request.tools ?? []).entries()) {
    if (names.has(tool.name)) throw new ModelError(ModelCodes.badRequest, `completion request invalid: tool "${tool.name}" offered twice`, { field: `tools.${i}.name` });
    names.add(tool.name);
  }
  return request;
}

/** Completion tokens reserved when a request does not say. */
export const DEFAULT_MAX_TOKENS = 512;
