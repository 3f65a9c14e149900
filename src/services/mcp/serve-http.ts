// The Streamable HTTP side of serveMcp: one node:http server, one MCP session
// (SDK transport + server) per client that initializes, found again by the
// `mcp-session-id` header. Bounded: session count, request body size. Loopback
// binds get DNS-rebinding protection; a bearer token can be required.

import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

export interface HttpServeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port (read it back from `url`). */
  port?: number;
  /** Default `/mcp`. */
  path?: string;
  /** Require `Authorization: Bearer <token>` on every request. */
  token?: string;
  /** Most concurrent sessions (default 64); more initialize requests get 503. */
  maxSessions?: number;
  /** Largest request body, bytes (default 4 MiB). */
  maxBodyBytes?: number;
}

export interface HttpHost {
  readonly url: string;
  sessions(): number;
  /** Each live session's MCP server (to send notifications). */
  servers(): Server[];
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
/** How far past the limit an oversized body is still read (so its sender sees the 413) before the connection is cut. */
const DRAIN_FACTOR = 4;

export async function startHttpHost(makeServer: (sessionId: () => string | undefined) => Server, options: HttpServeOptions): Promise<HttpHost> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const maxSessions = options.maxSessions ?? 64;
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessions = new Map<string, Session>();
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) return reply(res, 404, -32000, `no MCP endpoint at this path; use ${path}`);
    if (options.token !== undefined && !bearerMatches(req.headers.authorization, options.token)) return reply(res, 401, -32000, 'missing or wrong bearer token');
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readJson(req, maxBody);
      if ('error' in read) return reply(res, read.status, read.status === 413 ? -32000 : -32700, read.error);
      body = read.value;
    }
    const id = req.headers['mcp-session-id'];
    const session = typeof id === 'string' ? sessions.get(id) : undefined;
    if (session) return session.transport.handleRequest(req, res, body);
    if (id !== undefined) return reply(res, 404, -32001, 'session not found; initialize a new one');
    if (req.method !== 'POST' || !isInitializeRequest(body)) return reply(res, 400, -32000, 'no session: send an initialize request first');
    if (sessions.size >= maxSessions) return reply(res, 503, -32000, `too many MCP sessions (${maxSessions})`);
    const loopback = LOOPBACK.has(host);
    const made: { transport?: StreamableHTTPServerTransport } = {};
    const server = makeServer(() => made.transport?.sessionId);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, { transport, server }),
      ...(loopback ? { enableDnsRebindingProtection: true, allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`] } : {}),
    });
    made.transport = transport;
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http: HttpServer = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, -32603, `internal error: ${(err as Error).message}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  port = (http.address() as { port: number }).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}${path}`,
    sessions: () => sessions.size,
    servers: () => [...sessions.values()].map((s) => s.server),
    close: async () => {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((s) => s.server.close().catch(() => {})));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The body as JSON. An oversized body is read to its end (unkept) so the client gets the 413, up to a hard limit. */
async function readJson(req: IncomingMessage, max: number): Promise<{ value: unknown } | { status: number; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max * DRAIN_FACTOR) break; // stop reading; the connection is dropped
    if (size <= max) chunks.push(chunk as Buffer);
  }
  if (size > max) return { status: 413, error: `request body larger than ${max} bytes` };
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (err) {
    return { status: 400, error: `request body is not JSON: ${(err as Error).message}` };
  }
}
