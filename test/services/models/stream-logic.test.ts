// streamCompletion: a streamed completion as XState child logic of an agent on a
// real node (LMDB on disk, VirtualClock): chunks arrive as events, the machine
// reaches `done` with the whole text; leaving the streaming state aborts the
// stream and settles it as cancelled; policy and budget refusals arrive as
// `model.error`; the `agentos.model` span hangs under the agent's turn; a
// persistent agent is refused; an OpenAI-compatible endpoint streams the same way.
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent } from '../../../src/index.js';
import { heuristicTokenizer, ModelGateway, OpenAiCompatibleProvider, streamCompletion, type StreamCompletionEvent } from '../../../src/services/models/index.js';
import { startNode, until, type Started } from './support/books.js';
import { delta, event, fakeOpenAi, sse, streamText, type FakeEndpoint } from './support/fake-openai.js';

const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ask'), model: z.string(), content: z.string(), maxTokens: z.number().optional() }),
  z.object({ type: z.literal('interrupt') }),
]);

interface Ctx {
  model: string;
  prompt: string;
  maxTokens: number;
  chunks: string[];
  indexes: number[];
  text?: string;
  error?: { code: string; message: string; field?: string };
}

const machine = setup({
  types: { context: {} as Ctx, events: {} as z.infer<typeof messages> | StreamCompletionEvent },
  actors: { streamCompletion },
}).createMachine({
  context: { model: '', prompt: '', maxTokens: 64, chunks: [], indexes: [] },
  initial: 'idle',
  on: {
    ask: {
      target: '.streaming',
      actions: assign(({ event }) => ({ model: event.model, prompt: event.content, maxTokens: event.maxTokens ?? 64, chunks: [], indexes: [], text: undefined, error: undefined })),
    },
  },
  states: {
    idle: {},
    streaming: {
      invoke: {
        src: 'streamCompletion',
        input: ({ context }) => ({ model: context.model, messages: [{ role: 'user' as const, content: context.prompt }], maxTokens: context.maxTokens }),
      },
      on: {
        'model.chunk': { actions: assign({ chunks: ({ context, event }) => [...context.chunks, event.text], indexes: ({ context, event }) => [...context.indexes, event.index] }) },
        'model.done': { target: 'done', actions: assign({ text: ({ event }) => event.text }) },
        'model.error': { target: 'failed', actions: assign({ error: ({ event }) => ({ code: event.code, message: event.message, ...(event.field === undefined ? {} : { field: event.field }) }) }) },
        interrupt: 'interrupted',
      },
    },
    done: {},
    failed: {},
    interrupted: {},
  },
});

const streamer = (contract: Record<string, unknown>, persistent = false) =>
  defineAgent({ name: 'streamer', machine, messages, contract, ...(persistent ? { persistent: true } : {}) });

let s: Started | undefined;
let server: FakeEndpoint | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
  await server?.close();
  server = undefined;
});

const ctx = (id: string): Ctx => s!.node.lookup(id)!.getSnapshot()!.context as Ctx;
const state = (id: string): unknown => s!.node.lookup(id)!.getSnapshot()!.value;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const modelRecords = (actor: string) => s!.records().filter((r) => r.actor === actor && (r.kind === 'budget' || r.kind === 'policy' || r.kind === 'route'));

describe('streamCompletion', () => {
  it('streams local/echo into the machine chunk by chunk and reaches done with the whole text', async () => {
    const gateway = new ModelGateway({ local: { tokensPerSecond: 10 } });
    s = await startNode(gateway);
    const ref = await s.node.spawn(streamer({ modelPolicy: { allow: ['local/*'], max_context_tokens: 8000 } }), { id: 'a1' });
    const prompt = 'the quick brown fox jumps over the lazy dog';
    ref.send({ type: 'ask', model: 'local/echo', content: prompt });
    await until(() => state('a1') === 'streaming');
    // The paced model yields one piece per 100 ms of the virtual clock: watch the text grow.
    const seen: number[] = [];
    while (state('a1') === 'streaming') {
      s.clock.advance(100);
      for (let i = 0; i < 20; i++) await tick();
      seen.push(ctx('a1').chunks.length);
    }
    expect(state('a1')).toBe('done');
    const c = ctx('a1');
    expect(c.text).toBe(prompt);
    expect(c.chunks.join('')).toBe(prompt);
    expect(c.chunks.length).toBeGreaterThan(5);
    expect(c.indexes).toEqual(c.chunks.map((_, i) => i));
    // Partial text was visible before the end: the counts grew step by step.
    expect(new Set(seen.filter((n) => n > 0 && n < c.chunks.length)).size).toBeGreaterThan(2);
    // The same policy path as the syscall: allowed, routed, settled done with the exact usage.
    const recs = modelRecords('a1');
    expect(recs.find((r) => r.kind === 'policy' && r.decision === 'allowed')).toMatchObject({ subject: 'local/echo' });
    expect(recs.find((r) => r.kind === 'route')).toMatchObject({ decision: 'routed', subject: 'local/echo' });
    expect(recs.find((r) => r.decision === 'settled')).toMatchObject({ subject: 'local/echo', data: { outcome: 'done', completionTokens: heuristicTokenizer.count(prompt) } });
    expect(gateway.metrics()['local/echo']).toMatchObject({ calls: 1, failures: 0 });
  });

  it('barge-in: leaving the streaming state aborts the stream, settles it as cancelled, and no chunk arrives after', async () => {
    const gateway = new ModelGateway({ local: { tokensPerSecond: 10 } });
    s = await startNode(gateway);
    const ref = await s.node.spawn(streamer({ modelPolicy: { allow: ['local/*'], max_context_tokens: 8000 } }), { id: 'b1' });
    ref.send({ type: 'ask', model: 'local/echo', content: 'one two three four five six seven eight nine ten' });
    await until(() => state('b1') === 'streaming');
    while (ctx('b1').chunks.length < 3) {
      s.clock.advance(100);
      for (let i = 0; i < 20; i++) await tick();
    }
    ref.send({ type: 'interrupt' });
    await until(() => state('b1') === 'interrupted');
    const heard = ctx('b1').chunks.length;
    await until(() => modelRecords('b1').some((r) => r.decision === 'settled'));
    s.clock.runAll();
    for (let i = 0; i < 50; i++) await tick();
    expect(ctx('b1').chunks).toHaveLength(heard);
    expect(ctx('b1').text).toBeUndefined();
    expect(ctx('b1').chunks.join('')).not.toContain('ten');
    const settled = modelRecords('b1').filter((r) => r.decision === 'settled');
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ subject: 'local/echo', data: { outcome: 'cancelled', code: 'MODEL_ABORTED' } });
    // Charged for what it used (the prompt and what streamed), not for the reservation.
    expect(settled[0]!.data.actual).toBeLessThan(settled[0]!.data.reserved);
    expect(gateway.metrics()['local/echo']).toMatchObject({ failures: 1, errors: { MODEL_ABORTED: 1 } });
    // The stream's timers are gone: nothing more is pending on the clock for it.
    expect(s.clock.pending()).toBe(0);
  });

  it('a model the contract does not allow arrives as model.error MODEL_DENIED, audited, and nothing streams', async () => {
    s = await startNode(new ModelGateway());
    await s.node.spawn(streamer({ modelPolicy: { allow: ['local/rules'], max_context_tokens: 8000 } }), { id: 'd1' });
    s.node.lookup('d1')!.send({ type: 'ask', model: 'local/echo', content: 'hello' });
    await until(() => state('d1') === 'failed');
    expect(ctx('d1').error).toMatchObject({ code: 'MODEL_DENIED', field: 'modelPolicy.allow' });
    expect(ctx('d1').chunks).toEqual([]);
    expect(modelRecords('d1').filter((r) => r.kind === 'policy').map((r) => r.decision)).toEqual(['denied']);
    expect(modelRecords('d1').some((r) => r.kind === 'route' || r.decision === 'settled')).toBe(false);
  });

  it('a call over the token budget arrives as model.error BUDGET_EXCEEDED', async () => {
    s = await startNode(new ModelGateway());
    await s.node.spawn(streamer({ modelPolicy: { allow: ['local/*'], max_context_tokens: 8000 }, budgets: { tokens: 20 } }), { id: 'd2' });
    s.node.lookup('d2')!.send({ type: 'ask', model: 'local/echo', content: 'hello', maxTokens: 500 });
    await until(() => state('d2') === 'failed');
    expect(ctx('d2').error?.code).toBe('BUDGET_EXCEEDED');
    expect(modelRecords('d2').filter((r) => r.decision === 'budget-refused')).toHaveLength(1);
  });

  it('a persistent agent is refused with MODEL_STREAM_NOT_JOURNALED pointing at the model syscall', async () => {
    s = await startNode(new ModelGateway());
    await s.node.spawn(streamer({ modelPolicy: { allow: ['local/*'], max_context_tokens: 8000 } }, true), { id: 'p1' });
    s.node.lookup('p1')!.send({ type: 'ask', model: 'local/echo', content: 'hello' });
    await until(() => state('p1') === 'failed');
    const error = ctx('p1').error!;
    expect(error).toMatchObject({ code: 'MODEL_STREAM_NOT_JOURNALED', field: 'persistence' });
    expect(error.message).toContain("syscall with { kind: 'model', name: \"local/echo\"");
    expect(modelRecords('p1')).toEqual([]);
  });

  it('its agentos.model span is a child of the agent’s agentos.deliver span for the turn that started it', async () => {
    const spans = new InMemorySpanExporter();
    s = await startNode(new ModelGateway(), { telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] } });
    await s.node.spawn(streamer({ modelPolicy: { allow: ['local/*'], max_context_tokens: 8000 } }), { id: 't1' });
    s.node.lookup('t1')!.send({ type: 'ask', model: 'local/echo', content: 'trace me' });
    await until(() => state('t1') === 'done');
    await until(() => spans.getFinishedSpans().some((x) => x.name === 'agentos.model'));
    const named = (n: string): ReadableSpan[] => spans.getFinishedSpans().filter((x) => x.name === n);
    const turn = named('agentos.deliver').find((x) => x.attributes['agentos.actor'] === 't1' && x.attributes['agentos.message.type'] === 'ask')!;
    const [model] = named('agentos.model');
    expect(named('agentos.model')).toHaveLength(1);
    expect(model!.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(model!.spanContext().traceId).toBe(turn.spanContext().traceId);
    expect(model!.attributes).toMatchObject({ 'gen_ai.request.model': 'local/echo', 'agentos.actor': 't1', 'agentos.model.outcome': 'done' });
  });

  it('streams from an OpenAI-compatible endpoint, and barge-in hangs up on it', async () => {
    server = await fakeOpenAi();
    const gateway = new ModelGateway({
      providers: [new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl })],
      catalog: [{ id: 'ollama/llama3.2', contextTokens: 32_000, placement: 'on_prem', privacy: ['public', 'internal'] }],
    });
    s = await startNode(gateway);
    const ref = await s.node.spawn(streamer({ modelPolicy: { allow: ['ollama/*'], max_context_tokens: 16_000 } }), { id: 'o1' });
    server.handle((_req, res) => streamText(res, ['Hel', 'lo', ' from', ' ollama'], { prompt_tokens: 9, completion_tokens: 4 }));
    ref.send({ type: 'ask', model: 'ollama/llama3.2', content: 'hi' });
    await until(() => state('o1') === 'done');
    expect(ctx('o1').chunks).toEqual(['Hel', 'lo', ' from', ' ollama']);
    expect(ctx('o1').text).toBe('Hello from ollama');

    // An endpoint that sends one piece and holds the stream open: interrupting closes the request.
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ content: 'first words' }));
    });
    const hangup = server.nextHangup();
    ref.send({ type: 'ask', model: 'ollama/llama3.2', content: 'talk a lot' });
    await until(() => ctx('o1').chunks.length === 1);
    ref.send({ type: 'interrupt' });
    await hangup;
    await until(() => modelRecords('o1').filter((r) => r.decision === 'settled').length === 2);
    expect(state('o1')).toBe('interrupted');
    expect(modelRecords('o1').filter((r) => r.decision === 'settled').map((r) => r.data.outcome)).toEqual(['done', 'cancelled']);
  });
});
