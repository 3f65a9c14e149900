import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { ModelError } from '../../../src/services/models/errors.js';
import { OpenAiCompatibleProvider } from '../../../src/services/models/openai/provider.js';
import type { CompletionRequest, ModelChunk } from '../../../src/services/models/types.js';
import { delta, event, fakeOpenAi, sse, streamText, type FakeEndpoint } from './support/fake-openai.js';

let server: FakeEndpoint;
let clock: VirtualClock;
let provider: OpenAiCompatibleProvider;

beforeEach(async () => {
  server = await fakeOpenAi();
  clock = new VirtualClock(1000);
  provider = new OpenAiCompatibleProvider({ name: 'ollama', baseUrl: server.baseUrl, apiKey: 'sk-test-123456', timeoutMs: 5000, idleTimeoutMs: 2000 });
});
afterEach(async () => {
  await server.close();
});

const weather = { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const ask = (content: string, extra: Partial<CompletionRequest> = {}): CompletionRequest => ({ messages: [{ role: 'user', content }], ...extra });

async function drain(iterable: AsyncIterable<ModelChunk>): Promise<ModelChunk[]> {
  const out: ModelChunk[] = [];
  for await (const c of iterable) out.push(c);
  return out;
}

async function failure(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ModelError);
    return err as ModelError;
  }
  throw new Error('expected a ModelError');
}

describe('openai-compatible provider: streaming', () => {
  it('streams text deltas with clock timestamps and takes the reported usage', async () => {
    server.handle((_req, res) => streamText(res, ['Hel', 'lo', ' there'], { prompt_tokens: 11, completion_tokens: 3 }));
    const chunks = await drain(provider.stream(ask('hi', { maxTokens: 20, temperature: 0.2, seed: 7 }), { model: 'llama3.2', clock }));
    expect(chunks.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text)).toEqual(['Hel', 'lo', ' there']);
    expect(chunks.every((c) => c.at === 1000)).toBe(true);
    expect(chunks.at(-1)).toEqual({ type: 'end', finishReason: 'stop', usage: { promptTokens: 11, completionTokens: 3 }, exactUsage: true, at: 1000 });
    const sent = server.requests[0]!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-test-123456');
    expect(sent.body).toMatchObject({ model: 'llama3.2', stream: true, stream_options: { include_usage: true }, max_tokens: 20, temperature: 0.2, seed: 7, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('estimates usage with the tokenizer when the endpoint reports none', async () => {
    server.handle((_req, res) => streamText(res, ['one two six']));
    const chunks = await drain(provider.stream(ask('count'), { model: 'm', clock }));
    const end = chunks.at(-1) as Extract<ModelChunk, { type: 'end' }>;
    expect(end.exactUsage).toBe(false);
    expect(end.usage.completionTokens).toBe(3);
    expect(end.usage.promptTokens).toBeGreaterThan(0);
  });

  it('assembles tool calls from incremental tool_calls deltas and sends tools and tool results in wire format', async () => {
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
      event(res, delta({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }));
      event(res, delta({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }));
      event(res, delta({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }));
      event(res, delta({ tool_calls: [{ index: 1, function: { arguments: '"Lima"}' } }] }));
      event(res, delta({}, 'tool_calls'));
      event(res, '[DONE]');
      res.end();
    });
    const request: CompletionRequest = {
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c0', name: 'get_weather', arguments: { city: 'Rome' } }] },
        { role: 'tool', content: '{"temp":20}', toolCallId: 'c0', name: 'get_weather' },
      ],
      tools: [weather],
    };
    const chunks = await drain(provider.stream(request, { model: 'm', clock }));
    expect(chunks.filter((c) => c.type === 'tool_call').map((c) => (c as { call: unknown }).call)).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: { city: 'Oslo' } },
      { id: 'call_b', name: 'get_weather', arguments: { city: 'Lima' } },
    ]);
    expect(chunks.at(-1)).toMatchObject({ type: 'end', finishReason: 'tool_calls' });
    const body = server.requests[0]!.body;
    expect(body.tools).toEqual([{ type: 'function', function: weather }]);
    expect(body.messages[1]).toEqual({ role: 'assistant', content: '', tool_calls: [{ id: 'c0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] });
    expect(body.messages[2]).toEqual({ role: 'tool', content: '{"temp":20}', tool_call_id: 'c0', name: 'get_weather' });
  });

  it('accepts a whole JSON completion from a server that ignores stream: true', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'whole answer' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 2 } }));
    });
    const chunks = await drain(provider.stream(ask('x'), { model: 'm', clock }));
    expect(chunks.map((c) => c.type)).toEqual(['text', 'end']);
    expect(chunks[0]).toMatchObject({ text: 'whole answer' });
    expect(chunks[1]).toMatchObject({ usage: { promptTokens: 5, completionTokens: 2 }, exactUsage: true });
  });

  it('parses SSE split at arbitrary byte boundaries, with CRLF lines and comments', async () => {
    server.handle((_req, res) => {
      sse(res);
      const text = `: keep-alive\r\ndata: ${JSON.stringify(delta({ content: 'héllo ' }))}\r\n\r\ndata: ${JSON.stringify(delta({ content: 'wörld' }, 'stop'))}\r\n\r\ndata: [DONE]\r\n\r\n`;
      const bytes = Buffer.from(text, 'utf8');
      // Three bytes at a time: splits lines, CRLF pairs and multi-byte characters.
      let i = 0;
      const step = (): void => {
        if (i >= bytes.length) return void res.end();
        res.write(bytes.subarray(i, i + 3));
        i += 3;
        setImmediate(step);
      };
      step();
    });
    const chunks = await drain(provider.stream(ask('x'), { model: 'm', clock }));
    expect(chunks.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('')).toBe('héllo wörld');
  });
});

describe('openai-compatible provider: bad endpoints', () => {
  it('an endpoint that is down is MODEL_UNAVAILABLE (connection refused)', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const down = new OpenAiCompatibleProvider({ name: 'down', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-secret-999999' });
    const err = await failure(drain(down.stream(ask('x'), { model: 'm', clock })));
    expect(err.code).toBe('MODEL_UNAVAILABLE');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('sk-secret');
  });

  it('HTTP 503 and 429 are MODEL_UNAVAILABLE, 401 is MODEL_REJECTED', async () => {
    for (const [status, code] of [[503, 'MODEL_UNAVAILABLE'], [429, 'MODEL_UNAVAILABLE'], [401, 'MODEL_REJECTED']] as const) {
      server.handle((_req, res) => {
        res.statusCode = status;
        res.end('{"error":{"message":"nope"}}');
      });
      const err = await failure(drain(provider.stream(ask('x'), { model: 'm', clock })));
      expect([err.code, err.details?.status]).toEqual([code, status]);
    }
  });

  it('a slow endpoint is MODEL_TIMEOUT when the clock passes timeoutMs, and the request is cancelled', async () => {
    server.handle(() => {
      // never answers
    });
    const arrived = server.nextRequest();
    const hangup = server.nextHangup();
    const pending = failure(drain(provider.stream(ask('x'), { model: 'm', clock })));
    await arrived;
    clock.advance(4999);
    expect(clock.pending()).toBe(1);
    clock.advance(1);
    const err = await pending;
    expect([err.code, err.field]).toEqual(['MODEL_TIMEOUT', 'timeoutMs']);
    await hangup;
  });

  it('an endpoint that stalls mid-stream is MODEL_TIMEOUT after idleTimeoutMs', async () => {
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ content: 'partial' }));
      // …and then nothing.
    });
    const it = provider.stream(ask('x'), { model: 'm', clock })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'text', text: 'partial' });
    const next = it.next().then(
      () => undefined,
      (e: unknown) => e as ModelError,
    );
    // Let the generator reach its next read (it arms the idle timer there).
    while (clock.pending() === 0) await new Promise((r) => setImmediate(r));
    clock.advance(1999);
    expect(clock.pending()).toBe(1);
    clock.advance(1);
    const err = await next;
    expect([err?.code, err?.field]).toEqual(['MODEL_TIMEOUT', 'idleTimeoutMs']);
  });

  it('malformed SSE (data that is not JSON) is MODEL_BAD_STREAM', async () => {
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ content: 'ok so far' }));
      res.write('data: {"choices": [\n\n');
      res.end();
    });
    const err = await failure(drain(provider.stream(ask('x'), { model: 'm', clock })));
    expect(err.code).toBe('MODEL_BAD_STREAM');
    expect(err.message).toContain('not JSON');
  });

  it('off-shape chunks, a wrong content type and a stream cut short are MODEL_BAD_STREAM', async () => {
    const cases: ((res: ServerResponse) => void)[] = [
      (res) => {
        sse(res);
        event(res, { choices: { not: 'a list' } });
        res.end();
      },
      (res) => {
        sse(res);
        event(res, delta({ content: 42 }));
        res.end();
      },
      (res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>');
      },
      (res) => {
        sse(res);
        event(res, delta({ content: 'cut' }));
        res.end(); // no finish_reason, no [DONE]
      },
    ];
    for (const c of cases) {
      server.handle((_req, res) => c(res));
      const err = await failure(drain(provider.stream(ask('x'), { model: 'm', clock })));
      expect(err.code).toBe('MODEL_BAD_STREAM');
    }
  });

  it('a tool call with arguments that are not JSON is MODEL_BAD_TOOL_CALL, and nothing of it is emitted', async () => {
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'get_weather', arguments: '{"city": Oslo' } }] }));
      event(res, delta({}, 'tool_calls'));
      event(res, '[DONE]');
      res.end();
    });
    const seen: ModelChunk[] = [];
    const err = await failure(
      (async () => {
        for await (const c of provider.stream(ask('x', { tools: [weather] }), { model: 'm', clock })) seen.push(c);
      })(),
    );
    expect([err.code, err.field]).toEqual(['MODEL_BAD_TOOL_CALL', 'tool_calls.0.arguments']);
    expect(seen.filter((c) => c.type === 'tool_call')).toEqual([]);
  });

  it('a tool call without a name, or with array arguments, is MODEL_BAD_TOOL_CALL', async () => {
    for (const fn of [{ arguments: '{}' }, { name: 'get_weather', arguments: '[1,2]' }]) {
      server.handle((_req, res) => {
        sse(res);
        event(res, delta({ tool_calls: [{ index: 0, id: 'c1', function: fn }] }, 'tool_calls'));
        event(res, '[DONE]');
        res.end();
      });
      const err = await failure(drain(provider.stream(ask('x'), { model: 'm', clock })));
      expect(err.code).toBe('MODEL_BAD_TOOL_CALL');
    }
  });

  it('an error object mid-stream is MODEL_UNAVAILABLE with the server’s message', async () => {
    server.handle((_req, res) => {
      sse(res);
      event(res, { error: { message: 'model overloaded' } });
      res.end();
    });
    const err = await failure(drain(provider.stream(ask('x'), { model: 'm', clock })));
    expect(err.code).toBe('MODEL_UNAVAILABLE');
    expect(err.message).toContain('model overloaded');
  });

  it('the provider keeps working after each bad answer', async () => {
    server.handle((_req, res) => {
      sse(res);
      res.write('data: nonsense\n\n');
      res.end();
    });
    await failure(drain(provider.stream(ask('x'), { model: 'm', clock })));
    server.handle((_req, res) => streamText(res, ['fine'], { prompt_tokens: 1, completion_tokens: 1 }));
    const chunks = await drain(provider.stream(ask('x'), { model: 'm', clock }));
    expect(chunks[0]).toMatchObject({ type: 'text', text: 'fine' });
  });
});

describe('openai-compatible provider: cancellation', () => {
  it('aborting the signal mid-stream throws MODEL_ABORTED and closes the HTTP request (barge-in)', async () => {
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ content: 'first ' }));
      // keeps the stream open
    });
    const hangup = server.nextHangup();
    const controller = new AbortController();
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const c of provider.stream(ask('x'), { model: 'm', clock, signal: controller.signal })) {
          if (c.type === 'text') {
            seen.push(c.text);
            controller.abort(new Error('user spoke'));
          }
        }
      })(),
    );
    expect(err.code).toBe('MODEL_ABORTED');
    expect(seen).toEqual(['first ']);
    await hangup;
    expect(server.hangups).toBe(1);
  });

  it('a consumer that stops reading closes the HTTP request too', async () => {
    server.handle((_req, res) => {
      sse(res);
      event(res, delta({ content: 'a' }));
    });
    const hangup = server.nextHangup();
    for await (const c of provider.stream(ask('x'), { model: 'm', clock })) {
      expect(c.type).toBe('text');
      break;
    }
    await hangup;
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await failure(drain(provider.stream(ask('x'), { model: 'm', clock, signal: controller.signal })));
    expect(err.code).toBe('MODEL_ABORTED');
    expect(server.requests).toHaveLength(0);
  });
});

describe('openai-compatible provider: configuration', () => {
  it('refuses a bad name, URL or timeout with MODEL_BAD_CONFIG naming the field', () => {
    const bad = (o: object) => {
      try {
        new OpenAiCompatibleProvider({ name: 'ok', baseUrl: 'http://127.0.0.1:1/v1', ...o });
      } catch (e) {
        return [(e as ModelError).code, (e as ModelError).field];
      }
      return undefined;
    };
    expect(bad({ name: 'Bad Name' })).toEqual(['MODEL_BAD_CONFIG', 'name']);
    expect(bad({ baseUrl: 'not a url' })).toEqual(['MODEL_BAD_CONFIG', 'baseUrl']);
    expect(bad({ baseUrl: 'ftp://x/v1' })).toEqual(['MODEL_BAD_CONFIG', 'baseUrl']);
    expect(bad({ timeoutMs: 0 })).toEqual(['MODEL_BAD_CONFIG', 'timeoutMs']);
  });

  it('knows loopback endpoints from remote ones (air-gapped routing depends on it)', () => {
    expect(new OpenAiCompatibleProvider({ name: 'a', baseUrl: 'http://localhost:11434/v1' }).network).toBe('loopback');
    expect(new OpenAiCompatibleProvider({ name: 'b', baseUrl: 'http://[::1]:8000/v1' }).network).toBe('loopback');
    expect(new OpenAiCompatibleProvider({ name: 'c', baseUrl: 'https://api.example.com/v1' }).network).toBe('remote');
  });
});
