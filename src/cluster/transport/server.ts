// The accepting side of the transport: an HTTP(S) server with a ws server on
// it. Every TCP (or TLS) connection is guarded from accept: it must upgrade
// and then authenticate in time, and only `maxPendingHandshakes` may be
// unauthenticated at once; the rest are dropped on arrival. Plain HTTP
// requests get 426. Nothing a peer sends here can throw out of a handler.

import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TimerHandle } from '../../base/clock.js';
import { ClusterCodes, ClusterError } from '../errors.js';
import type { TransportEvent } from './events.js';
import type { ResolvedOptions } from './options.js';
import { WsFrameSocket, type FrameSocket } from './socket.js';

interface Guard {
  timer: TimerHandle | undefined;
  upgraded: boolean;
  /** Counted in `pending` until it authenticates or goes away. */
  counted: boolean;
}

/** GET here answers `{ nodeId }` over plain HTTP(S). */
export const NODE_ID_PATH = '/.well-known/agentos-node';

export interface ServerHost {
  readonly opts: ResolvedOptions;
  /** A WebSocket is open: run the server handshake; call `done` when it ends either way. */
  accept(socket: FrameSocket, done: () => void): void;
  emit(event: TransportEvent): void;
}

export class ClusterServer {
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly guards = new Map<Socket, Guard>();
  private pending = 0;
  private address: { host: string; port: number } | undefined;

  constructor(private readonly host: ServerHost) {}

  get port(): number | undefined {
    return this.address?.port;
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const { tls, maxPayload, handshakeTimeoutMs } = this.host.opts;
    const server: Server = tls
      ? createHttpsServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.requestCert ?? true, rejectUnauthorized: true, handshakeTimeout: handshakeTimeoutMs })
      : createHttpServer();
    this.server = server;
    server.on('request', (req, res) => {
      // The one plain-HTTP answer: this node's id (not a secret), so a seed given by address can be dialed.
      if (req.method === 'GET' && req.url === NODE_ID_PATH) {
        res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ nodeId: this.host.opts.nodeId }));
        return;
      }
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('agentos cluster transport: WebSocket only\n');
    });
    // Guard the connection the upgrade will arrive on (TLS: once the TLS handshake is done).
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => this.guard(socket));
    server.on('tlsClientError', (err: Error, socket: Socket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      const error = new ClusterError(ClusterCodes.authFailed, `TLS handshake from ${remote} failed: ${err.message}`, { field: 'tls', cause: err });
      this.host.emit({ type: 'rejected', remote, reason: `tls: ${err.message}`, error });
    });
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    const wss = new WebSocketServer({ server, maxPayload, perMessageDeflate: false, clientTracking: false });
    this.wss = wss;
    wss.on('error', () => undefined); // listen errors surface below; ws re-emits them here
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.upgraded(ws, req));

    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new ClusterError(ClusterCodes.listenFailed, `cannot listen on ${host}:${port}: ${err.message}`, { field: 'listen', cause: err }));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', () => undefined);
        resolve();
      });
    });
    const addr = server.address();
    this.address = { host, port: typeof addr === 'object' && addr ? addr.port : port };
    return this.address;
  }

  private guard(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.pending >= this.host.opts.maxPendingHandshakes) {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      socket.destroy();
      const error = new ClusterError(ClusterCodes.handshakeTimeout, `connection from ${remote} dropped: ${this.pending} handshakes pending`, { field: 'peer' });
      this.host.emit({ type: 'rejected', remote, reason: 'too many pending handshakes', error });
      return;
    }
    this.pending++;
    const g: Guard = { timer: undefined, upgraded: false, counted: true };
    this.guards.set(socket, g);
    const { clock, handshakeTimeoutMs } = this.host.opts;
    g.timer = clock.setTimeout(() => {
      g.timer = undefined;
      if (g.upgraded) return;
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      socket.destroy();
      const error = new ClusterError(ClusterCodes.handshakeTimeout, `connection from ${remote} did not upgrade in ${handshakeTimeoutMs} ms`, { field: 'peer' });
      this.host.emit({ type: 'rejected', remote, reason: 'no WebSocket upgrade in time', error });
    }, handshakeTimeoutMs);
    socket.once('close', () => {
      this.guards.delete(socket);
      if (g.timer !== undefined) clock.clearTimeout(g.timer);
      // An upgraded connection stops counting when its handshake ends (see `upgraded`).
      if (!g.upgraded) this.uncount(g);
    });
  }

  private uncount(g: Guard): void {
    if (!g.counted) return;
    g.counted = false;
    this.pending--;
  }

  private upgraded(ws: WebSocket, req: IncomingMessage): void {
    const raw = req.socket as Socket;
    const g = this.guards.get(raw) ?? { timer: undefined, upgraded: false, counted: false };
    g.upgraded = true;
    if (g.timer !== undefined) this.host.opts.clock.clearTimeout(g.timer);
    g.timer = undefined;
    const remote = `${raw.remoteAddress}:${raw.remotePort}`;
    this.host.accept(new WsFrameSocket(ws, remote, this.host.opts.clock), () => this.uncount(g));
  }

  /** Stop accepting, drop connections that never authenticated, and wait for the server to close. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const [socket, g] of this.guards) {
      if (!g.upgraded) socket.destroy();
    }
    this.wss?.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
