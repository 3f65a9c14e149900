// One routed call, run: for each candidate in the route's order, fit the
// conversation into its window, de-identify if the route says so, stream from
// its provider, check every tool call against the tools offered, and measure.
// A candidate that is down or times out before its first chunk hands over to
// the next; once chunks have flowed, an error ends the call (nothing half
// from two models). A ModelStream is the single-consumer handle on the result.

import type { Clock } from '../../base/clock.js';
import type { ModelCatalog } from './catalog.js';
import { modelNameOf, providerOf } from './catalog.js';
import type { ContextWindow } from './context-window.js';
import { isTransient, ModelCodes, ModelError } from './errors.js';
import { callMetrics, type CallMetrics, type ModelMetrics } from './metrics.js';
import { redactMessages, type Redactor } from './redact.js';
import type { RouteDecision } from './router.js';
import type { CompletionRequest, FinishReason, ModelChunk, ModelProvider, ToolCall, Usage } from './types.js';

export interface Completion {
  /** The model that answered (may differ from `requested` after escalation or fallback). */
  model: string;
  requested: string;
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  exactUsage: boolean;
  metrics: CallMetrics;
  route: {
    reason: string;
    candidates: string[];
    /** Candidates that failed before this one answered, with their error codes. */
    failed: { model: string; code: string }[];
    /** Replacements made by de-identification, by kind (empty when the prompt was not redacted). */
    redacted: Record<string, number>;
    /** Messages left out of the window. */
    dropped: number;
    summarized: boolean;
  };
}

export interface RunDeps {
  clock: Clock;
  catalog: ModelCatalog;
  provider(name: string): ModelProvider;
  window(model: string): ContextWindow;
  redactor: Redactor;
  metrics: ModelMetrics;
  emit(type: `@agentos.${string}`, data: Record<string, unknown>): void;
  /** A candidate failed before anything streamed and `next` takes over (audited by the gateway). */
  fellBack(failed: { model: string; code: string }, next: string): void;
}

/**
 * The attempt in flight, as far as it got: what a failed or cancelled call is
 * charged for. `promptTokens` is set once the request went to the provider.
 */
export interface Attempt {
  model: string;
  startedAt: number;
  promptTokens?: number;
  firstAt?: number;
  text: string;
  toolCalls: ToolCall[];
  redacted: Record<string, number>;
}

export interface Plan {
  actor: string;
  requested: string;
  request: CompletionRequest;
  maxTokens: number;
  decision: RouteDecision;
  signal?: AbortSignal;
  /** Filled in as the call runs: the current attempt. */
  track?: { attempt?: Attempt };
}

export async function* runPlan(deps: RunDeps, plan: Plan): AsyncGenerator<ModelChunk, Completion> {
  const { clock, metrics } = deps;
  const { request, decision, maxTokens, signal } = plan;
  const offered = new Set((request.tools ?? []).map((t) => t.name));
  const failed: { model: string; code: string }[] = [];
  for (const [i, candidate] of decision.candidates.entries()) {
    const last = i === decision.candidates.length - 1;
    const window = deps.window(candidate.id);
    const startedAt = clock.now();
    let started = false;
    const attempt: Attempt = { model: candidate.id, startedAt, text: '', toolCalls: [], redacted: {} };
    if (plan.track) plan.track.attempt = attempt;
    try {
      const fit = await window.fit(request.messages, candidate.window - maxTokens, request.tools);
      const redaction = candidate.redact ? redactMessages(deps.redactor, fit.messages) : { messages: fit.messages, counts: {} };
      attempt.redacted = redaction.counts;
      const sent: CompletionRequest = { ...request, messages: redaction.messages, maxTokens };
      const provider = deps.provider(providerOf(candidate.id));
      let firstAt: number | undefined;
      const toolCalls = attempt.toolCalls;
      attempt.promptTokens = fit.promptTokens;
      for await (const chunk of provider.stream(sent, { model: modelNameOf(candidate.id), clock, ...(signal ? { signal } : {}) })) {
        if (chunk.type === 'tool_call' && !offered.has(chunk.call.name)) {
          throw new ModelError(ModelCodes.badToolCall, `${candidate.id} called tool "${chunk.call.name}", which the request did not offer (${[...offered].join(', ') || 'no tools'})`, {
            field: 'toolCalls.name',
          });
        }
        if (chunk.type === 'end') {
          const endedAt = clock.now();
          window.observe(fit.rawTokens, chunk.usage, chunk.exactUsage);
          const m = callMetrics({
            model: candidate.id,
            startedAt,
            firstAt,
            endedAt,
            usage: chunk.usage,
            exactUsage: chunk.exactUsage,
            cost: deps.catalog.cost(candidate.id, chunk.usage.promptTokens, chunk.usage.completionTokens),
          });
          metrics.record(m);
          yield { ...chunk, at: endedAt };
          const completion: Completion = {
            model: candidate.id,
            requested: plan.requested,
            text: attempt.text,
            toolCalls,
            finishReason: chunk.finishReason,
            usage: { ...chunk.usage },
            exactUsage: chunk.exactUsage,
            metrics: m,
            route: {
              reason: failed.length > 0 ? `${decision.reason}; ${failed.map((f) => `${f.model} failed (${f.code})`).join(', ')}, answered by ${candidate.id}` : decision.reason,
              candidates: decision.candidates.map((c) => c.id),
              failed,
              redacted: redaction.counts,
              dropped: fit.dropped,
              summarized: fit.summarized,
            },
          };
          deps.emit('@agentos.model.completed', { actor: plan.actor, model: candidate.id, requested: plan.requested, metrics: m });
          return completion;
        }
        if (!started) {
          started = true;
          firstAt = attempt.firstAt = clock.now();
        }
        if (chunk.type === 'text') attempt.text += chunk.text;
        else toolCalls.push(chunk.call);
        yield chunk;
      }
      throw new ModelError(ModelCodes.badStream, `${candidate.id}: the provider's stream ended without an end chunk`, { field: 'stream' });
    } catch (err) {
      const code = err instanceof ModelError ? err.code : ModelCodes.unavailable;
      metrics.failed(candidate.id, code);
      // Try the next one only if nothing reached the caller and the failure is the endpoint's, not the request's.
      const overflow = err instanceof ModelError && err.code === ModelCodes.contextOverflow;
      if (!started && !last && (isTransient(err) || overflow) && !signal?.aborted) {
        failed.push({ model: candidate.id, code });
        deps.emit('@agentos.model.fallback', { actor: plan.actor, model: candidate.id, code, next: decision.candidates[i + 1]!.id });
        deps.fellBack({ model: candidate.id, code }, decision.candidates[i + 1]!.id);
        continue;
      }
      if (err instanceof ModelError) throw err;
      throw new ModelError(ModelCodes.unavailable, `${candidate.id}: the provider failed: ${(err as Error)?.message ?? String(err)}`, { field: 'model', cause: err });
    }
  }
  throw new ModelError(ModelCodes.noRoute, decision.reason, { field: 'model' });
}

/**
 * A streamed completion, for one consumer: iterate it for chunks (text as it
 * comes, tool calls, one `end`), or `collect()` for the whole completion.
 * Breaking out of the loop cancels the provider's request.
 */
export class ModelStream implements AsyncIterable<ModelChunk> {
  private result: Completion | undefined;
  private taken = false;

  constructor(
    /** The routing decision (made before anything streamed). */
    readonly route: RouteDecision,
    private readonly gen: AsyncGenerator<ModelChunk, Completion>,
  ) {}

  /** The finished completion, once the stream has ended. */
  get completion(): Completion | undefined {
    return this.result;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ModelChunk> {
    if (this.taken) throw new ModelError(ModelCodes.badRequest, 'a model stream can be read once', { field: 'stream' });
    this.taken = true;
    try {
      for (;;) {
        const step = await this.gen.next();
        if (step.done) {
          this.result = step.value;
          return;
        }
        yield step.value;
      }
    } finally {
      if (this.result === undefined) await this.gen.return(undefined as never);
    }
  }

  /** Read the rest and return the completion. */
  async collect(): Promise<Completion> {
    if (!this.taken) for await (const _ of this) void _;
    if (!this.result) throw new ModelError(ModelCodes.badStream, 'the model stream was closed before it ended', { field: 'stream' });
    return this.result;
  }
}
