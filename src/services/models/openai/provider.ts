// The `openai-compatible` provider: any `/v1/chat/completions` endpoint
// (Ollama, vLLM, LM Studio, llama.cpp server, OpenAI itself), configured by
// base URL and API key. Streams SSE, assembles tool calls, takes usage when
// given; times out on the injected Clock (until the response starts, and
// between chunks); cancels the HTTP request when the caller's signal aborts
// or the consumer stops reading. Every failure is a typed ModelError.

import type { Clock, TimerHandle } from '../../../base/clock.js';
import { ModelCodes, ModelError } from '../errors.js';
import { countPrompt, heuristicTokenizer, type Tokenizer } from '../tokenizer.js';
import type { CompletionRequest, Message, ModelChunk, ModelProvider, ProviderCall, ProviderNetwork } from '../types.js';
import { abortedError } from '../wait.js';
import { ChatChunkAssembler } from './assemble.js';
import { SseParser } from './sse.js';

export interface OpenAiCompatibleOptions {
  /** The provider's name in model ids: `ollama` serves `ollama/llama3.2`. */
  name: string;
  /** Up to and including the API version, e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged or put in an error. */
  apiKey?: string;
  headers?: Record<string, string>;
  /** Until the response headers arrive (default 30 s). */
  timeoutMs?: number;
  /** Longest gap between two chunks of the body (default 30 s). */
  idleTimeoutMs?: number;
  /** Ask for a final usage chunk (`stream_options.include_usage`, default true); turn off for servers that reject it. */
  includeUsage?: boolean;
  /** Counts usage when the endpoint does not report it. */
  tokenizer?: Tokenizer;
}

const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

export class OpenAiCompatibleProvider implements ModelProvider {
  readonly name: string;
  readonly network: ProviderNetwork;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly tokenizer: Tokenizer;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    const base = checkOptions(options);
    this.name = options.name;
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.network = isLoopback(base.hostname) ? 'loopback' : 'remote';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.tokenizer = options.tokenizer ?? heuristicTokenizer;
  }

  async *stream(request: CompletionRequest, call: ProviderCall): AsyncGenerator<ModelChunk> {
    const { clock, signal } = call;
    const what = `${this.name}/${call.model}`;
    if (signal?.aborted) throw abortedError(what, signal);
    const http = new AbortController();
    const onAbort = (): void => http.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = new Deadline(clock, () => http.abort(new Error('timeout')));
    const fail = (err: unknown, phase: string): ModelError => {
      if (err instanceof ModelError) return err;
      if (signal?.aborted) return abortedError(what, signal);
      if (timer.fired) {
        const ms = timer.fired === 'start' ? this.timeoutMs : this.idleTimeoutMs;
        return new ModelError(ModelCodes.timeout, `${what}: no ${timer.fired === 'start' ? 'response' : 'data'} within ${ms} ms (${phase})`, { field: timer.fired === 'start' ? 'timeoutMs' : 'idleTimeoutMs' });
      }
      const code = (err as { cause?: { code?: string } })?.cause?.code;
      return new ModelError(ModelCodes.unavailable, `${what}: endpoint ${this.url} unreachable${code ? ` (${code})` : ''} while ${phase}`, { field: 'baseUrl', cause: err });
    };
    let done = false;
    try {
      timer.arm('start', this.timeoutMs);
      let response: Response;
      try {
        response = await fetch(this.url, { method: 'POST', headers: this.headers(), body: JSON.stringify(this.body(request, call.model)), signal: http.signal });
      } catch (err) {
        throw fail(err, 'connecting');
      }
      timer.clear();
      if (!response.ok) {
        timer.arm('idle', this.idleTimeoutMs);
        const text = await response.text().catch(() => '');
        const transient = response.status === 429 || response.status >= 500;
        throw new ModelError(transient ? ModelCodes.unavailable : ModelCodes.rejected, `${what}: endpoint answered HTTP ${response.status}${text ? `: ${text.slice(0, 300)}` : ''}`, {
          field: transient ? 'baseUrl' : 'request',
          details: { status: response.status },
        });
      }
      const type = response.headers.get('content-type') ?? '';
      const assembler = new ChatChunkAssembler(clock);
      const estimate = () => ({
        promptTokens: countPrompt(this.tokenizer, request),
        completionTokens: this.tokenizer.count(assembler.text) + assembler.toolCalls.reduce((n, c) => n + this.tokenizer.count(c.name) + this.tokenizer.count(JSON.stringify(c.arguments)), 0),
      });
      if (type.includes('application/json')) {
        // A server that ignores `stream: true` answers with the whole completion.
        timer.arm('idle', this.idleTimeoutMs);
        let body: string;
        try {
          body = await response.text();
        } catch (err) {
          throw fail(err, 'reading the response');
        }
        yield* assembler.push(body);
        if (!assembler.finished) throw new ModelError(ModelCodes.badStream, `${what}: the JSON response has no finish_reason`, { field: 'stream' });
        done = true;
        yield* assembler.end(estimate);
        return;
      }
      if (!type.includes('text/event-stream')) throw new ModelError(ModelCodes.badStream, `${what}: expected text/event-stream, got ${JSON.stringify(type || 'no content-type')}`, { field: 'stream' });
      if (!response.body) throw new ModelError(ModelCodes.badStream, `${what}: the response has no body`, { field: 'stream' });
      const reader = response.body.getReader();
      const sse = new SseParser();
      try {
        for (;;) {
          timer.arm('idle', this.idleTimeoutMs);
          let step: Awaited<ReturnType<typeof reader.read>>;
          try {
            step = await reader.read();
          } catch (err) {
            throw fail(err, 'streaming');
          }
          // The consumer's own time between reads is not the endpoint's silence.
          timer.clear();
          const events = step.done ? sse.end() : sse.push(step.value);
          for (const data of events) {
            if (data.trim() === '[DONE]') {
              done = true;
              yield* assembler.end(estimate);
              return;
            }
            yield* assembler.push(data);
          }
          if (step.done) {
            if (!assembler.finished) throw new ModelError(ModelCodes.badStream, `${what}: the stream ended before it finished (no finish_reason, no [DONE])`, { field: 'stream' });
            done = true;
            yield* assembler.end(estimate);
            return;
          }
        }
      } finally {
        if (!done) await reader.cancel().catch(() => {});
      }
    } finally {
      timer.clear();
      signal?.removeEventListener('abort', onAbort);
      // Stopped early (error, abort, or the consumer quit): close the connection.
      if (!done) http.abort(new Error('stream closed'));
    }
  }

  private headers(): Record<string, string> {
    return {
      'content-type': 'application/json',
      accept: 'text/event-stream, application/json',
      ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      ...this.options.headers,
    };
  }

  private body(request: CompletionRequest, model: string): Record<string, unknown> {
    return {
      model,
      messages: request.messages.map(wireMessage),
      stream: true,
      ...(this.options.includeUsage === false ? {} : { stream_options: { include_usage: true } }),
      ...(request.tools && request.tools.length > 0
        ? { tools: request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })) }
        : {}),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
    };
  }
}

function badConfig(field: string, why: string): never {
  throw new ModelError(ModelCodes.badConfig, `openai-compatible provider: ${field} ${why}`, { field });
}

/** The options checked; returns the parsed base URL. */
function checkOptions(options: OpenAiCompatibleOptions): URL {
  if (typeof options?.name !== 'string' || !PROVIDER_NAME.test(options.name)) badConfig('name', `must match ${PROVIDER_NAME.source} (got ${JSON.stringify(options?.name)})`);
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    return badConfig('baseUrl', `must be an http(s) URL (got ${JSON.stringify(options.baseUrl)})`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') badConfig('baseUrl', `must be http or https (got ${base.protocol})`);
  for (const [field, v] of [['timeoutMs', options.timeoutMs], ['idleTimeoutMs', options.idleTimeoutMs]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) badConfig(field, `must be a positive number of ms (got ${v})`);
  }
  return base;
}

function wireMessage(m: Message): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.toolCalls && m.toolCalls.length > 0) {
    out.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));
  }
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId;
  if (m.name !== undefined) out.name = m.name;
  return out;
}

/** One timer, re-armed per phase, that remembers which phase it fired in. */
class Deadline {
  fired: 'start' | 'idle' | undefined;
  private handle: TimerHandle | undefined;

  constructor(private readonly clock: Clock, private readonly onFire: () => void) {}

  arm(phase: 'start' | 'idle', ms: number): void {
    this.clear();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.fired = phase;
      this.onFire();
    }, ms);
  }

  clear(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
