// The context window: fits a conversation into a token budget so a model's
// context (and the contract's max_context_tokens) is never exceeded. It keeps
// the leading system prompt and the latest turns (a tool call stays with its
// results), drops the oldest turns first, and can hand the dropped ones to a
// summarisation hook. Counts come from a Tokenizer, corrected by the ratio
// learned from providers' exact usage. An agent may also keep its conversation
// in the window (`add`, then `next`): turns that no longer fit leave it for
// good, folded into a rolling summary. All of it is plain data (`toJSON`,
// `ContextWindow.fromJSON`), so it rides in an actor's checkpoints.

import { copyMessage, copyState, parseContextState, RATIO_MAX, RATIO_MIN, type ContextWindowState } from './context-state.js';
import { ModelCodes, ModelError } from './errors.js';
import { parseCompletionRequest } from './request.js';
import { countMessage, countTools, heuristicTokenizer, REPLY_OVERHEAD, type Tokenizer } from './tokenizer.js';
import type { Message, ToolSpec, Usage } from './types.js';

export type { ContextWindowState } from './context-state.js';

/** Turns dropped from the window → a short text standing for them (or undefined to drop them silently). A held conversation's earlier summary comes first, as a system message. */
export type Summarizer = (dropped: Message[]) => Promise<string | undefined> | string | undefined;

export interface ContextWindowOptions {
  tokenizer?: Tokenizer;
  summarize?: Summarizer;
  state?: ContextWindowState;
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

interface Fitting {
  result: FitResult;
  /** The input minus the turns the window dropped for good (kept turns dropped only to make room for a summary stay). */
  keep: Message[];
  /** The summary standing for everything dropped so far, if any. */
  summary?: string;
}

export class ContextWindow {
  readonly tokenizer: Tokenizer;
  private readonly summarize: Summarizer | undefined;
  private s: ContextWindowState;

  constructor(options: ContextWindowOptions = {}) {
    this.tokenizer = options.tokenizer ?? heuristicTokenizer;
    this.summarize = options.summarize;
    const restored = options.state;
    if (restored && restored.v === 1 && restored.tokenizer === this.tokenizer.name) {
      this.s = copyState(restored);
    } else {
      // Counts made by another tokenizer mean something else: start calibrating again (the conversation itself is kept).
      const { messages, summary, summarized, fits } = restored ?? {};
      this.s = { v: 1, tokenizer: this.tokenizer.name, ratio: 1, samples: 0, dropped: restored?.dropped ?? 0 };
      if (messages) this.s.messages = messages.map(copyMessage);
      if (summary !== undefined) this.s.summary = summary;
      if (summarized !== undefined) this.s.summarized = summarized;
      if (fits !== undefined) this.s.fits = fits;
    }
  }

  /** A window restored from `toJSON()` output (validated: MODEL_BAD_CONFIG naming the bad `state.…` field). */
  static fromJSON(json: unknown, options: Omit<ContextWindowOptions, 'state'> = {}): ContextWindow {
    return new ContextWindow({ ...options, state: parseContextState(json) });
  }

  /** Plain data (so `JSON.stringify(window)` and msgpackr both work): restore with `ContextWindow.fromJSON`. */
  toJSON(): ContextWindowState {
    return this.state();
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
    return (await this.fitting(messages, budget, tools, undefined)).result;
  }

  /** Append turns to the conversation the window holds (validated like a request's messages). */
  add(...messages: Message[]): void {
    if (messages.length === 0) return;
    const valid = parseCompletionRequest({ messages }).messages;
    this.s.messages = [...(this.s.messages ?? []), ...valid.map(copyMessage)];
  }

  /** The held conversation (a copy) and the summary of what left it. */
  conversation(): { messages: Message[]; summary?: string } {
    return { messages: (this.s.messages ?? []).map(copyMessage), ...(this.s.summary === undefined ? {} : { summary: this.s.summary }) };
  }

  /**
   * The held conversation fitted into `budget` prompt tokens: what to send.
   * Turns that had to go leave the held conversation for good, folded (with
   * the earlier summary) into a new summary when there is a summariser.
   */
  async next(budget: number, tools?: readonly ToolSpec[]): Promise<FitResult> {
    const held = this.s.messages ?? [];
    if (held.length === 0) throw new ModelError(ModelCodes.badRequest, 'the context window holds no conversation: add() messages first', { field: 'messages' });
    const { result, keep, summary } = await this.fitting(held, budget, tools, this.s.summary);
    this.s.messages = keep.map(copyMessage);
    if (summary !== undefined) this.s.summary = summary;
    this.s.fits = (this.s.fits ?? 0) + 1;
    return result;
  }

  private async fitting(messages: readonly Message[], budget: number, tools: readonly ToolSpec[] | undefined, prior: string | undefined): Promise<Fitting> {
    const fixed = REPLY_OVERHEAD + countTools(this.tokenizer, tools);
    const { head, groups } = split(messages);
    const cost = (ms: readonly Message[]): number => ms.reduce((n, m) => n + countMessage(this.tokenizer, m), 0);
    const headCost = fixed + cost(head);
    const all = headCost + groups.reduce((n, g) => n + g.cost(this.tokenizer), 0);
    const priorMessage = prior === undefined ? undefined : summaryMessage(prior);
    const priorCost = priorMessage ? countMessage(this.tokenizer, priorMessage) : 0;
    if (this.calibrated(all + priorCost) <= budget) {
      const out = priorMessage ? [...head, priorMessage, ...messages.slice(head.length)] : [...messages];
      return {
        result: { messages: out, promptTokens: this.calibrated(all + priorCost), rawTokens: all + priorCost, dropped: 0, summarized: priorMessage !== undefined },
        keep: [...messages],
        ...(prior === undefined ? {} : { summary: prior }),
      };
    }

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
    const survivors = groups.slice(first);
    let kept = survivors;
    const droppedGroups = groups.slice(0, first);
    let text = prior;
    if (this.summarize && droppedGroups.length > 0) {
      const fresh = await this.summarize([...(priorMessage ? [priorMessage] : []), ...droppedGroups.flatMap((g) => g.messages)]);
      if (typeof fresh === 'string' && fresh.length > 0) {
        text = fresh;
        this.s.summarized = (this.s.summarized ?? 0) + 1;
      }
    }
    let summary = text === undefined ? undefined : summaryMessage(text);
    if (summary) {
      const sc = countMessage(this.tokenizer, summary);
      // Make room for the summary by dropping more old turns, never the latest.
      while (this.calibrated(used + sc) > budget && kept.length > 1) {
        used -= kept[0]!.cost(this.tokenizer);
        kept = kept.slice(1);
      }
      if (this.calibrated(used + sc) > budget) summary = undefined;
      else used += sc;
    }
    const out = [...head, ...(summary ? [summary] : []), ...kept.flatMap((g) => g.messages)];
    const dropped = messages.length - (out.length - (summary ? 1 : 0));
    this.s.dropped += dropped;
    return {
      result: { messages: out, promptTokens: this.calibrated(used), rawTokens: used, dropped, summarized: summary !== undefined },
      keep: [...head, ...survivors.flatMap((g) => g.messages)],
      ...(text === undefined ? {} : { summary: text }),
    };
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
    return copyState(this.s);
  }

  private raw(messages: readonly Message[], tools?: readonly ToolSpec[]): number {
    return messages.reduce((n, m) => n + countMessage(this.tokenizer, m), REPLY_OVERHEAD + countTools(this.tokenizer, tools));
  }
}

function summaryMessage(text: string): Message {
  return { role: 'system', content: `Summary of the earlier conversation: ${text}` };
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
