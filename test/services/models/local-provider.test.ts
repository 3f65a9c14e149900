import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { LocalProvider } from '../../../src/services/models/local/provider.js';
import { rulesModel, scriptedModel, seededModel } from '../../../src/services/models/local/models.js';
import { countPrompt, heuristicTokenizer } from '../../../src/services/models/tokenizer.js';
import type { CompletionRequest, ModelChunk } from '../../../src/services/models/types.js';

const clock = () => new VirtualClock(0);
const user = (content: string, extra: Partial<CompletionRequest> = {}): CompletionRequest => ({ messages: [{ role: 'user', content }], ...extra });

async function drain(iterable: AsyncIterable<ModelChunk>): Promise<ModelChunk[]> {
  const out: ModelChunk[] = [];
  for await (const c of iterable) out.push(c);
  return out;
}
const textOf = (chunks: ModelChunk[]) => chunks.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('local provider', () => {
  it('local/echo streams the user’s words back as tokenizer pieces, with exact usage', async () => {
    const p = new LocalProvider();
    const request = user('Hello, wonderful world!');
    const chunks = await drain(p.stream(request, { model: 'echo', clock: clock() }));
    expect(textOf(chunks)).toBe('Hello, wonderful world!');
    expect(chunks.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text)).toEqual(['Hell', 'o', ',', ' wond', 'erfu', 'l', ' worl', 'd', '!']);
    expect(chunks.at(-1)).toEqual({
      type: 'end',
      finishReason: 'stop',
      usage: { promptTokens: countPrompt(heuristicTokenizer, request), completionTokens: 9 },
      exactUsage: true,
      at: 0,
    });
  });

  it('streams at the configured token rate on the injected clock (deterministic timestamps)', async () => {
    const c = clock();
    const p = new LocalProvider({ tokensPerSecond: 10, firstTokenDelayMs: 250 });
    const it = p.stream(user('one two six'), { model: 'echo', clock: c })[Symbol.asyncIterator]();
    const seen: ModelChunk[] = [];
    const pump = (async () => {
      for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value);
    })();
    // Drive virtual time until the stream ends: nothing waits on the wall clock.
    while (seen.at(-1)?.type !== 'end') {
      await new Promise((r) => setImmediate(r));
      c.runAll();
    }
    await pump;
    expect(seen.map((s) => [s.type, s.at])).toEqual([
      ['text', 250],
      ['text', 350],
      ['text', 450],
      ['end', 450],
    ]);
  });

  it('aborting mid-stream (barge-in) throws MODEL_ABORTED and clears its timer', async () => {
    const c = clock();
    const p = new LocalProvider({ tokensPerSecond: 5 });
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const chunk of p.stream(user('a b c d e'), { model: 'echo', clock: c, signal: controller.signal })) {
        if (chunk.type === 'text') seen.push(chunk.text);
      }
    })();
    while (seen.length < 2) {
      await new Promise((r) => setImmediate(r));
      c.runAll();
    }
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: 'MODEL_ABORTED' });
    expect(seen).toEqual(['a', ' b']);
    expect(c.pending()).toBe(0);
  });

  it('stops at maxTokens with finishReason length', async () => {
    const chunks = await drain(new LocalProvider().stream(user('one two three four five', { maxTokens: 2 }), { model: 'echo', clock: clock() }));
    expect(textOf(chunks)).toBe('one two');
    expect(chunks.at(-1)).toMatchObject({ finishReason: 'length', usage: { completionTokens: 2 } });
  });

  it('local/rules calls an offered tool when asked, reports a tool result, and refuses a tool it was not offered', async () => {
    const p = new LocalProvider();
    const tools = [{ name: 'get_weather', description: 'weather', parameters: { type: 'object' } }];
    const call = await drain(p.stream(user('please use the get_weather tool with {"city":"Oslo"}', { tools }), { model: 'rules', clock: clock() }));
    expect(call.filter((c) => c.type === 'tool_call')).toEqual([{ type: 'tool_call', call: { id: 'call_0_0', name: 'get_weather', arguments: { city: 'Oslo' } }, at: 0 }]);
    expect(call.at(-1)).toMatchObject({ finishReason: 'tool_calls' });

    const after = await drain(
      p.stream(
        {
          messages: [
            { role: 'user', content: 'use the get_weather tool' },
            { role: 'assistant', content: '', toolCalls: [{ id: 'call_0_0', name: 'get_weather', arguments: {} }] },
            { role: 'tool', content: '{"temp":4}', toolCallId: 'call_0_0', name: 'get_weather' },
          ],
          tools,
        },
        { model: 'rules', clock: clock() },
      ),
    );
    expect(textOf(after)).toBe('The get_weather tool returned: {"temp":4}');

    const none = await drain(p.stream(user('use the launch_rockets tool'), { model: 'rules', clock: clock() }));
    expect(textOf(none)).toBe('I have no tool named "launch_rockets".');
    expect(textOf(await drain(p.stream(user('Hello there'), { model: 'rules', clock: clock() })))).toBe('Hello! I am the local rules model.');
    expect(textOf(await drain(p.stream(user('what is the meaning of life'), { model: 'rules', clock: clock() })))).toBe('I do not know how to answer that yet.');
  });

  it('custom rules map a regex to a reply with groups, or to a tool call built from the match', async () => {
    const p = new LocalProvider({
      rules: [
        { match: /my name is (\w+)/i, reply: 'Nice to meet you, $1.' },
        { match: /book (\d+) seats/, tool: { name: 'book', arguments: (m) => ({ seats: Number(m[1]) }) } },
      ],
    });
    expect(textOf(await drain(p.stream(user('Hi, my name is Ada'), { model: 'rules', clock: clock() })))).toBe('Nice to meet you, Ada.');
    const chunks = await drain(p.stream(user('book 3 seats'), { model: 'rules', clock: clock() }));
    expect(textOf(chunks)).toBe('I have no tool named "book".');
    const offered = await drain(p.stream(user('book 3 seats', { tools: [{ name: 'book', description: 'b', parameters: {} }] }), { model: 'rules', clock: clock() }));
    expect(offered.find((c) => c.type === 'tool_call')).toMatchObject({ call: { name: 'book', arguments: { seats: 3 } } });
  });

  it('scripted models answer turn by turn, statelessly (the same conversation gets the same reply)', async () => {
    const p = new LocalProvider({ models: { demo: scriptedModel(['first', { toolCalls: [{ name: 't', arguments: { n: 1 } }] }, 'last']) } });
    const at = (turns: number): CompletionRequest => ({
      messages: [{ role: 'user', content: 'go' }, ...Array.from({ length: turns }, () => ({ role: 'assistant' as const, content: 'x' }))],
      tools: [{ name: 't', description: 't', parameters: {} }],
    });
    expect(textOf(await drain(p.stream(at(0), { model: 'demo', clock: clock() })))).toBe('first');
    expect((await drain(p.stream(at(1), { model: 'demo', clock: clock() }))).find((c) => c.type === 'tool_call')).toMatchObject({ call: { name: 't', arguments: { n: 1 } } });
    expect(textOf(await drain(p.stream(at(2), { model: 'demo', clock: clock() })))).toBe('last');
    expect(textOf(await drain(p.stream(at(7), { model: 'demo', clock: clock() })))).toBe('last');
    expect(textOf(await drain(p.stream(at(0), { model: 'demo', clock: clock() })))).toBe('first');
  });

  it('seeded models repeat exactly for the same seed and conversation, and differ for another seed', async () => {
    const p = new LocalProvider({ models: { lorem: seededModel({ words: 12 }) } });
    const a = textOf(await drain(p.stream(user('x', { seed: 1 }), { model: 'lorem', clock: clock() })));
    const b = textOf(await drain(p.stream(user('x', { seed: 1 }), { model: 'lorem', clock: clock() })));
    const c = textOf(await drain(p.stream(user('x', { seed: 2 }), { model: 'lorem', clock: clock() })));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a.split(' ')).toHaveLength(12);
  });

  it('refuses an unknown model and bad configuration with typed errors', async () => {
    await expect(drain(new LocalProvider().stream(user('x'), { model: 'nope', clock: clock() }))).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
    expect(() => new LocalProvider({ tokensPerSecond: -1 })).toThrow(expect.objectContaining({ code: 'MODEL_BAD_CONFIG', field: 'tokensPerSecond' }));
    expect(() => new LocalProvider().define('Bad Name', rulesModel())).toThrow(expect.objectContaining({ code: 'MODEL_BAD_CONFIG', field: 'name' }));
  });
});
