// Model calls settle their budgets with what they actually used — done, failed,
// cancelled by barge-in, or never routed — and every routing decision (and
// fallback taken) is a record in the node's audit log.
import { afterEach, describe, expect, it } from 'vitest';
import { ModelCodes, ModelError, ModelGateway, scriptedModel, type Completion } from '../../../src/services/models/index.js';
import { countPrompt, heuristicTokenizer } from '../../../src/services/models/tokenizer.js';
import { asker, entry, RecordingProvider, startNode, until, type Started } from './support/books.js';

let s: Started | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const settled = (actor: string) => s!.records().filter((r) => r.kind === 'budget' && r.decision === 'settled' && r.actor === actor);
const spent = (actor: string) => s!.node.kernel.governance.policy.budgets.spent(actor);

describe('budgets settle with actual usage', () => {
  it('a completed stream() call is charged its estimate up front, then settled to the provider’s usage: the unused part refunded, both audited', async () => {
    const gateway = new ModelGateway();
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }, { budgets: { tokens: 10_000 } }), { id: 'u1' });
    const done = await gateway.complete('u1', { model: 'local/echo', messages: [{ role: 'user', content: 'settle me' }], maxTokens: 200 });
    const reserved = s.records().find((r) => r.kind === 'policy' && r.actor === 'u1')!.data.tokens as number;
    const actual = done.usage.promptTokens + done.usage.completionTokens;
    expect(reserved).toBe(done.usage.promptTokens + 200);
    expect(settled('u1').map((r) => r.data)).toEqual([
      { outcome: 'done', model: 'local/echo', promptTokens: done.usage.promptTokens, completionTokens: done.usage.completionTokens, exact: true, redacted: {}, reserved, actual, delta: actual - reserved },
    ]);
    expect(spent('u1')).toBe(actual);
    const cap = s.node.kernel.governance.policy.budgets.snapshot('actor', 'u1')[0]!;
    expect(cap.limit - cap.available).toBe(actual);
  });

  it('an overrun (the provider used more than was reserved) is charged past the limit, alerted once, and the next call is refused', async () => {
    const big = new RecordingProvider('onprem', 'loopback', { pieces: ['long answer'], usage: { promptTokens: 900, completionTokens: 300 } });
    const gateway = new ModelGateway({ providers: [big], catalog: [entry('onprem/big', 'on_prem')] });
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['onprem/*'], max_context_tokens: 8000 }, { budgets: { tokens: 1000 } }), { id: 'u2' });
    await gateway.complete('u2', { model: 'onprem/big', messages: [{ role: 'user', content: 'hi' }], tokens: 200 });
    expect(settled('u2').map((r) => [r.data.reserved, r.data.actual, r.data.delta])).toEqual([[200, 1200, 1000]]);
    expect(spent('u2')).toBe(1200);
    const alerts = s.records().filter((r) => r.kind === 'budget' && r.decision === 'alert');
    expect(alerts.map((r) => [r.subject, r.data.budget, r.data.limit, r.data.used])).toEqual([['actor:u2', 'tokens', 1000, 1200]]);
    await expect(gateway.complete('u2', { model: 'onprem/big', messages: [{ role: 'user', content: 'again' }], tokens: 1 })).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(big.requests).toHaveLength(1);
    expect(s.records().filter((r) => r.kind === 'budget' && r.decision === 'alert')).toHaveLength(1);
  });

  it('barge-in: a call cancelled by its signal is charged the prompt it sent plus the tokenizer count of what streamed', async () => {
    const gateway = new ModelGateway({ local: { tokensPerSecond: 10 } });
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }, { budgets: { tokens: 10_000 } }), { id: 'u3' });
    const messages = [{ role: 'user' as const, content: 'a b c d e f g' }];
    const controller = new AbortController();
    const stream = await gateway.stream('u3', { model: 'local/echo', messages, maxTokens: 100 }, controller.signal);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const c of stream) if (c.type === 'text') seen.push(c.text);
    })();
    while (seen.length < 3) {
      await new Promise((r) => setImmediate(r));
      s.clock.runAll();
    }
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: 'MODEL_ABORTED' });
    const prompt = countPrompt(heuristicTokenizer, { messages });
    expect(settled('u3').map((r) => r.data)).toEqual([
      { outcome: 'cancelled', model: 'local/echo', promptTokens: prompt, completionTokens: 3, exact: false, code: 'MODEL_ABORTED', redacted: {}, reserved: prompt + 100, actual: prompt + 3, delta: 3 - 100 },
    ]);
    expect(spent('u3')).toBe(prompt + 3);
  });

  it('a reader that stops reading mid-stream cancels the call, and it is settled the same way', async () => {
    const gateway = new ModelGateway();
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 'u4' });
    const messages = [{ role: 'user' as const, content: 'one two three four' }];
    const stream = await gateway.stream('u4', { model: 'local/echo', messages, maxTokens: 50 });
    for await (const c of stream) if (c.type === 'text') break;
    const prompt = countPrompt(heuristicTokenizer, { messages });
    expect(settled('u4').map((r) => [r.data.outcome, r.data.code, r.data.actual])).toEqual([['cancelled', 'MODEL_ABORTED', prompt + 1]]);
    expect(spent('u4')).toBe(prompt + 1);
  });

  it('a call that fails before anything streamed is refunded in full; one that fails mid-stream pays for its prompt and what came', async () => {
    const down = new RecordingProvider('onprem', 'loopback');
    down.failWith = new ModelError(ModelCodes.unavailable, 'connection refused', { field: 'model' });
    const gateway = new ModelGateway({ providers: [down], catalog: [entry('onprem/m', 'on_prem')] });
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['onprem/*'], max_context_tokens: 8000 }), { id: 'u5' });
    await expect(gateway.complete('u5', { model: 'onprem/m', messages: [{ role: 'user', content: 'x' }], tokens: 300, fallbacks: false })).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    expect(settled('u5').map((r) => [r.data.outcome, r.data.code, r.data.reserved, r.data.actual, r.data.delta])).toEqual([['failed', 'MODEL_UNAVAILABLE', 300, 0, -300]]);
    expect(spent('u5')).toBe(0);

    // A local model that streams two tool-less pieces and then calls a tool nobody offered: a failure after output.
    const rogue = new ModelGateway({
      local: { models: { rogue: scriptedModel([{ text: 'half done', toolCalls: [{ name: 'rm_rf', arguments: {} }] }]) } },
      catalog: [entry('local/rogue', 'edge')],
    });
    await s.close();
    s = await startNode(rogue);
    await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 'u6' });
    const messages = [{ role: 'user' as const, content: 'go' }];
    await expect(rogue.complete('u6', { model: 'local/rogue', messages, tokens: 300 })).rejects.toMatchObject({ code: 'MODEL_BAD_TOOL_CALL' });
    const prompt = countPrompt(heuristicTokenizer, { messages });
    expect(settled('u6').map((r) => [r.data.outcome, r.data.code, r.data.actual])).toEqual([['failed', 'MODEL_BAD_TOOL_CALL', prompt + heuristicTokenizer.count('half done')]]);
  });

  it('a call with no route runs nothing, is refunded, and its no-route decision is audited', async () => {
    const remote = new RecordingProvider('cloud', 'remote');
    const gateway = new ModelGateway({ mode: 'air-gapped', providers: [remote], catalog: [entry('cloud/gpt', 'cloud')] });
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['cloud/*'], max_context_tokens: 8000 }), { id: 'u7' });
    await expect(gateway.complete('u7', { model: 'cloud/gpt', messages: [{ role: 'user', content: 'x' }], tokens: 50 })).rejects.toMatchObject({ code: 'MODEL_NO_ROUTE' });
    const route = s.records().filter((r) => r.kind === 'route');
    expect(route.map((r) => [r.decision, r.actor, r.subject])).toEqual([['no-route', 'u7', 'cloud/gpt']]);
    expect(route[0]!.data.rejected).toEqual([{ id: 'cloud/gpt', reasons: ['air-gapped node: a cloud model'] }]);
    expect(settled('u7').map((r) => [r.data.outcome, r.data.code, r.data.delta])).toEqual([['failed', 'MODEL_NO_ROUTE', -50]]);
    expect(remote.requests).toEqual([]);
  });

  it('the syscall path settles what the agent declared, charges an undeclared call its estimate first, and refuses it over budget', async () => {
    const gateway = new ModelGateway();
    s = await startNode(gateway);
    const ref = await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }, { budgets: { tokens: 400 } }), { id: 'u8' });
    ref.send({ type: 'ask', model: 'local/echo', content: 'declared', tokens: 120 });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    ref.send({ type: 'ask', model: 'local/echo', content: 'undeclared' });
    await until(() => ref.getSnapshot()?.context.calls === 2);
    const rows = settled('u8');
    const answer = ref.getSnapshot()!.context.answer as Completion;
    expect(rows.map((r) => r.data.reserved)).toEqual([120, answer.usage.promptTokens + 64]);
    expect(spent('u8')).toBe(rows[0]!.data.actual + rows[1]!.data.actual);
    // What is left cannot hold another undeclared call's estimate (its prompt plus 64 tokens).
    s.node.kernel.governance.policy.budgets.restoreSpent('u8', 0);
    s.node.kernel.governance.policy.budgets.setActor('u8', { tokens: 40 });
    ref.send({ type: 'ask', model: 'local/echo', content: 'undeclared again' });
    await until(() => ref.getSnapshot()?.context.calls === 3);
    expect(ref.getSnapshot()?.context.error).toBe('BUDGET_EXCEEDED');
    expect(s.records().filter((r) => r.kind === 'budget' && r.decision === 'budget-refused' && r.actor === 'u8')).toHaveLength(1);
    expect(settled('u8')).toHaveLength(2);
  });
});

describe('routing decisions are audited', () => {
  it('records the chosen model, the candidates, the refused ones and why, the mode, privacy and de-identification — and the chain verifies', async () => {
    const cloud = new RecordingProvider('cloud', 'remote');
    const gateway = new ModelGateway({ providers: [cloud], catalog: [entry('local/rules', 'edge', undefined, 8192), entry('cloud/big', 'cloud', ['public', 'internal', 'pii'], 128_000)] });
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['local/*', 'cloud/*'], max_context_tokens: 8000, privacy: 'phi' }), { id: 'r1' });
    await s.node.spawn(asker({ allow: ['local/*', 'cloud/*'], max_context_tokens: 100_000, privacy: 'pii' }, { name: 'asker2' }), { id: 'r2' });
    await gateway.complete('r1', { model: 'cloud/big', messages: [{ role: 'user', content: 'x' }], tokens: 10 });
    const long = Array.from({ length: 800 }, (_, i) => ({ role: 'user' as const, content: `note ${i} from jane@example.org with several more words` }));
    const escalated = await gateway.complete('r2', { model: 'local/rules', messages: long, tokens: 10 });
    expect(escalated.model).toBe('cloud/big');

    const routes = s.records().filter((r) => r.kind === 'route');
    expect(routes).toHaveLength(2);
    expect(routes[0]).toMatchObject({
      decision: 'routed',
      actor: 'r1',
      subject: 'cloud/big',
      data: {
        model: 'local/rules',
        provider: 'local',
        placement: 'edge',
        escalated: true,
        deidentify: false,
        mode: 'hybrid',
        privacy: 'phi',
        fallbacks: 'auto',
        candidates: [{ id: 'local/rules', fits: 'whole', deidentify: false }],
        rejected: [{ id: 'cloud/big', reasons: ['does not take phi data'] }],
      },
    });
    expect(routes[0]!.reason).toMatch(/^chose local\/rules \(cloud\/big could not hold the whole conversation or may not serve it; escalated/);
    expect(routes[1]).toMatchObject({
      actor: 'r2',
      subject: 'local/rules',
      data: { model: 'cloud/big', placement: 'cloud', escalated: true, fits: 'whole', deidentify: true, deidentifyBy: 'pii data for a cloud model', privacy: 'pii' },
    });
    expect(routes[1]!.reason).toContain('prompt de-identified (pii data for a cloud model)');
    expect(cloud.sent()).not.toContain('jane@example.org');
    const settledRow = settled('r2')[0]!;
    expect(settledRow.data.redacted).toEqual({ email: 800 });
    expect(s.node.audit.verify()).toMatchObject({ ok: true });
  });

  it('a fallback taken while the call runs is audited after the decision, naming the failed model, its code and the next', async () => {
    const down = new RecordingProvider('ollama', 'loopback');
    down.failWith = new ModelError(ModelCodes.unavailable, 'ECONNREFUSED', { field: 'model' });
    const gateway = new ModelGateway({ providers: [down], catalog: [entry('ollama/llama', 'on_prem'), entry('local/echo', 'edge')] });
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['ollama/*', 'local/*'], max_context_tokens: 8000 }), { id: 'r3' });
    const done = await gateway.complete('r3', { model: 'ollama/llama', messages: [{ role: 'user', content: 'hello' }] });
    expect(done.model).toBe('local/echo');
    const routes = s.records().filter((r) => r.kind === 'route');
    expect(routes.map((r) => [r.decision, r.subject, r.data.model ?? null])).toEqual([
      ['routed', 'ollama/llama', 'ollama/llama'],
      ['fallback', 'ollama/llama', null],
    ]);
    expect(routes[1]!.data).toEqual({ from: 'ollama/llama', code: 'MODEL_UNAVAILABLE', to: 'local/echo' });
    expect(settled('r3')[0]!.data).toMatchObject({ outcome: 'done', model: 'local/echo' });
  });

  it('explain() decides without auditing anything', async () => {
    const gateway = new ModelGateway();
    s = await startNode(gateway);
    await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 'r4' });
    const before = s.node.audit.size;
    expect(gateway.explain('r4', 'local/echo', { messages: [{ role: 'user', content: 'x' }] }).candidates[0]!.id).toBe('local/echo');
    expect(s.node.audit.size).toBe(before);
  });
});
