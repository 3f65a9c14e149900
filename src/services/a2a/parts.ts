// Between A2A protocol messages (parts: text, data, url, raw bytes) and the
// `content` of agentos A2A messages. Inbound: one plain object an agent can read
// (`text`, `data`, `files` and the A2A ids). Outbound: a string is a text part,
// `{ text, data? }` a text part (and a data part), anything else a data part.

import { randomUUID } from 'node:crypto';
import { Role, type Message, type Part } from '@a2a-js/sdk';

/** What an agent receives as `content` of a request that came over the A2A protocol. */
export interface A2AInboundContent {
  /** The text parts, joined with newlines. */
  text: string;
  /** The data parts' values, in order. */
  data: unknown[];
  /** File parts: by URL, or raw bytes as base64. */
  files: { url?: string; bytes?: string; mediaType?: string; filename?: string }[];
  messageId: string;
  contextId: string;
  taskId: string;
  metadata?: Record<string, unknown>;
}

export function contentOf(message: Message): A2AInboundContent {
  const text: string[] = [];
  const data: unknown[] = [];
  const files: A2AInboundContent['files'] = [];
  for (const part of message.parts ?? []) {
    const c = part.content;
    const file = { ...(part.mediaType ? { mediaType: part.mediaType } : {}), ...(part.filename ? { filename: part.filename } : {}) };
    if (c?.$case === 'text') text.push(c.value);
    else if (c?.$case === 'data') data.push(c.value);
    else if (c?.$case === 'url') files.push({ url: c.value, ...file });
    else if (c?.$case === 'raw') files.push({ bytes: Buffer.from(c.value).toString('base64'), ...file });
  }
  return {
    text: text.join('\n'),
    data,
    files,
    messageId: message.messageId,
    contextId: message.contextId,
    taskId: message.taskId,
    ...(message.metadata && Object.keys(message.metadata).length > 0 ? { metadata: message.metadata } : {}),
  };
}

const textPart = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const dataPart = (value: unknown): Part => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' });

/** A2A parts for an agent's answer `content`. */
export function partsOf(content: unknown): Part[] {
  if (typeof content === 'string') return [textPart(content)];
  if (content === undefined) return [textPart('')];
  if (isPlainObject(content) && typeof content.text === 'string' && Object.keys(content).every((k) => k === 'text' || k === 'data')) {
    return content.data === undefined ? [textPart(content.text)] : [textPart(content.text), dataPart(content.data)];
  }
  return [dataPart(content)];
}

/** An A2A message from the agent (role agent). */
export function agentMessage(parts: Part[], ids: { contextId: string; taskId: string }, metadata?: Record<string, unknown>): Message {
  return { messageId: randomUUID(), contextId: ids.contextId, taskId: ids.taskId, role: Role.ROLE_AGENT, parts, metadata, extensions: [], referenceTaskIds: [] };
}

/** An A2A message from a caller (role user): the outbound side of a mounted remote agent. */
export function userMessage(content: { text?: string; data?: unknown }, ids: { contextId?: string; taskId?: string }): Message {
  const parts: Part[] = [];
  if (content.text !== undefined) parts.push(textPart(content.text));
  if (content.data !== undefined) parts.push(dataPart(content.data));
  return { messageId: randomUUID(), contextId: ids.contextId ?? '', taskId: ids.taskId ?? '', role: Role.ROLE_USER, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

/** Text and data of parts (an answer from a remote agent); text parts joined with `separator` (artifact chunks: ''). */
export function readParts(parts: readonly Part[] | undefined, separator = '\n'): { text: string; data: unknown[] } {
  const text: string[] = [];
  const data: unknown[] = [];
  for (const p of parts ?? []) {
    if (p.content?.$case === 'text') text.push(p.content.value);
    else if (p.content?.$case === 'data') data.push(p.content.value);
    else if (p.content?.$case === 'url') data.push({ url: p.content.value, mediaType: p.mediaType || undefined, filename: p.filename || undefined });
  }
  return { text: text.join(separator), data };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
