// ClusterTransport: authenticated, ordered, batched node-to-node links over
// WebSocket. One Link per peer node id; sockets come and go underneath it.
// This file holds the public API and the decisions that involve several
// links: which socket a link keeps when two arrive (node id clash, a
// simultaneous dial), and shutdown.

import { WebSocket } from 'ws';
import { ClusterCodes, ClusterError } from '../errors.js';
import type { Envelope } from './codec.js';
import { ClientHandshake, ServerHandshake, type Authenticated, type HandshakeHost, type Refusal } from './connection.js';
import type { PeerInfo, TransportEvent } from './events.js';
import { CloseCodes } from './frames.js';
import { newIncarnation } from './handshake.js';
import { Link, type LinkHost } from './link.js';
import { NODE_ID, resolveOptions, type ClusterTransportOptions, type ResolvedOptions } from './options.js';
import { ClusterServer } from './server.js';
import { WsFrameSocket, type FrameSocket } from './socket.js';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class ClusterTransport {
  readonly nodeId: string;
  /** This process's identity: peers see a new one after a restart. */
  readonly incarnation = newIncarnation();
  private readonly opts: ResolvedOptions;
  private readonly links = new Map<string, Link>();
  private readonly handshakes = new Set<ServerHandshake | ClientHandshake>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly server: ClusterServer;
  private readonly linkHost: LinkHost;
  private readonly handshakeHost: HandshakeHost;
  private closing: Promise<void> | undefined;

  constructor(options: ClusterTransportOptions) {
    const opts = resolveOptions(options);
    this.opts = opts;
    this.nodeId = opts.nodeId;
    const emit = (event: TransportEvent): void => opts.onPeer(event);
    this.handshakeHost = {
      nodeId: opts.nodeId,
      incarnation: this.incarnation,
      secret: opts.secret,
      clock: opts.clock,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      resumeFor: (peer, inc) => this.links.get(peer)?.resumeFor(inc) ?? { recv: 0, base: 1 },
      complete: (auth) => this.complete(auth),
      rejected: (event) => emit({ type: 'rejected', ...event }),
    };
    this.linkHost = {
      opts,
      emit,
      dial: (peer, url, lost) => this.dial(peer, url, lost),
      connected: (peer) => this.settle(peer),
    };
    this.server = new ClusterServer({
      opts,
      emit,
      accept: (socket, done) => this.acceptSocket(socket, done),
    });
  }

  /**
   * Run the accepting side of the handshake on a socket that arrived some
   * other way than `listen` (in-memory pairs in tests, custom carriers).
   */
  accept(socket: FrameSocket): void {
    this.acceptSocket(socket, () => undefined);
  }

  /** Start accepting links on `listen` (from the options). Resolves with the bound port. */
  async listen(): Promise<number> {
    if (!this.opts.listen) throw new ClusterError(ClusterCodes.invalidOptions, 'listen: not configured', { field: 'listen' });
    this.assertOpen();
    const { port } = await this.server.listen(this.opts.listen.host, this.opts.listen.port);
    return port;
  }

  /** The URL peers dial to reach this node, once listening. */
  get url(): string | undefined {
    const port = this.server.port;
    if (port === undefined || !this.opts.listen) return undefined;
    return `${this.opts.tls ? 'wss' : 'ws'}://${this.opts.listen.host}:${port}`;
  }

  /**
   * Keep a link to `nodeId` at `url`: dial now, and redial with backoff
   * whenever it drops. Messages can be sent at once; they wait in the queue.
   */
  connect(nodeId: string, url: string): void {
    this.assertOpen();
    if (typeof nodeId !== 'string' || !NODE_ID.test(nodeId)) {
      throw new ClusterError(ClusterCodes.invalidOptions, `nodeId: not a valid node id: ${JSON.stringify(nodeId)}`, { field: 'nodeId' });
    }
    if (nodeId === this.nodeId) throw new ClusterError(ClusterCodes.nodeIdClash, `nodeId: ${nodeId} is this node`, { field: 'nodeId' });
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ClusterError(ClusterCodes.invalidOptions, `url: not a URL: ${JSON.stringify(url)}`, { field: 'url' });
    }
    const want = this.opts.tls ? 'wss:' : 'ws:';
    if (parsed.protocol !== want && !this.opts.dialer) {
      throw new ClusterError(ClusterCodes.invalidOptions, `url: expected a ${want}// URL${this.opts.tls ? ' (TLS is configured)' : ''}, got ${url}`, { field: 'url' });
    }
    this.linkFor(nodeId).dial(url);
  }

  /** Resolves when a link to `nodeId` is up (at once if it is); rejects if the transport closes first. */
  whenConnected(nodeId: string): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    if (this.links.get(nodeId)?.isConnected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(nodeId) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(nodeId, list);
    });
  }

  /**
   * Queue `msg` for `nodeId`; returns its sequence number on the link. It is
   * delivered once and in order while both processes live, across
   * reconnects. Throws ClusterError: CLUSTER_PEER_UNKNOWN (no link),
   * CLUSTER_QUEUE_FULL (back-pressure), CLUSTER_MESSAGE_INVALID,
   * CLUSTER_FRAME_TOO_LARGE, CLUSTER_CLOSED. The message is kept by
   * reference until acknowledged: do not mutate it after sending.
   */
  send(nodeId: string, msg: Envelope): number {
    this.assertOpen();
    const link = this.links.get(nodeId);
    if (!link) throw new ClusterError(ClusterCodes.peerUnknown, `nodeId: no link to ${JSON.stringify(nodeId)}`, { field: 'nodeId' });
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      throw new ClusterError(ClusterCodes.messageInvalid, 'msg: expected a plain object', { field: 'msg' });
    }
    return link.send(msg);
  }

  peers(): PeerInfo[] {
    return [...this.links.values()].map((l) => l.info());
  }

  /** Drop the link to `nodeId` for good (no redial); returns how many queued messages were discarded. */
  disconnect(nodeId: string): number {
    const link = this.links.get(nodeId);
    if (!link) return 0;
    this.links.delete(nodeId);
    return link.close(CloseCodes.removed, 'removed');
  }

  /** Say bye on every link, stop accepting, drop pending handshakes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const link of this.links.values()) link.close(CloseCodes.goingAway, 'shutting down');
      for (const hs of this.handshakes) hs.abort(CloseCodes.goingAway, 'shutting down');
      this.handshakes.clear();
      for (const [, list] of this.waiters) for (const w of list) w.reject(this.closedError());
      this.waiters.clear();
      await this.server.close();
    })();
    return this.closing;
  }

  // ── internals ────────────────────────────────────────────────────────

  private assertOpen(): void {
    if (this.closing) throw this.closedError();
  }

  private closedError(): ClusterError {
    return new ClusterError(ClusterCodes.closed, `transport ${this.nodeId} is closed`);
  }

  private acceptSocket(socket: FrameSocket, done: () => void): void {
    if (this.closing) {
      socket.close(CloseCodes.goingAway, 'shutting down');
      return done();
    }
    const hs: ServerHandshake = new ServerHandshake(socket, this.handshakeHost, () => {
      this.handshakes.delete(hs);
      done();
    });
    this.handshakes.add(hs);
  }

  private linkFor(nodeId: string): Link {
    let link = this.links.get(nodeId);
    if (!link) {
      link = new Link(nodeId, this.linkHost);
      this.links.set(nodeId, link);
    }
    return link;
  }

  private dial(peer: string, url: string, lost: (code: number, reason: string) => void): { abort(code: number, reason: string): void } {
    const socket = this.opts.dialer ? this.opts.dialer(url) : this.openWebSocket(url);
    const hs: ClientHandshake = new ClientHandshake(socket, this.handshakeHost, () => this.handshakes.delete(hs), peer, lost);
    this.handshakes.add(hs);
    return { abort: (code, reason) => hs.abort(code, reason) };
  }

  private openWebSocket(url: string): FrameSocket {
    const tls = this.opts.tls;
    const ws = new WebSocket(url, {
      maxPayload: this.opts.maxPayload,
      perMessageDeflate: false,
      ...(tls ? { key: tls.key, cert: tls.cert, ca: tls.ca, rejectUnauthorized: true } : {}),
    });
    return new WsFrameSocket(ws, url, this.opts.clock);
  }

  /**
   * An authenticated socket. One link per node id: a live link held by
   * another incarnation is a clash (refused until the old one is gone);
   * two sockets of the same incarnation are a re-dial (the newer wins) or
   * a simultaneous dial (both sides keep the one dialed by the smaller id).
   */
  private complete(auth: Authenticated): Refusal | undefined {
    if (this.closing) return { code: CloseCodes.goingAway, reason: 'shutting down' };
    if (auth.peer === this.nodeId) return { code: CloseCodes.nodeIdClash, reason: `node id ${auth.peer} is the receiving node's own` };
    const existing = this.links.get(auth.peer);
    if (existing?.isConnected) {
      if (existing.incarnation !== auth.incarnation) {
        return { code: CloseCodes.nodeIdClash, reason: `node id ${auth.peer} is held by another live process` };
      }
      const smaller = this.nodeId < auth.peer ? this.nodeId : auth.peer;
      const dialer = auth.direction === 'outbound' ? this.nodeId : auth.peer;
      const keepNew = existing.activeDirection === auth.direction || dialer === smaller;
      if (!keepNew) return { code: CloseCodes.superseded, reason: 'a connection dialed by the other side is kept' };
    }
    return this.linkFor(auth.peer).attach(auth);
  }

  private settle(peer: string): void {
    const list = this.waiters.get(peer);
    if (!list) return;
    this.waiters.delete(peer);
    for (const w of list) w.resolve();
  }
}
