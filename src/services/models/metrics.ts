// Per-call model metrics — time to first token, tokens per second, prompt and
// completion tokens, cost — measured on the injected Clock, and running
// totals per model for the gateway's `metrics()`.

import type { Usage } from './types.js';

export interface CallMetrics {
  model: string;
  startedAt: number;
  /** ms from the call's start to its first text or tool-call chunk (null if none came). */
  ttftMs: number | null;
  /** ms from start to the end chunk. */
  durationMs: number;
  /** Completion tokens per second after the first token; null when no time passed (an unpaced local model on a still clock). */
  tokensPerSecond: number | null;
  promptTokens: number;
  completionTokens: number;
  /** Whether the counts came from the provider (else the gateway's tokenizer estimated them). */
  exactUsage: boolean;
  cost: { amount: number; currency: string };
}

export function callMetrics(input: {
  model: string;
  startedAt: number;
  firstAt: number | undefined;
  endedAt: number;
  usage: Usage;
  exactUsage: boolean;
  cost: { amount: number; currency: string };
}): CallMetrics {
  const { startedAt, firstAt, endedAt, usage } = input;
  const streaming = firstAt === undefined ? 0 : endedAt - firstAt;
  return {
    model: input.model,
    startedAt,
    ttftMs: firstAt === undefined ? null : firstAt - startedAt,
    durationMs: endedAt - startedAt,
    tokensPerSecond: streaming > 0 ? (usage.completionTokens * 1000) / streaming : null,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    exactUsage: input.exactUsage,
    cost: input.cost,
  };
}

export interface ModelTotals {
  calls: number;
  failures: number;
  promptTokens: number;
  completionTokens: number;
  /** Summed per currency. */
  cost: Record<string, number>;
  /** Mean time to first token over calls that produced one. */
  meanTtftMs: number | null;
  /** Failures by error code. */
  errors: Record<string, number>;
}

export class ModelMetrics {
  private readonly totals = new Map<string, ModelTotals & { ttftSum: number; ttftN: number }>();

  record(m: CallMetrics): void {
    const t = this.entry(m.model);
    t.calls++;
    t.promptTokens += m.promptTokens;
    t.completionTokens += m.completionTokens;
    t.cost[m.cost.currency] = (t.cost[m.cost.currency] ?? 0) + m.cost.amount;
    if (m.ttftMs !== null) {
      t.ttftSum += m.ttftMs;
      t.ttftN++;
    }
  }

  failed(model: string, code: string): void {
    const t = this.entry(model);
    t.calls++;
    t.failures++;
    t.errors[code] = (t.errors[code] ?? 0) + 1;
  }

  snapshot(): Record<string, ModelTotals> {
    const out: Record<string, ModelTotals> = {};
    for (const [id, t] of this.totals) {
      out[id] = {
        calls: t.calls,
        failures: t.failures,
        promptTokens: t.promptTokens,
        completionTokens: t.completionTokens,
        cost: { ...t.cost },
        meanTtftMs: t.ttftN > 0 ? t.ttftSum / t.ttftN : null,
        errors: { ...t.errors },
      };
    }
    return out;
  }

  private entry(model: string): ModelTotals & { ttftSum: number; ttftN: number } {
    let t = this.totals.get(model);
    if (!t) {
      t = { calls: 0, failures: 0, promptTokens: 0, completionTokens: 0, cost: {}, meanTtftMs: null, errors: {}, ttftSum: 0, ttftN: 0 };
      this.totals.set(model, t);
    }
    return t;
  }
}
