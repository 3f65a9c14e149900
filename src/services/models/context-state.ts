// The context window's state as plain data (JSON and msgpackr safe): what its
// counts were made with and learned, and — for agents that keep their
// conversation in the window — the messages it holds and the rolling summary of
// the turns that left it. Parsed strictly on restore: a checkpoint is input.

import { z } from 'zod';
import { summarizeIssues } from '../../base/issues.js';
import { ModelCodes, ModelError } from './errors.js';
import { MessageSchema } from './request.js';
import type { Message } from './types.js';

export interface ContextWindowState {
  v: 1;
  /** The tokenizer the counts were made with. */
  tokenizer: string;
  /** exact ÷ estimated prompt tokens, learned from provider usage (1 until one reports). */
  ratio: number;
  samples: number;
  /** The last call's counts: the estimate and what the provider said. */
  last?: { estimate: number; promptTokens: number; completionTokens: number; exact: boolean };
  /** Messages dropped from windows so far. */
  dropped: number;
  /** The conversation the window holds (`add`, then `next`): system prompt and the turns still in it. */
  messages?: Message[];
  /** The rolling summary of the turns that left the held conversation. */
  summary?: string;
  /** How many times dropped turns were summarised. */
  summarized?: number;
  /** Windows made of the held conversation (`next` calls). */
  fits?: number;
}

export const RATIO_MIN = 0.25;
export const RATIO_MAX = 4;

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const StateSchema = z.strictObject({
  v: z.literal(1),
  tokenizer: z.string().min(1).max(256),
  ratio: z.number().min(RATIO_MIN).max(RATIO_MAX),
  samples: count,
  last: z.strictObject({ estimate: count, promptTokens: count, completionTokens: count, exact: z.boolean() }).optional(),
  dropped: count,
  messages: z.array(MessageSchema).max(100_000).optional(),
  summary: z.string().max(4 * 1024 * 1024).optional(),
  summarized: count.optional(),
  fits: count.optional(),
});

/** A validated deep copy of `input`, or MODEL_BAD_CONFIG naming the first bad field (`state.ratio`, `state.messages.3.role`…). */
export function parseContextState(input: unknown): ContextWindowState {
  const parsed = StateSchema.safeParse(input);
  if (!parsed.success) {
    const { field, summary, issues } = summarizeIssues(parsed.error, 'state');
    throw new ModelError(ModelCodes.badConfig, `context window state invalid: ${summary}`, { field: field === 'state' ? field : `state.${field}`, details: { issues } });
  }
  return copyState(parsed.data as ContextWindowState);
}

/** A deep copy (messages included), so a caller's object and the window never share anything. */
export function copyState(s: ContextWindowState): ContextWindowState {
  return {
    ...s,
    ...(s.last ? { last: { ...s.last } } : {}),
    ...(s.messages ? { messages: s.messages.map(copyMessage) } : {}),
  };
}

export function copyMessage(m: Message): Message {
  return {
    ...m,
    ...(m.toolCalls ? { toolCalls: m.toolCalls.map((c) => ({ ...c, arguments: structuredClone(c.arguments) })) } : {}),
  };
}
