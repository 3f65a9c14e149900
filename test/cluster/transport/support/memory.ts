// An in-memory FrameSocket pair for driving transports on a VirtualClock:
// frames arrive in order on a microtask, closing reaches both ends, and a
// side can stop reading (its peer's bufferedAmount then grows) to test
// back-pressure without the kernel's buffers in the way.

import type { FrameSocket, SocketHandlers } from '../../../../src/cluster/transport/index.js';

class MemorySocket implements FrameSocket {
  other!: MemorySocket;
  handlers: SocketHandlers | undefined;
  closed = false;
  /** Frames this side sent, for counting. */
  readonly sentFrames: Uint8Array[] = [];
  /** Frames waiting because the receiving side is paused. */
  private held: Array<{ frame: Buffer; written?: (err?: Error) => void }> = [];
  paused = false;
  closeCode: number | undefined;

  constructor(readonly remote: string) {}

  get bufferedAmount(): number {
    return this.held.reduce((n, h) => n + h.frame.length, 0);
  }

  setHandlers(h: SocketHandlers): void {
    this.handlers = h;
  }

  send(frame: Uint8Array, written?: (err?: Error) => void): void {
    if (this.closed) return written?.(new Error('closed'));
    const copy = Buffer.from(frame);
    this.sentFrames.push(copy);
    this.held.push({ frame: copy, ...(written ? { written } : {}) });
    if (!this.other.paused) queueMicrotask(() => this.drain());
  }

  /** Deliver what the other side is willing to read. */
  drain(): void {
    while (this.held.length > 0 && !this.other.paused && !this.closed) {
      const h = this.held.shift()!;
      h.written?.();
      this.other.handlers?.frame(h.frame, true);
    }
  }

  /** Stop reading: frames sent to this side pile up in the sender's bufferedAmount. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    queueMicrotask(() => this.other.drain());
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closeCode = code;
    queueMicrotask(() => {
      this.finish(code, reason);
      this.other.finish(code, reason);
    });
  }

  terminate(): void {
    this.close(1006, 'terminated');
  }

  finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode ??= code;
    this.handlers?.close(code, reason);
  }
}

export type { MemorySocket };

/** Two connected sockets; the dialing side (`client`) gets `open` on a microtask. */
export function memoryPair(name = 'mem'): { client: MemorySocket; server: MemorySocket } {
  const client = new MemorySocket(`${name}:client`);
  const server = new MemorySocket(`${name}:server`);
  client.other = server;
  server.other = client;
  queueMicrotask(() => client.handlers?.open?.());
  return { client, server };
}

/** Let queued deliveries (microtasks) and end-of-turn flushes (setImmediate) run; no clock time passes. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
