// The inspector's HTTP + WebSocket server. `GET /` and the page's files; at
// INSPECTOR_WS_PATH a page gets `hello`, one `snapshot`, then one `delta` per
// flush (serialised once for every page), and sends requests that each get one
// `reply` (a page's `watch` leases are its own, and end when it closes); at
// STATELY_WS_PATH a Stately receiver gets `@xstate.*` frames. Frames
// the server cannot use (not JSON, not a request, binary, over `maxPayload`) get
// an error reply or close the socket with a code; none reaches the node. Each
// client has its own bounded queue (client.ts): a slow one is resynced, never
// waited for.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { authorized, checkBinding, hostAllowed, originAllowed, tokenCookie } from './auth.js';
import { ClientChannel, type ClientStats } from './client.js';
import type { HubSubscriber, InspectorHub } from './hub.js';
import { INSPECTOR_PROTOCOL_VERSION, INSPECTOR_WS_PATH, STATELY_WS_PATH, type ServerFrame } from './protocol.js';
import { errorOf, parseRequest, requestId } from './requests.js';
import { InspectorCodes, InspectorError } from './source.js';
import { StatelyFrames } from './stately.js';
import { DEFAULT_UI_ROOT, staticFile } from './static.js';

export interface InspectorServerOptions {
  hub: InspectorHub;
  /** Default 127.0.0.1. Any other interface requires `token`. */
  host?: string;
  /** Default 4200; 0: any free port (see `port` once started). */
  port?: number;
  token?: string;
  /** The page's folder (default: `ui/` beside this module). */
  uiRoot?: URL | string;
  /** Largest frame a client may send (bytes); a larger one closes its socket with 1009. Default 64 KiB. */
  maxPayload?: number;
  /** Per client: bytes queued before it is dropped to a resync (default 4 MiB) and the socket's high-water mark (default 1 MiB). */
  maxQueueBytes?: number;
  highWaterBytes?: number;
  /** Requests one page may have in flight (default 16); more get INSPECTOR_BUSY. */
  maxInFlight?: number;
  /** Browser origins besides the page's own that may open the WebSockets (e.g. a hosted Stately inspector). */
  allowOrigins?: string[];
}

/** Close codes: 4001 no or wrong token; 1003 a binary frame; 1009 (ws) a frame over maxPayload. */
export const CloseCodes = { unauthorized: 4001, unsupported: 1003 } as const;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export class InspectorServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly pages = new Set<ClientChannel>();
  private readonly stately = new Set<ClientChannel>();
  private readonly statelyFrames: StatelyFrames;
  private unsubscribe: (() => void) | undefined;
  private unsubscribeRaw: (() => void) | undefined;
  private boundPort = 0;
  private pageCount = 0;
  private closed = false;

  private constructor(
    private readonly options: InspectorServerOptions,
    private readonly host: string,
    private readonly token: Buffer | undefined,
  ) {
    this.http = createServer((req, res) => void this.page(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 64 * 1024 });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.statelyFrames = new StatelyFrames(options.hub);
  }

  /** Listen (typed errors for bad options, before anything binds). */
  static async start(options: InspectorServerOptions): Promise<InspectorServer> {
    const host = options.host ?? '127.0.0.1';
    const token = checkBinding(host, options.token);
    const port = options.port ?? 4200;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InspectorError(InspectorCodes.invalidOptions, `inspector port must be 0-65535, got ${String(port)}`, { field: 'port' });
    const server = new InspectorServer(options, host, token);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void =>
        reject(new InspectorError(InspectorCodes.listenFailed, `inspector: cannot listen on ${host}:${port}: ${err.message}`, { field: 'port', cause: err }));
      server.http.once('error', failed);
      server.http.listen(port, host, () => {
        server.http.off('error', failed);
        resolve();
      });
    });
    const addr = server.http.address();
    server.boundPort = typeof addr === 'object' && addr ? addr.port : port;
    server.unsubscribe = options.hub.subscribe(server.subscriber());
    return server;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}/`;
  }

  /** Per client: what waits and how often it fell behind (pages first, then Stately receivers). */
  stats(): { pages: ClientStats[]; stately: ClientStats[] } {
    return { pages: [...this.pages].map((c) => c.stats()), stately: [...this.stately].map((c) => c.stats()) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribeRaw?.();
    for (const c of [...this.pages, ...this.stately]) c.ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private subscriber(): HubSubscriber {
    return {
      batch: (events, nodes) => {
        if (this.pages.size === 0) return;
        const frame: ServerFrame = nodes ? { t: 'delta', events, nodes } : { t: 'delta', events };
        const text = JSON.stringify(frame);
        for (const c of this.pages) c.push(text);
      },
      resync: (reason) => {
        for (const c of this.pages) this.sendSnapshot(c, reason);
      },
    };
  }

  private sendSnapshot(c: ClientChannel, reason?: Extract<ServerFrame, { t: 'resync' }>['reason']): void {
    if (reason) c.pushPriority(JSON.stringify({ t: 'resync', reason } satisfies ServerFrame));
    const { nodes, events } = this.options.hub.snapshot();
    c.pushPriority(JSON.stringify({ t: 'snapshot', nodes, events } satisfies ServerFrame));
  }

  // ── HTTP ────────────────────────────────────────────────────────────────

  private async page(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://inspector');
      if (!hostAllowed(req, this.token)) return plain(res, 403, 'forbidden host');
      if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
      const auth = authorized(req, url, this.token);
      if (!auth.ok) return plain(res, 401, 'missing or wrong token (open the page with ?token=…)');
      const file = await staticFile(this.options.uiRoot ?? DEFAULT_UI_ROOT, url.pathname);
      if (file.status !== 200) return plain(res, file.status, file.message);
      const headers: Record<string, string> = { ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': String(file.body.length) };
      if (auth.viaQuery) headers['set-cookie'] = tokenCookie(url.searchParams.get('token')!);
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : file.body);
    } catch {
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    }
  }

  // ── WebSockets ──────────────────────────────────────────────────────────

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://inspector');
    } catch {
      return refuse(400, 'Bad Request');
    }
    const stately = url.pathname === STATELY_WS_PATH;
    if (!stately && url.pathname !== INSPECTOR_WS_PATH) return refuse(404, 'Not Found');
    if (!hostAllowed(req, this.token) || !originAllowed(req, this.options.allowOrigins ?? [])) return refuse(403, 'Forbidden');
    const ok = authorized(req, url, this.token).ok;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // Accepted first, then closed with a code a page can read (an HTTP refusal reaches it only as 1006).
      if (!ok || this.closed) return ws.close(CloseCodes.unauthorized, 'missing or wrong token');
      if (stately) this.attachStately(ws);
      else this.attachPage(ws);
    });
  }

  private channel(ws: WebSocket, set: Set<ClientChannel>, onDrained: (c: ClientChannel) => void): ClientChannel {
    const c: ClientChannel = new ClientChannel(
      ws,
      { maxQueueBytes: this.options.maxQueueBytes ?? 4 * 1024 * 1024, highWaterBytes: this.options.highWaterBytes ?? 1024 * 1024 },
      () => onDrained(c),
    );
    set.add(c);
    ws.on('close', () => {
      set.delete(c);
      if (set === this.stately && set.size === 0) {
        this.unsubscribeRaw?.();
        this.unsubscribeRaw = undefined;
      }
    });
    // A socket error (a frame over maxPayload, broken framing) closes it; ws has already sent the close code.
    ws.on('error', () => ws.terminate());
    return c;
  }

  private attachPage(ws: WebSocket): void {
    const c = this.channel(ws, this.pages, (ch) => this.sendSnapshot(ch, 'slow-consumer'));
    // Who this page's watch leases belong to: they end with it (on other members, at their expiry).
    const holder = `page-${++this.pageCount}`;
    ws.on('close', () => this.options.hub.release(holder));
    c.pushPriority(JSON.stringify({ t: 'hello', version: INSPECTOR_PROTOCOL_VERSION, served: this.options.hub.node } satisfies ServerFrame));
    this.sendSnapshot(c);
    ws.on('message', (data, isBinary) => this.message(c, holder, data, isBinary));
  }

  private attachStately(ws: WebSocket): void {
    const c = this.channel(ws, this.stately, (ch) => {
      for (const f of this.statelyFrames.announce()) ch.pushPriority(f);
    });
    this.unsubscribeRaw ??= this.options.hub.subscribe({
      raw: (raw) => {
        if (this.stately.size === 0) return;
        const frames = this.statelyFrames.frames(raw);
        for (const ch of this.stately) for (const f of frames) ch.push(f);
      },
    });
    for (const f of this.statelyFrames.announce()) c.pushPriority(f);
    // A receiver only listens; what it sends is ignored (binary closes it, as on the page socket).
    ws.on('message', (_data, isBinary) => {
      if (isBinary) ws.close(CloseCodes.unsupported, 'text frames only');
    });
  }

  private message(c: ClientChannel, holder: string, data: RawData, isBinary: boolean): void {
    if (isBinary) return c.ws.close(CloseCodes.unsupported, 'text frames only');
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let id = 0;
    try {
      const req = parseRequest(text);
      id = req.id;
      if (c.inFlight >= (this.options.maxInFlight ?? 16)) throw new InspectorError(InspectorCodes.busy, `more than ${this.options.maxInFlight ?? 16} requests in flight`, { field: 'id' });
      c.inFlight++;
      this.options.hub
        .request(req, holder)
        .then(
          (result) => this.reply(c, { t: 'reply', id, ok: true, result: result ?? null }),
          (err: unknown) => this.reply(c, { t: 'reply', id, ok: false, error: errorOf(err) }),
        )
        .finally(() => c.inFlight--);
    } catch (err) {
      this.reply(c, { t: 'reply', id: id || safeId(text), ok: false, error: errorOf(err) });
    }
  }

  private reply(c: ClientChannel, frame: Extract<ServerFrame, { t: 'reply' }>): void {
    if (!c.open) return;
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (err) {
      text = JSON.stringify({ t: 'reply', id: frame.id, ok: false, error: { code: InspectorCodes.internal, message: `the result cannot be sent: ${(err as Error).message}` } });
    }
    c.pushPriority(text);
  }
}

function safeId(text: string): number {
  try {
    return requestId(JSON.parse(text));
  } catch {
    return 0;
  }
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...extra });
  res.end(text);
}
