// Typed inter-agent messages: FIPA-ACL performatives in a zod schema an agent
// can put in its `messages` union, the edge check the bus runs on every message
// (shape, performative-specific fields, content size), and helpers that build
// replies in the right conversation with `inReplyTo` set.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { estimateSize } from '../../actors/size.js';
import { summarizeIssues } from '../../base/issues.js';
import { A2ACodes, A2AError } from './errors.js';

/** The FIPA-ACL performatives the bus understands. */
export const PERFORMATIVES = ['request', 'inform', 'propose', 'accept-proposal', 'reject-proposal', 'cfp', 'refuse', 'failure', 'agree', 'cancel'] as const;
export type Performative = (typeof PERFORMATIVES)[number];

/** Conversation ids and reply tokens: printable ASCII without spaces, at most 200 characters. */
const TOKEN = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 printable characters without spaces');
const ACTOR = z.string().min(1).max(256);

/**
 * An A2A message. `deadline` is absolute, on the node clock (ms). `delegate` (or
 * `onBehalfOf`) on a `request` makes the callee work with the intersection of
 * both contracts; the bus sets `onBehalfOf` on delivery. `partial` marks an
 * `inform` as progress (the conversation stays open).
 */
export const A2AMessageSchema = z.object({
  type: z.literal('a2a'),
  performative: z.enum(PERFORMATIVES),
  conversationId: TOKEN,
  replyWith: TOKEN.optional(),
  inReplyTo: TOKEN.optional(),
  deadline: z.number().finite().nonnegative().optional(),
  from: ACTOR,
  to: ACTOR,
  content: z.unknown(),
  protocol: z.string().min(1).max(64).optional(),
  delegate: z.boolean().optional(),
  onBehalfOf: ACTOR.optional(),
  partial: z.boolean().optional(),
});

export type A2AMessage = z.infer<typeof A2AMessageSchema>;

/** What a machine or caller writes: `type` defaults to 'a2a'; `from` is set by whoever sends. */
export type A2AMessageInput = Omit<A2AMessage, 'type' | 'from'> & { type?: 'a2a'; from?: string };

/** Default bound of `content`, estimated as UTF-8 JSON. */
export const DEFAULT_MAX_CONTENT_BYTES = 256 * 1024;

/** True for anything shaped like an A2A message (not yet validated). */
export function looksLikeA2A(value: unknown): value is { type: 'a2a' } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'a2a';
}

/**
 * The bus's edge check: the schema, the performative-specific fields, and the
 * size of `content`. Returns the parsed message or throws A2AError naming the field.
 */
export function parseA2AMessage(value: unknown, maxContentBytes = DEFAULT_MAX_CONTENT_BYTES): A2AMessage {
  const bad = (field: string, why: string, details?: Record<string, unknown>): never => {
    throw new A2AError(A2ACodes.invalidMessage, `A2A message: ${field} ${why}`, { field, ...(details ? { details } : {}) });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('message', 'must be an object { type: "a2a", performative, conversationId, from, to, content }');
  const perf = (value as { performative?: unknown }).performative;
  if (!PERFORMATIVES.includes(perf as Performative)) bad('performative', `must be one of ${PERFORMATIVES.join(', ')} (got ${JSON.stringify(perf) ?? 'nothing'})`);
  const content = (value as { content?: unknown }).content;
  if (estimateSize(content, maxContentBytes) > maxContentBytes) {
    throw new A2AError(A2ACodes.contentTooLarge, `A2A message: content is larger than ${maxContentBytes} bytes`, { field: 'content', details: { limit: maxContentBytes } });
  }
  const parsed = A2AMessageSchema.safeParse(value);
  if (!parsed.success) {
    const { field, summary, issues } = summarizeIssues(parsed.error, 'message');
    bad(field, `is invalid: ${summary}`, { issues });
  }
  const msg = parsed.data!;
  if (msg.partial === true && msg.performative !== 'inform') bad('partial', `is only for inform (got ${msg.performative})`);
  if ((msg.delegate === true || msg.onBehalfOf !== undefined) && msg.performative !== 'request') bad(msg.delegate ? 'delegate' : 'onBehalfOf', `only a request delegates (got ${msg.performative})`);
  if (msg.from === msg.to) bad('to', `is the sender itself ("${msg.to}")`);
  return msg;
}

/** A fresh conversation id. */
export function newConversationId(prefix = 'c'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Build a message: `type` filled in. */
export function a2aMessage(fields: A2AMessageInput & { from: string }): A2AMessage {
  return { ...fields, type: 'a2a' } as A2AMessage;
}

export interface ReplyOptions {
  /** A token the answer to this reply must quote in its `inReplyTo`. */
  replyWith?: string;
  deadline?: number;
  partial?: boolean;
}

/**
 * A reply to `original`: same conversation and protocol, sender and receiver
 * swapped, `inReplyTo` set from the original's `replyWith`.
 *   actions: a2aSend(({ event }) => a2aReply(event, 'inform', { result: 42 }))
 */
export function a2aReply(original: Pick<A2AMessage, 'conversationId' | 'from' | 'to' | 'replyWith' | 'protocol'>, performative: Performative, content?: unknown, options: ReplyOptions = {}): A2AMessage {
  return {
    type: 'a2a',
    performative,
    conversationId: original.conversationId,
    from: original.to,
    to: original.from,
    content,
    ...(original.replyWith === undefined ? {} : { inReplyTo: original.replyWith }),
    ...(original.protocol === undefined ? {} : { protocol: original.protocol }),
    ...(options.replyWith === undefined ? {} : { replyWith: options.replyWith }),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    ...(options.partial === undefined ? {} : { partial: options.partial }),
  };
}
