// One model call's books, kept by the gateway around the routed run: the
// `agentos.model` span, the token and time-to-first-token metrics, the audit
// record of the routing decision (and of each fallback taken), and the budget
// settlement when the call ends — done, failed or cancelled by barge-in — with
// the tokens it actually used: the provider's usage when it reported it, else
// the tokenizer's count of the prompt sent and of what was streamed.

import { context as otelContext, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import type { AuditRecordInput } from '../../kernel/audit/index.js';
import type { Governance } from '../../kernel/governance.js';
import { startSpan, type Attributes, type Telemetry, type TraceSpan } from '../../kernel/trace.js';
import { providerOf } from './catalog.js';
import { ModelCodes, ModelError } from './errors.js';
import type { RouteDecision } from './router.js';
import type { Attempt, Completion } from './run.js';
import type { ModelChunk, ToolCall, Usage } from './types.js';

/** How a call ended. A stream closed by its reader before the end, or aborted by its signal, was cancelled. */
export type CallOutcome = { kind: 'done'; completion: Completion } | { kind: 'failed' | 'cancelled'; error: unknown };

export interface CallBooks {
  governance: Governance;
  telemetry: Telemetry;
  span: TraceSpan;
  actor: string;
  tenant: string;
  requested: string;
  /** Tokens charged to the caller's budgets before the call. */
  reserved: number;
  placementOf(model: string): string | undefined;
  /** The model's tokenizer count of `text`. */
  count(model: string, text: string): number;
}

/** The span of one completion: under the syscall's span when there is one, else under whatever is active (usually nothing: a new trace). */
export function modelSpan(telemetry: Telemetry, parent: TraceSpan | undefined, attributes: Attributes): TraceSpan {
  return parent ? parent.child('agentos.model', attributes) : startSpan(telemetry, 'agentos.model', otelContext.active(), attributes);
}

/** Most entries an audit record lists (a big catalog must not make the record big). */
const LIST_MAX = 32;

/** The audit record of a routing decision (or of finding no route). */
export function routeRecord(
  books: Pick<CallBooks, 'actor' | 'tenant' | 'requested' | 'placementOf'>,
  decision: RouteDecision,
  context: { mode: string; privacy?: string; onBehalfOf?: string; fallbacks: unknown },
): AuditRecordInput {
  const head = decision.candidates[0];
  return {
    kind: 'route',
    decision: head ? 'routed' : 'no-route',
    actor: books.actor,
    tenant: books.tenant,
    subject: books.requested,
    reason: decision.reason.length > 4000 ? `${decision.reason.slice(0, 4000)}…` : decision.reason,
    data: {
      mode: context.mode,
      privacy: context.privacy ?? null,
      fallbacks: context.fallbacks === undefined ? 'auto' : context.fallbacks,
      ...(context.onBehalfOf === undefined ? {} : { onBehalfOf: context.onBehalfOf }),
      ...(head
        ? {
            model: head.id,
            provider: providerOf(head.id),
            placement: books.placementOf(head.id) ?? null,
            escalated: head.id !== books.requested,
            fits: head.fits,
            deidentify: head.redact,
            ...(head.redactBy === undefined ? {} : { deidentifyBy: head.redactBy }),
          }
        : {}),
      candidates: decision.candidates.slice(0, LIST_MAX).map((c) => ({ id: c.id, fits: c.fits, deidentify: c.redact })),
      rejected: decision.rejected.slice(0, LIST_MAX).map((r) => ({ id: r.id, reasons: r.reasons })),
    },
  };
}

/** The audit record of a fallback taken while the call ran. */
export function fallbackRecord(books: Pick<CallBooks, 'actor' | 'tenant' | 'requested'>, failed: { model: string; code: string }, next: string): AuditRecordInput {
  return {
    kind: 'route',
    decision: 'fallback',
    actor: books.actor,
    tenant: books.tenant,
    subject: books.requested,
    reason: `${failed.model} failed before streaming (${failed.code}); ${next} takes over`,
    data: { from: failed.model, code: failed.code, to: next },
  };
}

/**
 * Tokens a call that did not finish used: nothing if its last attempt failed
 * before anything streamed (the endpoint was down or refused it); else the
 * prompt sent plus the tokenizer's count of what streamed — also when the
 * caller cancelled a request already sent.
 */
export function partialUsage(attempt: Attempt | undefined, cancelled: boolean, count: (model: string, text: string) => number): Usage {
  if (!attempt || attempt.promptTokens === undefined) return { promptTokens: 0, completionTokens: 0 };
  if (attempt.firstAt === undefined && !cancelled) return { promptTokens: 0, completionTokens: 0 };
  return { promptTokens: attempt.promptTokens, completionTokens: count(attempt.model, attempt.text) + toolCallTokens(attempt.toolCalls, (t) => count(attempt.model, t)) };
}

function toolCallTokens(calls: readonly ToolCall[], count: (text: string) => number): number {
  return calls.reduce((n, c) => n + count(c.name) + count(JSON.stringify(c.arguments)), 0);
}

/**
 * `gen`, with the call's books closed when it ends, however it ends: the
 * budget settled, the span ended (with the error on failure or cancel), the
 * metrics recorded. Settling never hides the call's own outcome.
 */
export async function* booked(gen: AsyncGenerator<ModelChunk, Completion>, track: { attempt?: Attempt }, books: CallBooks): AsyncGenerator<ModelChunk, Completion> {
  let outcome: CallOutcome | undefined;
  try {
    const completion = yield* gen;
    outcome = { kind: 'done', completion };
    return completion;
  } catch (error) {
    const aborted = error instanceof ModelError && error.code === ModelCodes.aborted;
    outcome = { kind: aborted ? 'cancelled' : 'failed', error };
    throw error;
  } finally {
    close(books, track.attempt, outcome ?? { kind: 'cancelled', error: new ModelError(ModelCodes.aborted, 'the caller closed the stream before it ended', { field: 'stream' }) });
  }
}

function close(books: CallBooks, attempt: Attempt | undefined, outcome: CallOutcome): void {
  const done = outcome.kind === 'done' ? outcome.completion : undefined;
  const usage = done ? done.usage : partialUsage(attempt, outcome.kind === 'cancelled', books.count);
  const model = done?.model ?? attempt?.model;
  const actual = usage.promptTokens + usage.completionTokens;
  const code = outcome.kind === 'done' ? undefined : outcome.error instanceof ModelError ? outcome.error.code : ModelCodes.unavailable;
  try {
    books.governance.settleModelTokens(books.actor, books.tenant, books.requested, books.reserved, actual, {
      outcome: outcome.kind,
      ...(model === undefined ? {} : { model }),
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      exact: done?.exactUsage ?? false,
      ...(code === undefined ? {} : { code }),
      redacted: done?.route.redacted ?? attempt?.redacted ?? {},
    });
  } catch (err) {
    // The audit log refused the record (it is closing): the call's outcome still stands.
    books.span.event('agentos.model.settle_failed', { 'agentos.error.message': (err as Error)?.message ?? String(err) });
  }
  const m = done?.metrics;
  const ttft = m ? m.ttftMs : attempt?.firstAt === undefined ? null : attempt.firstAt - attempt.startedAt;
  if (model !== undefined) {
    const attrs: Attributes = {
      'gen_ai.response.model': model,
      'agentos.model.provider': providerOf(model),
      'gen_ai.usage.input_tokens': usage.promptTokens,
      'gen_ai.usage.output_tokens': usage.completionTokens,
      'agentos.model.reserved_tokens': books.reserved,
      'agentos.model.outcome': outcome.kind,
    };
    const placement = books.placementOf(model);
    if (placement !== undefined) attrs['agentos.model.placement'] = placement;
    if (ttft !== null) attrs['agentos.model.ttft_ms'] = ttft;
    if (m?.tokensPerSecond != null) attrs['agentos.model.tokens_per_s'] = m.tokensPerSecond;
    if (m) {
      attrs['agentos.model.cost'] = m.cost.amount;
      attrs['agentos.model.cost_currency'] = m.cost.currency;
    }
    if (done) attrs['agentos.route.reason'] = done.route.reason;
    books.span.set(attrs);
    const meters = instruments(books.telemetry.meter);
    if (usage.promptTokens > 0) meters.tokens.add(usage.promptTokens, { model, direction: 'input' });
    if (usage.completionTokens > 0) meters.tokens.add(usage.completionTokens, { model, direction: 'output' });
    if (ttft !== null) meters.ttft.record(ttft, { model });
  }
  books.span.end(outcome.kind === 'done' ? undefined : outcome.error);
}

interface ModelInstruments {
  tokens: Counter;
  ttft: Histogram;
}

const byMeter = new WeakMap<Meter, ModelInstruments>();

/** The gateway's instruments on `meter` (made once per meter). */
function instruments(meter: Meter): ModelInstruments {
  let i = byMeter.get(meter);
  if (!i) {
    i = {
      tokens: meter.createCounter('agentos.model.tokens', { description: 'Model tokens used, by model and direction (input: prompt, output: completion).', unit: '{token}' }),
      ttft: meter.createHistogram('agentos.model.ttft', { description: 'Time to first token of a model call.', unit: 'ms' }),
    };
    byMeter.set(meter, i);
  }
  return i;
}
