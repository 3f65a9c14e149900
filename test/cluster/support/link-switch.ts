// A TCP switch for partition tests between real node processes on 127.0.0.1.
// Each node gets a front port here and advertises it (`cluster.advertise`), so
// every connection between two nodes passes through the switch. A connection is
// attributed to the node that dialed it by the transport's first frame (the
// hello, read — unmasked — right after the WebSocket upgrade), so every directed
// link from → to can be blocked on its own: the bytes `from` writes towards `to`,
// on any connection between them, are held back as a partition holds packets.
// Nothing is closed or reset by a cut, so the nodes learn of it from silence
// only; a socket a node closes while its way out is blocked reaches the other
// side as a close once the link heals (as TCP's reset would then).

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { unpack } from 'msgpackr';

/** First byte of the transport's hello frame (src/cluster/transport/frames.ts). */
const HELLO = 0x01;

interface Side {
  socket: Socket;
  /** The node at this end: the acceptor for the outbound socket; the dialer (once known) for the inbound one. */
  node: string | undefined;
  /** Chunks read from this socket, not yet passed on (held by a cut). */
  held: Buffer[];
  closed: boolean;
}

interface Connection {
  dialer: Side; // the socket the dialing node connected to the switch with
  acceptor: Side; // the switch's socket to the accepting node
  /** Dialer bytes read before the hello could be attributed (after the HTTP upgrade request). */
  pending: Buffer;
  upgraded: boolean;
}

export class LinkSwitch {
  private readonly servers = new Map<string, Server>();
  private readonly connections = new Set<Connection>();
  private readonly blocked = new Set<string>();

  /** Opens a front port for `node`, whose transport listens on `targetPort`; returns the front port. */
  async add(node: string, targetPort: number): Promise<number> {
    const server = createServer((socket) => this.accept(node, targetPort, socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.servers.set(node, server);
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Hold back everything `from` sends to `to` (both ways: call it twice, or use `cut`). */
  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  unblock(from: string, to: string): void {
    this.blocked.delete(`${from}>${to}`);
    for (const c of this.connections) this.flush(c);
  }

  /** Cut `node` off from each of `others`, both ways. */
  isolate(node: string, others: readonly string[]): void {
    for (const o of others) {
      this.block(node, o);
      this.block(o, node);
    }
  }

  /** Unblock every link. */
  heal(): void {
    this.blocked.clear();
    for (const c of this.connections) this.flush(c);
  }

  /** Connections the switch carries between the two nodes (either dialing). */
  between(a: string, b: string): number {
    return [...this.connections].filter((c) => (c.dialer.node === a && c.acceptor.node === b) || (c.dialer.node === b && c.acceptor.node === a)).length;
  }

  async close(): Promise<void> {
    for (const c of this.connections) {
      c.dialer.socket.destroy();
      c.acceptor.socket.destroy();
    }
    this.connections.clear();
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.clear();
  }

  // ── internals ──────────────────────────────────────────────────────────

  private accept(node: string, targetPort: number, inbound: Socket): void {
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    const c: Connection = {
      dialer: { socket: inbound, node: undefined, held: [], closed: false },
      acceptor: { socket: outbound, node, held: [], closed: false },
      pending: Buffer.alloc(0),
      upgraded: false,
    };
    this.connections.add(c);
    inbound.on('data', (chunk: Buffer) => (c.dialer.node === undefined ? this.beforeHello(c, chunk) : this.carry(c, c.dialer, chunk)));
    outbound.on('data', (chunk: Buffer) => this.carry(c, c.acceptor, chunk));
    for (const side of [c.dialer, c.acceptor]) {
      side.socket.on('error', () => undefined);
      side.socket.on('close', () => {
        side.closed = true;
        this.flush(c);
      });
    }
  }

  /** The other end of a connection. */
  private other(c: Connection, side: Side): Side {
    return side === c.dialer ? c.acceptor : c.dialer;
  }

  /** Whether what `side` sends is held back now. Unattributed connections are not held. */
  private holds(c: Connection, side: Side): boolean {
    const to = this.other(c, side);
    return side.node !== undefined && to.node !== undefined && this.blocked.has(`${side.node}>${to.node}`);
  }

  /** The HTTP upgrade request passes; the first WebSocket frame after it names the dialer. */
  private beforeHello(c: Connection, chunk: Buffer): void {
    c.pending = Buffer.concat([c.pending, chunk]);
    if (!c.upgraded) {
      const end = c.pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      c.acceptor.socket.write(c.pending.subarray(0, end + 4));
      c.pending = c.pending.subarray(end + 4);
      c.upgraded = true;
    }
    const frame = clientFrame(c.pending);
    if (frame === undefined) return;
    c.dialer.node = helloNode(frame) ?? '?';
    const rest = c.pending;
    c.pending = Buffer.alloc(0);
    if (rest.length > 0) this.carry(c, c.dialer, rest);
  }

  private carry(c: Connection, from: Side, chunk: Buffer): void {
    if (this.holds(c, from) || from.held.length > 0) {
      from.held.push(chunk);
      from.socket.pause();
      return;
    }
    const to = this.other(c, from);
    if (!to.closed) to.socket.write(chunk);
  }

  /** Pass on what is no longer held; carry a close across once nothing of it is held back. */
  private flush(c: Connection): void {
    for (const from of [c.dialer, c.acceptor]) {
      if (this.holds(c, from)) continue;
      const to = this.other(c, from);
      for (const chunk of from.held.splice(0)) if (!to.closed) to.socket.write(chunk);
      if (from.closed) to.socket.destroy();
      else from.socket.resume();
    }
    if (c.dialer.closed && c.acceptor.closed) this.connections.delete(c);
  }
}

/** The payload of the first complete (client, masked) WebSocket frame in `buf`, unmasked. */
function clientFrame(buf: Buffer): Buffer | undefined {
  if (buf.length < 2) return undefined;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const masked = (buf[1]! & 0x80) !== 0;
  const mask = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[mask + (i & 3)]!;
  return payload;
}

/** The node id in a transport hello frame; undefined for anything else. */
function helloNode(payload: Buffer): string | undefined {
  if (payload[0] !== HELLO) return undefined;
  try {
    const hello = unpack(payload.subarray(1)) as { node?: unknown };
    return typeof hello.node === 'string' ? hello.node : undefined;
  } catch {
    return undefined;
  }
}
