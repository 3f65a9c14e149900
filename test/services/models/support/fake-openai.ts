// A fake OpenAI-style endpoint on 127.0.0.1 (a real node:http server on a
// free port): each test sets how it answers `/v1/chat/completions`, and it
// records what it was sent and whether the client hung up.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export type Handler = (req: Received, res: ServerResponse) => void | Promise<void>;

export interface FakeEndpoint {
  /** Base URL including `/v1`. */
  baseUrl: string;
  port: number;
  requests: Received[];
  /** Resolves when the next request has arrived (its body read). */
  nextRequest(): Promise<Received>;
  /** Resolves when a client closed a response before it ended. */
  hangups: number;
  nextHangup(): Promise<void>;
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function fakeOpenAi(): Promise<FakeEndpoint> {
  let handler: Handler = (_req, res) => {
    res.statusCode = 500;
    res.end('no handler');
  };
  const waiting: ((r: Received) => void)[] = [];
  const hangWaiters: (() => void)[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
      const received: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      endpoint.requests.push(received);
      open.add(res);
      res.on('close', () => {
        open.delete(res);
        if (!res.writableEnded) {
          endpoint.hangups++;
          for (const w of hangWaiters.splice(0)) w();
        }
      });
      for (const w of waiting.splice(0)) w(received);
      void handler(received, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const endpoint: FakeEndpoint = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests: [],
    hangups: 0,
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
    nextHangup: () => new Promise((resolve) => hangWaiters.push(resolve)),
    handle(h) {
      handler = h;
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return endpoint;
}

/** Start an SSE response. */
export function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

/** One `data:` event with a JSON payload (or a raw string). */
export function event(res: ServerResponse, data: unknown): void {
  res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

export const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: d, finish_reason: finish }],
});

/** A whole streamed answer: text in pieces, then finish, usage and [DONE]. */
export function streamText(res: ServerResponse, pieces: string[], usage?: { prompt_tokens: number; completion_tokens: number }): void {
  sse(res);
  event(res, delta({ role: 'assistant', content: '' }));
  for (const p of pieces) event(res, delta({ content: p }));
  event(res, delta({}, 'stop'));
  if (usage) event(res, { id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage });
  event(res, '[DONE]');
  res.end();
}
