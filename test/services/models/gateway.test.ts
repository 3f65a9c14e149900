import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentOsNode, type SystemEvent } from '../../../src/index.js';
import { ModelCatalog, ModelGateway, OpenAiCompatibleProvider, scriptedModel, type Completion, type ModelChunk, type ModelEntry } from '../../../src/services/models/index.js';
import { tempDir } from '../../support/tmp.js';
import { asker } from './support/books.js';
import { delta, event, fakeOpenAi, sse, streamText, type FakeEndpoint } from './support/fake-openai.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let clock: VirtualClock;
let events: SystemEvent[];

async function start(gateway: ModelGateway, models?: ModelEntry[]): Promise<void> {
  node = await createNode({
    name: 'models',
    dataDir: tmp.dir,
    clock,
    capacity: { cpu: '2', mem: '1Gi' },
    models: (models ? new ModelCatalog(models) : gateway.catalog).forAdmission(),
    modelGateway: gateway,
    inspect: (e) => {
      if (typeof e.type === 'string' && e.type.startsWith('@agentos.model.')) events.push(e as SystemEvent);
    },
  });
  expect(node.models).toBe(gateway);
}

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(pred()).toBe(true);
}

const records = () => Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);

beforeEach(() => {
  tmp = tempDir();
  clock = new VirtualClock(0);
  events = [];
});
afterEach(async () => {
  await node?.stop();
  tmp.cleanup();
});

describe('model gateway on a node: agents', () => {
  it('an XState agent invokes local/rules through syscall and gets the local model’s answer, routed, measured and audited', async () => {
    const gateway = new ModelGateway();
    await start(gateway);
    const ref = await node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 'a1' });
    ref.send({ type: 'ask', model: 'local/rules', content: 'hello there', tokens: 50 });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    const { answer, error } = ref.getSnapshot()!.context as { answer: Completion; error?: string };
    expect(error).toBeUndefined();
    expect(answer).toMatchObject({
      model: 'local/rules',
      requested: 'local/rules',
      text: 'Hello! I am the local rules model.',
      toolCalls: [],
      finishReason: 'stop',
      exactUsage: true,
      metrics: { ttftMs: 0, cost: { amount: 0, currency: 'USD' } },
    });
    expect(answer.usage.completionTokens).toBe(13);
    expect(answer.route.reason).toMatch(/^chose local\/rules \(requested; holds all \d+ tokens\) in hybrid mode; fallbacks local\/echo, local\/seeded/);
    const allowed = records().filter((r) => r.kind === 'policy' && r.subject === 'local/rules');
    expect(allowed.map((r) => [r.actor, r.decision, r.data.tokens])).toEqual([['a1', 'allowed', 50]]);
    expect(events.map((e) => e.type)).toEqual(['@agentos.model.routed', '@agentos.model.completed']);
    expect(gateway.metrics()['local/rules']).toMatchObject({ calls: 1, failures: 0, completionTokens: 13 });
  });

  it('a model outside modelPolicy.allow is refused with the kernel’s typed error, audited, and never runs', async () => {
    const gateway = new ModelGateway();
    await start(gateway);
    const ref = await node.spawn(asker({ allow: ['local/rules'], max_context_tokens: 8000 }), { id: 'a2' });
    ref.send({ type: 'ask', model: 'local/echo', content: 'hi' });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    expect(ref.getSnapshot()?.context.error).toBe('MODEL_DENIED');
    const denied = records().filter((r) => r.kind === 'policy' && r.decision === 'denied');
    expect(denied.map((r) => [r.actor, r.subject])).toEqual([['a2', 'local/echo']]);
    expect(gateway.metrics()).toEqual({});
    expect(events).toEqual([]);
  });

  it('a malformed request is MODEL_BAD_REQUEST naming the field, before any model runs', async () => {
    const gateway = new ModelGateway();
    await start(gateway);
    await node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 'a3' });
    await expect(node.syscall('a3', { kind: 'model', name: 'local/echo', args: { messages: [{ role: 'wizard', content: 'x' }] } })).rejects.toMatchObject({
      code: 'MODEL_BAD_REQUEST',
      field: 'messages.0.role',
    });
    await expect(node.syscall('a3', { kind: 'model', name: 'local/echo', args: { messages: [{ role: 'user', content: 'x' }], fallbacks: 7 } })).rejects.toMatchObject({
      code: 'MODEL_BAD_REQUEST',
      field: 'fallbacks',
    });
    expect(gateway.metrics()).toEqual({});
  });

  it('token budgets are the kernel’s: a call is charged what it declared, settled to what it used; an over-budget call is BUDGET_EXCEEDED', async () => {
    const gateway = new ModelGateway();
    await start(gateway);
    const ref = await node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }, { budgets: { tokens: 100 } }), { id: 'a4' });
    ref.send({ type: 'ask', model: 'local/echo', content: 'one', tokens: 80 });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    const { usage } = ref.getSnapshot()!.context.answer as Completion;
    const used = usage.promptTokens + usage.completionTokens;
    expect(used).toBeLessThan(80);
    const settled = records().filter((r) => r.kind === 'budget' && r.decision === 'settled');
    expect(settled.map((r) => [r.actor, r.subject, r.data.reserved, r.data.actual, r.data.delta, r.data.outcome])).toEqual([['a4', 'local/echo', 80, used, used - 80, 'done']]);
    expect(node.kernel.governance.policy.budgets.spent('a4')).toBe(used);
    // 100 - used tokens are left: one more is refused, exactly that many is not.
    ref.send({ type: 'ask', model: 'local/echo', content: 'two', tokens: 100 - used + 1 });
    await until(() => ref.getSnapshot()?.context.calls === 2);
    expect(ref.getSnapshot()?.context.error).toBe('BUDGET_EXCEEDED');
    ref.send({ type: 'ask', model: 'local/echo', content: 'three', tokens: 100 - used });
    await until(() => ref.getSnapshot()?.context.calls === 3);
    expect(ref.getSnapshot()?.context.error).toBeUndefined();
  });
});

describe('model gateway: streaming for in-process callers', () => {
  it('streams paced tokens on the node’s clock through the kernel’s policy, charging the estimate to the budget', async () => {
    const gateway = new ModelGateway({ local: { tokensPerSecond: 20, firstTokenDelayMs: 100 } });
    await start(gateway);
    await node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 's1' });
    const stream = await gateway.stream('s1', { model: 'local/echo', messages: [{ role: 'user', content: 'stream me please' }], maxTokens: 16 });
    expect(stream.route.candidates[0]!.id).toBe('local/echo');
    const chunks: ModelChunk[] = [];
    const reading = (async () => {
      for await (const c of stream) chunks.push(c);
    })();
    while (chunks.at(-1)?.type !== 'end') {
      await new Promise((r) => setImmediate(r));
      clock.runAll();
    }
    await reading;
    expect(chunks.filter((c) => c.type === 'text').map((c) => [(c as { text: string }).text, c.at])).toEqual([
      ['stre', 100],
      ['am', 150],
      [' me', 200],
      [' plea', 250],
      ['se', 300],
    ]);
    const done = stream.completion!;
    expect(done.text).toBe('stream me please');
    expect(done.metrics).toMatchObject({ ttftMs: 100, durationMs: 300, tokensPerSecond: 25, completionTokens: 5 });
    const charged = records().find((r) => r.kind === 'policy' && r.actor === 's1');
    expect(charged?.data.tokens).toBe(done.usage.promptTokens + 16);
  });

  it('refuses a denied model before streaming anything, with the kernel’s PolicyDenied', async () => {
    const gateway = new ModelGateway();
    await start(gateway);
    await node.spawn(asker({ allow: ['local/rules'], max_context_tokens: 8000 }), { id: 's2' });
    await expect(gateway.stream('s2', { model: 'local/echo', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ name: 'PolicyDenied', code: 'MODEL_DENIED' });
    await expect(gateway.stream('nobody', { model: 'local/echo', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR' });
  });

  it('barge-in: aborting the signal stops the stream with MODEL_ABORTED and counts it', async () => {
    const gateway = new ModelGateway({ local: { tokensPerSecond: 10 } });
    await start(gateway);
    await node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 's3' });
    const controller = new AbortController();
    const stream = await gateway.stream('s3', { model: 'local/echo', messages: [{ role: 'user', content: 'a b c d e f g' }] }, controller.signal);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const c of stream) if (c.type === 'text') seen.push(c.text);
    })();
    while (seen.length < 3) {
      await new Promise((r) => setImmediate(r));
      clock.runAll();
    }
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: 'MODEL_ABORTED' });
    expect(seen).toEqual(['a', ' b', ' c']);
    expect(stream.completion).toBeUndefined();
    expect(gateway.metrics()['local/echo']).toMatchObject({ failures: 1, errors: { MODEL_ABORTED: 1 } });
  });

  it('a local model calling a tool the request did not offer is MODEL_BAD_TOOL_CALL; an offered one comes through', async () => {
    const gateway = new ModelGateway({ local: { models: { rogue: scriptedModel([{ toolCalls: [{ name: 'rm_rf', arguments: {} }] }]) } }, catalog: [{ id: 'local/rogue', contextTokens: 4096, placement: 'edge', privacy: ['public'] }, { id: 'local/rules', contextTokens: 8192, placement: 'edge', privacy: ['public'] }] });
    await start(gateway);
    await node.spawn(asker({ allow: ['local/*'], max_context_tokens: 4000 }), { id: 's4' });
    const tools = [{ name: 'lookup', description: 'look up', parameters: { type: 'object' } }];
    await expect(gateway.complete('s4', { model: 'local/rogue', messages: [{ role: 'user', content: 'go' }], tools, fallbacks: false })).rejects.toMatchObject({ code: 'MODEL_BAD_TOOL_CALL' });
    const ok = await gateway.complete('s4', { model: 'local/rules', messages: [{ role: 'user', content: 'call the lookup tool with {"q":"x"}' }], tools });
    expect(ok.toolCalls).toEqual([{ id: 'call_0_0', name: 'lookup', arguments: { q: 'x' } }]);
    expect(ok.finishReason).toBe('tool_calls');
  });

  it('a delegated call routes only to models both contracts allow; an unknown model is MODEL_UNKNOWN', async () => {
    const gateway = new ModelGateway();
    await start(gateway);
    await node.spawn(asker({ allow: ['local/echo'], max_context_tokens: 8000 }), { id: 'principal' });
    await node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }, { name: 'delegate' }), { id: 'delegate' });
    const own = await gateway.complete('delegate', { model: 'local/echo', messages: [{ role: 'user', content: 'x' }] });
    expect(own.route.candidates).toEqual(['local/echo', 'local/rules', 'local/seeded']);
    const delegated = await gateway.complete('delegate', { model: 'local/echo', messages: [{ role: 'user', content: 'x' }], onBehalfOf: 'principal' });
    expect(delegated.route.candidates).toEqual(['local/echo']);
    await expect(gateway.complete('delegate', { model: 'local/rules', messages: [{ role: 'user', content: 'x' }], onBehalfOf: 'principal' })).rejects.toMatchObject({ code: 'MODEL_DENIED' });
    await expect(gateway.complete('delegate', { model: 'local/nothing', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
  });

  it('keeps long conversations inside max_context_tokens by sliding the window, and its state is plain data', async () => {
    const gateway = new ModelGateway();
    await start(gateway);
    await node.spawn(asker({ allow: ['local/echo'], max_context_tokens: 300 }), { id: 's5' });
    const history = Array.from({ length: 60 }, (_, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: `turn ${i} says several words here` }));
    const done = await gateway.complete('s5', { model: 'local/echo', messages: [{ role: 'system', content: 'sys' }, ...history, { role: 'user', content: 'latest words' }], maxTokens: 50 });
    expect(done.text).toBe('latest words');
    expect(done.route.dropped).toBeGreaterThan(0);
    expect(done.usage.promptTokens).toBeLessThanOrEqual(250);
    const state = JSON.parse(JSON.stringify(gateway.contextState()));
    expect(state['local/echo']).toMatchObject({ v: 1, tokenizer: 'heuristic-4c', ratio: 1, samples: 1 });
    expect(new ModelGateway({ contextState: state }).contextState()).toEqual({});
  });
});

describe('model gateway: routing to an OpenAI-compatible endpoint', () => {
  let server: FakeEndpoint;
  beforeEach(async () => {
    server = await fakeOpenAi();
  });
  afterEach(async () => {
    await server.close();
  });

  const onPrem = (id: string, contextTokens: number): ModelEntry => ({ id, contextTokens, placement: 'on_prem', privacy: ['public', 'internal', 'confidential', 'pii', 'phi'], cost: { inputPer1k: 0.5, outputPer1k: 1.5, currency: 'EUR' } });

  it('streams from the endpoint, with usage and cost from the catalog', async () => {
    const gateway = new ModelGateway({ providers: [new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl })], catalog: [onPrem('ollama/llama3.2', 32_000)] });
    await start(gateway);
    await node.spawn(asker({ allow: ['ollama/*'], max_context_tokens: 16_000 }), { id: 'o1' });
    server.handle((_req, res) => streamText(res, ['from ', 'ollama'], { prompt_tokens: 2000, completion_tokens: 1000 }));
    const done = await gateway.complete('o1', { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(done).toMatchObject({ model: 'ollama/llama3.2', text: 'from ollama', exactUsage: true, metrics: { cost: { amount: 2.5, currency: 'EUR' } } });
    expect(server.requests[0]!.body.model).toBe('llama3.2');
  });

  it('a caller that stops reading mid-stream cancels the HTTP request', async () => {
    const gateway = new ModelGateway({ providers: [new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl })], catalog: [onPrem('ollama/llama3.2', 32_000)] });
    await start(gateway);
    await node.spawn(asker({ allow: ['ollama/*'], max_context_tokens: 16_000 }), { id: 'o0' });
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ content: 'first words' }));
    });
    const hangup = server.nextHangup();
    const stream = await gateway.stream('o0', { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'talk' }] });
    for await (const c of stream) {
      expect(c).toMatchObject({ type: 'text', text: 'first words' });
      break;
    }
    await hangup;
    expect(stream.completion).toBeUndefined();
    await expect(stream.collect()).rejects.toMatchObject({ code: 'MODEL_BAD_STREAM' });
  });

  it('falls back to the local model when the endpoint is down, saying why', async () => {
    const gateway = new ModelGateway({ providers: [new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl })], catalog: [onPrem('ollama/llama3.2', 32_000), { id: 'local/echo', contextTokens: 8000, placement: 'edge', privacy: ['public'] }] });
    await start(gateway);
    await node.spawn(asker({ allow: ['ollama/*', 'local/*'], max_context_tokens: 8000 }), { id: 'o2' });
    await server.close();
    const done = await gateway.complete('o2', { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'still there?' }] });
    expect(done.model).toBe('local/echo');
    expect(done.text).toBe('still there?');
    expect(done.route.failed).toEqual([{ model: 'ollama/llama3.2', code: 'MODEL_UNAVAILABLE' }]);
    expect(done.route.reason).toContain('ollama/llama3.2 failed (MODEL_UNAVAILABLE), answered by local/echo');
    expect(events.map((e) => e.type)).toEqual(['@agentos.model.routed', '@agentos.model.fallback', '@agentos.model.completed']);
  });

  it('does not fall back once tokens have flowed: a bad stream is the call’s error, and nothing is half-recorded', async () => {
    const gateway = new ModelGateway({ providers: [new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl })], catalog: [onPrem('ollama/llama3.2', 32_000), { id: 'local/echo', contextTokens: 8000, placement: 'edge', privacy: ['public'] }] });
    await start(gateway);
    await node.spawn(asker({ allow: ['ollama/*', 'local/*'], max_context_tokens: 8000 }), { id: 'o3' });
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ content: 'half an ans' }));
      res.write('data: {oops\n\n');
      res.end();
    });
    await expect(gateway.complete('o3', { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'MODEL_BAD_STREAM' });
    // The failed call taught the window nothing.
    expect(gateway.contextState()['ollama/llama3.2']).toEqual({ v: 1, tokenizer: 'heuristic-4c', ratio: 1, samples: 0, dropped: 0 });
    expect(gateway.metrics()['ollama/llama3.2']).toMatchObject({ calls: 1, failures: 1, promptTokens: 0, errors: { MODEL_BAD_STREAM: 1 } });
    expect(gateway.metrics()['local/echo']).toBeUndefined();
  });

  it('escalates a conversation too long for the local model to a larger one, de-identifying it for the cloud', async () => {
    const cloud: ModelEntry = { id: 'cloud/big', contextTokens: 128_000, placement: 'cloud', privacy: ['public', 'internal', 'pii'] };
    const gateway = new ModelGateway({
      providers: [new OpenAiCompatibleProvider({ name: 'cloud', baseUrl: server.baseUrl })],
      catalog: [{ id: 'local/rules', contextTokens: 8192, placement: 'edge', privacy: ['public', 'internal', 'pii', 'phi'] }, cloud],
    });
    await start(gateway);
    await node.spawn(asker({ allow: ['local/*', 'cloud/*'], max_context_tokens: 8000, privacy: 'pii' }), { id: 'o4' });
    server.handle((_req, res) => streamText(res, ['done'], { prompt_tokens: 9000, completion_tokens: 1 }));
    const long = Array.from({ length: 400 }, (_, i) => ({ role: 'user' as const, content: `note ${i}: patient wrote from jane@example.org and 555-123-4567 about the case` }));
    const done = await gateway.complete('o4', { model: 'local/rules', messages: [...long, { role: 'user', content: 'summarise for jane@example.org' }] });
    // max_context_tokens (8000) caps every window, so escalating gains nothing: the requested local model gets it trimmed.
    expect(done.model).toBe('local/rules');
    expect(done.route.dropped).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(0);

    await node.spawn(asker({ allow: ['local/*', 'cloud/*'], max_context_tokens: 100_000, privacy: 'pii' }, { name: 'asker2' }), { id: 'o5' });
    const escalated = await gateway.complete('o5', { model: 'local/rules', messages: [...long, { role: 'user', content: 'summarise for jane@example.org' }] });
    expect(escalated.model).toBe('cloud/big');
    expect(escalated.route.reason).toContain('escalated');
    expect(escalated.route.redacted).toMatchObject({ email: 401, phone: 400 });
    const sent = JSON.stringify(server.requests[0]!.body.messages);
    expect(sent).not.toContain('jane@example.org');
    expect(sent).not.toContain('555-123-4567');
    expect(sent).toContain('[EMAIL]');
  });

  it('air-gapped: refuses a provider that leaves the machine, and still serves loopback and local models', async () => {
    const remote = new OpenAiCompatibleProvider({ name: 'openai', baseUrl: 'https://api.openai.invalid/v1' });
    const gateway = new ModelGateway({
      mode: 'air-gapped',
      providers: [remote, new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl })],
      catalog: [{ id: 'openai/gpt', contextTokens: 128_000, placement: 'on_prem', privacy: ['public'] }, onPrem('ollama/llama3.2', 32_000), { id: 'local/echo', contextTokens: 8000, placement: 'edge', privacy: ['public'] }],
    });
    await start(gateway);
    await node.spawn(asker({ allow: ['openai/*'], max_context_tokens: 8000 }), { id: 'g1' });
    let err: any;
    try {
      await gateway.complete('g1', { model: 'openai/gpt', messages: [{ role: 'user', content: 'x' }] });
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe('MODEL_NO_ROUTE');
    expect(err?.message).toContain('openai/gpt (air-gapped node: its provider is on the network)');
    await node.spawn(asker({ allow: ['ollama/*', 'openai/*', 'local/*'], max_context_tokens: 8000 }), { id: 'g2' });
    server.handle((_req, res) => streamText(res, ['local net'], { prompt_tokens: 3, completion_tokens: 2 }));
    const done = await gateway.complete('g2', { model: 'openai/gpt', messages: [{ role: 'user', content: 'x' }] });
    expect(done.model).toBe('ollama/llama3.2');
    expect(done.route.candidates).toEqual(['ollama/llama3.2', 'local/echo']);
  });

  it('the syscall path routes too: an agent asking a down endpoint gets the fallback’s answer', async () => {
    const gateway = new ModelGateway({ providers: [new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl })], catalog: [onPrem('ollama/llama3.2', 32_000), { id: 'local/rules', contextTokens: 8192, placement: 'edge', privacy: ['public'] }] });
    await start(gateway);
    server.handle((_req, res) => {
      res.statusCode = 503;
      res.end('overloaded');
    });
    const ref = await node.spawn(asker({ allow: ['ollama/*', 'local/*'], max_context_tokens: 8000 }), { id: 'o6' });
    ref.send({ type: 'ask', model: 'ollama/llama3.2', content: 'hello' });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    const answer = ref.getSnapshot()!.context.answer as Completion;
    expect(answer.model).toBe('local/rules');
    expect(answer.text).toBe('Hello! I am the local rules model.');
  });
});

describe('model gateway: configuration', () => {
  it('refuses a catalog model without a provider, an unknown mode, and use before register', async () => {
    expect(() => new ModelGateway({ catalog: [{ id: 'ghost/x', contextTokens: 10, placement: 'edge', privacy: [] }] })).toThrow(expect.objectContaining({ code: 'MODEL_BAD_CONFIG', field: 'providers' }));
    expect(() => new ModelGateway({ mode: 'offline' as never })).toThrow(expect.objectContaining({ code: 'MODEL_BAD_CONFIG', field: 'mode' }));
    await expect(new ModelGateway().stream('a', { model: 'local/echo', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'MODEL_GATEWAY_NOT_REGISTERED' });
  });
});
