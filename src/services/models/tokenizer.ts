// Token counting. A Tokenizer counts the tokens of a text; the default is a
// word-piece-ish heuristic (below) that needs no vocabulary and is close to
// BPE tokenizers on English prose (≈ 4 characters per token). It is an
// estimate: the context window corrects it with exact counts when a provider
// reports usage. The local model streams exactly these pieces, so its usage
// is exact under the default tokenizer.

import type { CompletionRequest, Message, ToolSpec } from './types.js';

export interface Tokenizer {
  /** Recorded in context-window state, so a restored window knows what its counts mean. */
  readonly name: string;
  count(text: string): number;
}

/**
 * One token is: optional leading whitespace, then either up to 4 letters/digits
 * or one other symbol. So a word of n letters costs ⌈n/4⌉ tokens, punctuation 1
 * each, spaces nothing; whitespace at the very end is a piece of its own that
 * costs nothing. Joining the pieces gives back the text exactly.
 */
const PIECE = /\s*(?:[\p{L}\p{N}]{1,4}|[^\s\p{L}\p{N}])|\s+/gu;

export function splitTokens(text: string): string[] {
  return text.match(PIECE) ?? [];
}

export const heuristicTokenizer: Tokenizer = {
  name: 'heuristic-4c',
  count(text: string): number {
    let n = 0;
    for (const piece of splitTokens(text)) if (piece.trim().length > 0) n++;
    return n;
  },
};

/** Per-message framing (role markers, separators), as chat formats add. */
export const MESSAGE_OVERHEAD = 4;
/** The assistant turn the model is primed with. */
export const REPLY_OVERHEAD = 3;

export function countMessage(tokenizer: Tokenizer, message: Message): number {
  let n = MESSAGE_OVERHEAD + tokenizer.count(message.content);
  for (const call of message.toolCalls ?? []) n += MESSAGE_OVERHEAD + tokenizer.count(call.name) + tokenizer.count(JSON.stringify(call.arguments));
  return n;
}

export function countTools(tokenizer: Tokenizer, tools: readonly ToolSpec[] | undefined): number {
  if (!tools || tools.length === 0) return 0;
  return tools.reduce((n, t) => n + MESSAGE_OVERHEAD + tokenizer.count(t.name) + tokenizer.count(t.description) + tokenizer.count(JSON.stringify(t.parameters)), 0);
}

/** Estimated prompt tokens of a whole request (messages, tools, reply priming). */
export function countPrompt(tokenizer: Tokenizer, request: Pick<CompletionRequest, 'messages' | 'tools'>): number {
  return request.messages.reduce((n, m) => n + countMessage(tokenizer, m), REPLY_OVERHEAD) + countTools(tokenizer, request.tools);
}
