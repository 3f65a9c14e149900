// The built-in local models: pure functions from a request to a reply, so the
// same request always gets the same answer and no weights are needed. `echo`
// repeats the user, `rules` maps regular expressions to replies or tool calls,
// `scripted` plays a fixed list turn by turn, `seeded` writes reproducible
// filler text from a seed (for load and streaming tests).

import { createHash } from 'node:crypto';
import { seededRng } from '../../../base/rng.js';
import type { CompletionRequest, Message } from '../types.js';

export interface LocalToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface LocalReply {
  text?: string;
  toolCalls?: LocalToolCall[];
}

/** A local model: deterministic in its request. */
export type LocalModel = (request: CompletionRequest) => LocalReply;

const lastMessage = (request: CompletionRequest, roles: readonly Message['role'][]): Message | undefined => {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (roles.includes(m.role)) return m;
  }
  return undefined;
};

/** Repeats the latest user message. */
export const echoModel: LocalModel = (request) => ({ text: lastMessage(request, ['user'])?.content ?? '' });

export interface Rule {
  /** Tested against the content of the latest message if it has `role` (default `user`). */
  match: RegExp | string;
  role?: 'user' | 'tool';
  /** Reply text; `$0`…`$9` are replaced by the match and its groups, `$tool` by the tool message's name. */
  reply?: string;
  /** A tool call to make instead of (or besides) replying; `arguments` may be built from the match. */
  tool?: { name: string; arguments?: Record<string, unknown> | ((match: RegExpExecArray) => Record<string, unknown>) };
}

/** The rules `local/rules` starts with: greet, call an offered tool when asked, report a tool's result. */
export const DEFAULT_RULES: readonly Rule[] = [
  { role: 'tool', match: /^[\s\S]*$/, reply: 'The $tool tool returned: $0' },
  { match: /^\s*(hi|hello|hey)\b/i, reply: 'Hello! I am the local rules model.' },
  {
    match: /\b(?:use|call) (?:the )?([a-z][\w.-]*) tool\b(?:\s+with\s+(\{[\s\S]*\}))?/i,
    tool: { name: '$1', arguments: (m) => parseObject(m[2]) },
  },
];

export const RULES_FALLBACK = 'I do not know how to answer that yet.';

/**
 * First matching rule wins. A rule's tool call is made only if the request
 * offers that tool; otherwise the model says it has no such tool.
 */
export function rulesModel(rules: readonly Rule[] = DEFAULT_RULES, fallback = RULES_FALLBACK): LocalModel {
  const compiled = rules.map((r) => ({ ...r, re: typeof r.match === 'string' ? new RegExp(r.match, 'i') : r.match }));
  return (request) => {
    const last = request.messages[request.messages.length - 1];
    if (!last || (last.role !== 'user' && last.role !== 'tool')) return { text: fallback };
    for (const rule of compiled) {
      if ((rule.role ?? 'user') !== last.role) continue;
      rule.re.lastIndex = 0;
      const m = rule.re.exec(last.content);
      if (!m) continue;
      const fill = (s: string): string => s.replace(/\$(tool|\d)/g, (_, k: string) => (k === 'tool' ? last.name ?? 'tool' : m[Number(k)] ?? ''));
      const reply: LocalReply = {};
      if (rule.reply !== undefined) reply.text = fill(rule.reply);
      if (rule.tool) {
        const name = fill(rule.tool.name);
        if ((request.tools ?? []).some((t) => t.name === name)) {
          const args = typeof rule.tool.arguments === 'function' ? rule.tool.arguments(m) : rule.tool.arguments ?? {};
          reply.toolCalls = [{ name, arguments: args }];
        } else if (reply.text === undefined) {
          reply.text = `I have no tool named "${name}".`;
        }
      }
      return reply;
    }
    return { text: fallback };
  };
}

/**
 * Plays `script` one entry per assistant turn: the reply to a request with n
 * assistant messages is entry n (the last entry repeats once the script runs
 * out). Stateless, so a replayed or restored conversation gets the same replies.
 */
export function scriptedModel(script: readonly (string | LocalReply)[]): LocalModel {
  if (script.length === 0) throw new TypeError('scriptedModel: the script needs at least one reply');
  const replies = script.map((s) => (typeof s === 'string' ? { text: s } : s));
  return (request) => {
    const turn = request.messages.filter((m) => m.role === 'assistant').length;
    return replies[Math.min(turn, replies.length - 1)]!;
  };
}

const VOCABULARY = ['the', 'agent', 'model', 'stream', 'token', 'kernel', 'actor', 'policy', 'answer', 'local', 'clock', 'turn', 'context', 'window', 'tool', 'call'];

/**
 * Reproducible filler: `words` words drawn with a RNG seeded by the request's
 * `seed` (or `seed` here) and the conversation, so the same request repeats exactly.
 */
export function seededModel(options: { seed?: number; words?: number; vocabulary?: readonly string[] } = {}): LocalModel {
  const vocabulary = options.vocabulary ?? VOCABULARY;
  const words = options.words ?? 24;
  return (request) => {
    const digest = createHash('sha256').update(JSON.stringify(request.messages)).digest();
    const rng = seededRng(((request.seed ?? options.seed ?? 0) ^ digest.readUInt32BE(0)) >>> 0);
    const out: string[] = [];
    for (let i = 0; i < words; i++) out.push(vocabulary[rng.int(vocabulary.length)]!);
    const text = out.join(' ');
    return { text: `${text.charAt(0).toUpperCase()}${text.slice(1)}.` };
  };
}

function parseObject(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
