// What callers ask the board: the request an agent invokes (`blackboard` logic)
// or a client method makes, checked at the edge with a typed error naming the
// field, and the messages agents must accept to take part (`board.changed` for
// subscribers, `board.activate` for knowledge sources).

import { z } from 'zod';
import { BlackboardCodes, BlackboardError } from './errors.js';

const topic = z.string();
const pattern = z.string();

export const blackboardRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('post'), topic, value: z.unknown(), expectedVersion: z.number().int().nonnegative().optional() }).strict(),
  z.object({ op: z.literal('read'), topic }).strict(),
  z.object({ op: z.literal('query'), pattern, limit: z.number().int().positive().optional() }).strict(),
  z.object({ op: z.literal('subscribe'), pattern }).strict(),
  z.object({ op: z.literal('unsubscribe'), pattern: pattern.optional() }).strict(),
]);

/** A blackboard request: `{ op: 'post', topic, value, expectedVersion? }`, `{ op: 'read', topic }`, `{ op: 'query', pattern, limit? }`, `{ op: 'subscribe', pattern }`, `{ op: 'unsubscribe', pattern? }`. */
export type BlackboardRequest = z.infer<typeof blackboardRequest>;

export function parseRequest(input: unknown): BlackboardRequest {
  const r = blackboardRequest.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'op';
  throw new BlackboardError(BlackboardCodes.invalidRequest, `blackboard request: ${field}: ${issue?.message ?? 'invalid'} (ops: post, read, query, subscribe, unsubscribe)`, {
    field,
  });
}

/** Sent to subscribers after each durable write to a topic they subscribed to (and may read). */
export const boardChangedMessage = z.object({
  type: z.literal('board.changed'),
  topic: z.string(),
  version: z.number().int().positive(),
  value: z.unknown(),
  by: z.string(),
  at: z.number(),
});

/** Sent (as an ask) to the knowledge source a controller picked; reply when the activation is done. */
export const boardActivateMessage = z.object({
  type: z.literal('board.activate'),
  controller: z.string(),
  activation: z.number().int().positive(),
  topics: z.array(z.string()),
});

export type BoardChangedMessage = z.infer<typeof boardChangedMessage>;
export type BoardActivateMessage = z.infer<typeof boardActivateMessage>;
