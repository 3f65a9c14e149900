// From OpenAI-style chat-completion chunks to our stream: text deltas pass
// through as they come; tool calls arrive as incremental `tool_calls` deltas
// (by index: id and name first, arguments in pieces) and are emitted only
// once complete and parsed, so a broken call never leaks half-built. Usage
// is taken when the endpoint reports it. Anything off-shape is MODEL_BAD_STREAM.

import type { Clock } from '../../../base/clock.js';
import { ModelCodes, ModelError } from '../errors.js';
import type { FinishReason, ModelChunk, ToolCall, Usage } from '../types.js';

interface PartialCall {
  id: string;
  name: string;
  args: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(message: string, field = 'stream'): never {
  throw new ModelError(ModelCodes.badStream, message, { field });
}

export class ChatChunkAssembler {
  private readonly calls = new Map<number, PartialCall>();
  private finish: string | undefined;
  private usage: Usage | undefined;
  private emittedCalls = false;
  text = '';
  toolCalls: ToolCall[] = [];

  constructor(private readonly clock: Clock) {}

  get finished(): boolean {
    return this.finish !== undefined;
  }

  /** One `data:` payload (already known not to be `[DONE]`). */
  push(data: string): ModelChunk[] {
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      bad(`a stream event is not JSON: ${preview(data)}`);
    }
    if (!isObject(chunk)) bad(`a stream event is not a JSON object: ${preview(data)}`);
    if (chunk.error !== undefined) {
      const message = isObject(chunk.error) && typeof chunk.error.message === 'string' ? chunk.error.message : preview(JSON.stringify(chunk.error));
      throw new ModelError(ModelCodes.unavailable, `the endpoint reported an error mid-stream: ${message}`, { field: 'stream' });
    }
    this.takeUsage(chunk.usage);
    const out: ModelChunk[] = [];
    if (chunk.choices === undefined || chunk.choices === null) return out;
    if (!Array.isArray(chunk.choices)) bad('a stream event has "choices" that is not a list', 'choices');
    for (const choice of chunk.choices) {
      if (!isObject(choice)) bad('a stream event has a choice that is not an object', 'choices');
      if ((choice.index ?? 0) !== 0) continue; // we ask for one choice
      const delta = choice.delta ?? choice.message;
      if (delta !== undefined && delta !== null) {
        if (!isObject(delta)) bad('a choice has a "delta" that is not an object', 'delta');
        if (delta.content !== undefined && delta.content !== null) {
          if (typeof delta.content !== 'string') bad('a delta has "content" that is not a string', 'delta.content');
          if (delta.content.length > 0) {
            this.text += delta.content;
            out.push({ type: 'text', text: delta.content, at: this.clock.now() });
          }
        }
        if (delta.tool_calls !== undefined && delta.tool_calls !== null) this.takeToolCalls(delta.tool_calls);
      }
      if (typeof choice.finish_reason === 'string') {
        this.finish = choice.finish_reason;
        out.push(...this.emitCalls());
      }
    }
    return out;
  }

  /** The stream is over (`[DONE]`, or the body ended after a finish reason). */
  end(estimate: () => Usage): ModelChunk[] {
    const out = this.emitCalls();
    const exact = this.usage !== undefined;
    const reason: FinishReason = this.toolCalls.length > 0 ? 'tool_calls' : this.finish === 'length' ? 'length' : 'stop';
    out.push({ type: 'end', finishReason: reason, usage: this.usage ?? estimate(), exactUsage: exact, at: this.clock.now() });
    return out;
  }

  private takeUsage(usage: unknown): void {
    if (usage === undefined || usage === null) return;
    if (!isObject(usage)) bad('"usage" is not an object', 'usage');
    const p = usage.prompt_tokens;
    const c = usage.completion_tokens;
    if (!Number.isInteger(p) || !Number.isInteger(c) || (p as number) < 0 || (c as number) < 0) bad('"usage" lacks non-negative prompt_tokens and completion_tokens', 'usage');
    this.usage = { promptTokens: p as number, completionTokens: c as number };
  }

  private takeToolCalls(deltas: unknown): void {
    if (!Array.isArray(deltas)) bad('a delta has "tool_calls" that is not a list', 'delta.tool_calls');
    for (const [position, d] of deltas.entries()) {
      if (!isObject(d)) bad('a tool call delta is not an object', 'delta.tool_calls');
      const index = d.index ?? position;
      if (!Number.isInteger(index) || (index as number) < 0 || (index as number) > 1024) bad(`a tool call delta has a bad index ${JSON.stringify(d.index)}`, 'delta.tool_calls.index');
      const fn = d.function;
      if (fn !== undefined && !isObject(fn)) bad('a tool call delta has "function" that is not an object', 'delta.tool_calls.function');
      const part = this.calls.get(index as number) ?? { id: '', name: '', args: '' };
      if (typeof d.id === 'string' && d.id.length > 0 && part.id === '') part.id = d.id;
      const name = fn?.name;
      if (typeof name === 'string' && name !== part.name) part.name += name;
      const args = fn?.arguments;
      if (typeof args === 'string') part.args += args;
      // Some servers send arguments as an object instead of a JSON string.
      else if (isObject(args)) part.args += JSON.stringify(args);
      else if (args !== undefined && args !== null) bad('a tool call delta has "arguments" that is neither a string nor an object', 'delta.tool_calls.function.arguments');
      this.calls.set(index as number, part);
    }
  }

  private emitCalls(): ModelChunk[] {
    if (this.emittedCalls || this.calls.size === 0) return [];
    this.emittedCalls = true;
    const at = this.clock.now();
    const indices = [...this.calls.keys()].sort((a, b) => a - b);
    const calls = indices.map((index, n) => toolCallOf(this.calls.get(index)!, index, n));
    this.toolCalls = calls;
    return calls.map((call) => ({ type: 'tool_call' as const, call, at }));
  }
}

function toolCallOf(part: PartialCall, index: number, n: number): ToolCall {
  const field = `tool_calls.${index}`;
  if (part.name.length === 0) throw new ModelError(ModelCodes.badToolCall, `the model's tool call #${index} has no function name`, { field: `${field}.name` });
  let args: unknown;
  try {
    args = part.args.trim().length === 0 ? {} : JSON.parse(part.args);
  } catch (err) {
    throw new ModelError(ModelCodes.badToolCall, `the model's call of "${part.name}" has arguments that are not JSON: ${preview(part.args)}`, { field: `${field}.arguments`, cause: err });
  }
  if (!isObject(args)) throw new ModelError(ModelCodes.badToolCall, `the model's call of "${part.name}" has arguments that are not a JSON object: ${preview(part.args)}`, { field: `${field}.arguments` });
  return { id: part.id || `call_${n}`, name: part.name, arguments: args };
}

function preview(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
