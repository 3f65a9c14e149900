// One connected page (or Stately receiver), and the back-pressure that keeps a
// slow one from slowing the node. Frames wait in our own queue and go to the
// socket only while `ws.bufferedAmount` is under a high-water mark; the queue is
// bounded in bytes. A client over its bound has its queue dropped (replies to
// its requests excepted) and nothing more queued until the socket drains; then
// `onDrained` asks the server for a `resync` and a fresh snapshot. Memory per
// client: the bound, plus the high-water mark, plus one snapshot.

import { WebSocket } from 'ws';

export interface ClientLimits {
  /** Queued frames beyond this many bytes (estimated as string length) are dropped for a resync. */
  maxQueueBytes: number;
  /** Frames go to the socket only while it holds fewer than this many unsent bytes. */
  highWaterBytes: number;
}

export interface ClientStats {
  queuedBytes: number;
  queuedFrames: number;
  bufferedAmount: number;
  /** Times the queue was dropped for falling behind. */
  overflows: number;
  sentFrames: number;
  stale: boolean;
}

export class ClientChannel {
  private queue: string[] = [];
  private head = 0;
  private bytes = 0;
  /** Frames that must not be dropped: replies, and the snapshot after a resync (outside the byte bound). */
  private priority: string[] = [];
  private stale = false;
  private overflows = 0;
  private sent = 0;
  private pumping = false;
  /** Requests of this client in flight. */
  inFlight = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly limits: ClientLimits,
    private readonly onDrained: () => void,
  ) {}

  /** Queue a frame that may be dropped if the client falls behind. */
  push(frame: string): void {
    if (this.stale) return this.pump();
    this.queue.push(frame);
    this.bytes += frame.length;
    if (this.bytes > this.limits.maxQueueBytes) {
      // Behind by more than the bound: forget what waits; a fresh snapshot replaces it once the socket drains.
      this.queue = [];
      this.head = 0;
      this.bytes = 0;
      this.stale = true;
      this.overflows++;
    }
    this.pump();
  }

  /** Queue a frame that is never dropped (a reply, a snapshot). */
  pushPriority(frame: string): void {
    this.priority.push(frame);
    this.pump();
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Send while the socket has room. Called on every push, and when a write completes. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const ws = this.ws;
      const room = (): boolean => ws.readyState === WebSocket.OPEN && ws.bufferedAmount < this.limits.highWaterBytes;
      for (;;) {
        while (room()) {
          const frame = this.priority.length > 0 ? this.priority.shift()! : this.next();
          if (frame === undefined) break;
          this.sent++;
          ws.send(frame, (err) => {
            if (!err) setImmediate(() => this.pump());
          });
        }
        if (!(this.stale && room() && this.size() === 0)) break;
        // Caught up after a drop: the server queues a resync and a fresh snapshot, and they go out now.
        this.stale = false;
        this.onDrained();
      }
    } finally {
      this.pumping = false;
    }
  }

  stats(): ClientStats {
    return {
      queuedBytes: this.bytes,
      queuedFrames: this.size(),
      bufferedAmount: this.ws.bufferedAmount,
      overflows: this.overflows,
      sentFrames: this.sent,
      stale: this.stale,
    };
  }

  private size(): number {
    return this.queue.length - this.head + this.priority.length;
  }

  private next(): string | undefined {
    if (this.head >= this.queue.length) return undefined;
    const frame = this.queue[this.head]!;
    this.queue[this.head++] = '';
    this.bytes -= frame.length;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return frame;
  }
}
