// The context window: fits a conversation into a token budget so a model's
// context (and the contract's max_context_tokens) is never exceeded. It keeps
// the leading system prompt and the latest turns (a tool call stays with its
// results), drops the oldest turns first, and can hand the dropped ones to a
// summarisation hook. Counts come from a Tokenizer, corrected by the ratio
// learned from providers' exact usage. Its state is plain data for checkpoints.

import { ModelCodes, ModelError } from './errors.js';
import { countMessage, countTools, heuristicTokenizer, REPLY_OVERHEAD, type Tokenizer } from './tokenizer.js';
import type { Message, ToolSpec, Usage } from './types.js';

/** Turns dropped from the window → a short text standing for them (or undefined to drop them silently). */
export type Summarizer = (dropped: Message[]) => Promise<string | undefined> | string | undefined;

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
}

export interface FitResult {
  messages: Message[];
  /** Estimated prompt tokens of the fitted request, calibrated (what was checked against the budget). */
  promptTokens: number;
  /** The same, uncalibrated (what `observe` compares provider usage with). */
  rawTokens: number;
  /** How many input messages were left out. */
  dropped: number;
  summarized: boolean;
}

const RATIO_MIN = 0.25;
const RATIO_MAX = 4;

export class ContextWindow {
  readonly tokenizer: Tokenizer;
  private readonly summarize: Summarizer | undefined;
  private s: ContextWindowState;

  constructor(options: { tokenizer?: Tokenizer; summarize?: Summarizer; state?: ContextWindowState } = {}) {
    this.tokenizer = options.tokenizer ?? heuristicTokenizer;
    this.summarize = options.summarize;
    const restored = options.state;
    // Counts made by another tokenizer mean something else: start calibrating again.
    this.s = restored && restored.v === 1 && restored.tokenizer === this.tokenizer.name
      ? { ...restored, ...(restored.last ? { last: { ...restored.last } } : {}) }
      : { v: 1, tokenizer: this.tokenizer.name, ratio: 1, samples: 0, dropped: restored?.dropped ?? 0 };
  }

  /** Calibrated tokens for `raw` heuristic tokens. */
  calibrated(raw: number): number {
    return Math.ceil(raw * this.s.ratio);
  }

  /** Calibrated prompt tokens of a request as is. */
  estimate(messages: readonly Message[], tools?: readonly ToolSpec[]): number {
    return this.calibrated(this.raw(messages, tools));
  }

  /** Calibrated prompt tokens of what `fit` never drops: the system prompt and the latest turn. */
  minimum(messages: readonly Message[], tools?: readonly ToolSpec[]): number {
    const { head, groups } = split(messages);
    const last = groups[groups.length - 1];
    return this.calibrated(this.raw(head, tools) + (last ? last.cost(this.tokenizer) : 0));
  }

  /**
   * The request's messages fitted into `budget` prompt tokens. Throws
   * MODEL_CONTEXT_OVERFLOW when the system prompt and the latest turn alone do not fit.
   */
  async fit(messages: readonly Message[], budget: number, tools?: readonly ToolSpec[]): Promise<FitResult> {
    const fixed = REPLY_OVERHEAD + countTools(this.tokenizer, tools);
    const { head, groups } = split(messages);
    const cost = (ms: readonly Message[]): number => ms.reduce((n, m) => n + countMessage(this.tokenizer, m), 0);
    const headCost = fixed + cost(head);
    const all = headCost + groups.reduce((n, g) => n + g.cost(this.tokenizer), 0);
    if (this.calibrated(all) <= budget) return { messages: [...messages], promptTokens: this.calibrated(all), rawTokens: all, dropped: 0, summarized: false };

    // Keep the latest groups that fit; the last one is mandatory.
    let used = headCost;
    let first = groups.length;
    while (first > 0) {
      const c = groups[first - 1]!.cost(this.tokenizer);
      if (this.calibrated(used + c) > budget && first < groups.length) break;
      used += c;
      first--;
    }
    if (this.calibrated(used) > budget) {
      throw new ModelError(
        ModelCodes.contextOverflow,
        `the system prompt and the latest turn need ${this.calibrated(used)} tokens, more than the ${budget} the context window leaves for the prompt`,
        { field: 'messages', details: { needed: this.calibrated(used), budget } },
      );
    }
    let kept = groups.slice(first);
    const droppedGroups = groups.slice(0, first);
    let summary: Message | undefined;
    if (this.summarize && droppedGroups.length > 0) {
      const text = await this.summarize(droppedGroups.flatMap((g) => g.messages));
      if (typeof text === 'string' && text.length > 0) {
        summary = { role: 'system', content: `Summary of the earlier conversation: ${text}` };
        const sc = countMessage(this.tokenizer, summary);
        // Make room for the summary by dropping more old turns, never the latest.
        while (this.calibrated(used + sc) > budget && kept.length > 1) {
          used -= kept[0]!.cost(this.tokenizer);
          kept = kept.slice(1);
        }
        if (this.calibrated(used + sc) > budget) summary = undefined;
        else used += sc;
      }
    }
    const out = [...head, ...(summary ? [summary] : []), ...kept.flatMap((g) => g.messages)];
    const dropped = messages.length - (out.length - (summary ? 1 : 0));
    this.s.dropped += dropped;
    return { messages: out, promptTokens: this.calibrated(used), rawTokens: used, dropped, summarized: summary !== undefined };
  }

  /**
   * Learn from a provider's usage: with exact prompt tokens for a request
   * estimated at `rawEstimate`, the ratio moves towards exact ÷ estimate — at
   * once when it grows (never under-count twice), slowly when it shrinks.
   */
  observe(rawEstimate: number, usage: Usage, exact: boolean): void {
    this.s.last = { estimate: rawEstimate, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, exact };
    if (!exact || rawEstimate <= 0 || usage.promptTokens <= 0) return;
    const r = clamp(usage.promptTokens / rawEstimate, RATIO_MIN, RATIO_MAX);
    this.s.ratio = this.s.samples === 0 ? r : Math.max(r, this.s.ratio * 0.8 + r * 0.2);
    this.s.samples++;
  }

  /** Plain data: put it in a checkpoint, pass it back as `state` to restore. */
  state(): ContextWindowState {
    return { ...this.s, ...(this.s.last ? { last: { ...this.s.last } } : {}) };
  }

  private raw(messages: readonly Message[], tools?: readonly ToolSpec[]): number {
    return messages.reduce((n, m) => n + countMessage(this.tokenizer, m), REPLY_OVERHEAD + countTools(this.tokenizer, tools));
  }
}

/** The leading system messages, and the rest as turn groups. */
function split(messages: readonly Message[]): { head: Message[]; groups: Group[] } {
  let end = 0;
  while (end < messages.length && messages[end]!.role === 'system') end++;
  return { head: messages.slice(0, end), groups: turnGroups(messages.slice(end)) };
}

interface Group {
  messages: Message[];
  cost(t: Tokenizer): number;
}

/** An assistant message that called tools, with the tool results after it, is one unit: never split. */
function turnGroups(messages: readonly Message[]): Group[] {
  const groups: Message[][] = [];
  for (const m of messages) {
    const prev = groups[groups.length - 1];
    const opener = prev?.[0];
    if (m.role === 'tool' && prev && opener?.role === 'assistant' && (opener.toolCalls?.length ?? 0) > 0) prev.push(m);
    else groups.push([m]);
  }
  return groups.map((ms) => {
    let memo: number | undefined;
    return { messages: ms, cost: (t: Tokenizer) => (memo ??= ms.reduce((n, m) => n + countMessage(t, m), 0)) };
  });
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
