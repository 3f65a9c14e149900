// The `local` provider: deterministic models that run in process and need no
// weights, so everything works offline and tests are exact. Replies stream as
// the default tokenizer's pieces, paced on the injected Clock (unpaced by
// default), and usage is counted with the same tokenizer, so it is exact.

import { ModelCodes, ModelError } from '../errors.js';
import { countPrompt, heuristicTokenizer, splitTokens, type Tokenizer } from '../tokenizer.js';
import type { CompletionRequest, ModelChunk, ModelProvider, ProviderCall } from '../types.js';
import { abortedError, sleep } from '../wait.js';
import { echoModel, rulesModel, seededModel, type LocalModel, type Rule } from './models.js';

export interface LocalProviderOptions {
  /** Rules for `local/rules` (default DEFAULT_RULES). */
  rules?: readonly Rule[];
  /** Further models by name (`script-1` is reached as `local/script-1`). */
  models?: Record<string, LocalModel>;
  /** Stream pace; 0 or absent: as fast as the consumer reads. */
  tokensPerSecond?: number;
  /** Extra wait before the first token (a model's "prefill"). */
  firstTokenDelayMs?: number;
  tokenizer?: Tokenizer;
}

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export class LocalProvider implements ModelProvider {
  readonly name = 'local';
  readonly network = 'none' as const;
  private readonly table = new Map<string, LocalModel>();
  private readonly intervalMs: number;
  private readonly firstDelayMs: number;
  private readonly tokenizer: Tokenizer;

  constructor(options: LocalProviderOptions = {}) {
    const tps = options.tokensPerSecond ?? 0;
    if (!(Number.isFinite(tps) && tps >= 0)) throw new ModelError(ModelCodes.badConfig, `local provider: tokensPerSecond must be ≥ 0 (got ${tps})`, { field: 'tokensPerSecond' });
    const first = options.firstTokenDelayMs ?? 0;
    if (!(Number.isFinite(first) && first >= 0)) throw new ModelError(ModelCodes.badConfig, `local provider: firstTokenDelayMs must be ≥ 0 (got ${first})`, { field: 'firstTokenDelayMs' });
    this.intervalMs = tps > 0 ? 1000 / tps : 0;
    this.firstDelayMs = first;
    this.tokenizer = options.tokenizer ?? heuristicTokenizer;
    this.define('echo', echoModel);
    this.define('rules', rulesModel(options.rules));
    this.define('seeded', seededModel());
    for (const [name, model] of Object.entries(options.models ?? {})) this.define(name, model);
  }

  /** Add (or replace) a local model, reached as `local/<name>`. */
  define(name: string, model: LocalModel): void {
    if (!MODEL_NAME.test(name)) throw new ModelError(ModelCodes.badConfig, `local provider: model name must match ${MODEL_NAME.source} (got ${JSON.stringify(name)})`, { field: 'name' });
    if (typeof model !== 'function') throw new ModelError(ModelCodes.badConfig, `local provider: model "${name}" must be a function`, { field: 'model' });
    this.table.set(name, model);
  }

  models(): string[] {
    return [...this.table.keys()];
  }

  async *stream(request: CompletionRequest, call: ProviderCall): AsyncGenerator<ModelChunk> {
    const { clock, signal } = call;
    const model = this.table.get(call.model);
    if (!model) throw new ModelError(ModelCodes.unknownModel, `local provider has no model "${call.model}" (has ${this.models().join(', ')})`, { field: 'model' });
    if (signal?.aborted) throw abortedError(`local/${call.model}`, signal);
    const reply = model(request);
    const promptTokens = countPrompt(this.tokenizer, request);
    const limit = request.maxTokens ?? Infinity;
    let completion = 0;
    let first = true;
    let truncated = false;
    for (const piece of splitTokens(reply.text ?? '')) {
      const counts = piece.trim().length > 0;
      if (counts && completion >= limit) {
        truncated = true;
        break;
      }
      await sleep(clock, first ? this.firstDelayMs : this.intervalMs, signal, `local/${call.model}`);
      if (signal?.aborted) throw abortedError(`local/${call.model}`, signal);
      first = false;
      if (counts) completion++;
      yield { type: 'text', text: piece, at: clock.now() };
    }
    let calls = 0;
    if (!truncated) {
      const turn = request.messages.filter((m) => m.role === 'assistant').length;
      for (const [i, c] of (reply.toolCalls ?? []).entries()) {
        await sleep(clock, first ? this.firstDelayMs : this.intervalMs, signal, `local/${call.model}`);
        first = false;
        completion += this.tokenizer.count(c.name) + this.tokenizer.count(JSON.stringify(c.arguments));
        calls++;
        yield { type: 'tool_call', call: { id: `call_${turn}_${i}`, name: c.name, arguments: c.arguments }, at: clock.now() };
      }
    }
    yield {
      type: 'end',
      finishReason: truncated ? 'length' : calls > 0 ? 'tool_calls' : 'stop',
      usage: { promptTokens, completionTokens: completion },
      // The local model is its own tokenizer: its counts are the truth.
      exactUsage: true,
      at: clock.now(),
    };
  }
}
