// The writing half of one socket: the frame being built, when it goes out,
// piggybacked and standalone acknowledgements, and back-pressure.
//
// A frame goes out when it reaches `batch.maxBytes` (never over `maxPayload`),
// or when the flush timer fires: `batch.maxDelayMs` on the clock, or, when
// that is 0, the end of the current event-loop turn (so a burst shares frames
// and a lone message waits for nothing). Writing stops while the socket's
// `bufferedAmount` is at the high-water mark; the write callbacks say when it
// has drained to half, and the link then resumes encoding.

import type { TimerHandle } from '../../base/clock.js';
import { BATCH_OVERHEAD, BatchEncoder } from './codec.js';
import type { LinkStats } from './events.js';
import { encodeControl } from './frames.js';
import type { ResolvedOptions } from './options.js';
import type { FrameSocket } from './socket.js';

export class SocketWriter {
  readonly encoder = new BatchEncoder();
  /** At the high-water mark: encode nothing more until a write completes. */
  blocked = false;
  /** Messages received (delivered or duplicate) since our last acknowledgement. */
  private ackOwed = 0;
  private flushPending = false;
  private timer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;
  private readonly written: (err?: Error) => void;

  constructor(
    readonly socket: FrameSocket,
    private readonly opts: ResolvedOptions,
    private readonly stats: LinkStats,
    /** The cumulative ack to carry (what we have delivered). */
    private readonly ackValue: () => number,
    /** The socket drained below half the high-water mark. */
    unblocked: () => void,
  ) {
    this.written = (err) => {
      if (err || !this.blocked || this.stopped) return;
      if (socket.bufferedAmount < opts.highWaterBytes / 2) {
        this.blocked = false;
        unblocked();
      }
    };
  }

  /** Add an encoded envelope; the frame goes out when full, else later. */
  append(seq: number, part: Uint8Array): void {
    const enc = this.encoder;
    if (enc.count > 0 && enc.size + part.length + BATCH_OVERHEAD > this.opts.maxPayload) this.flush();
    enc.append(seq, part);
    this.stats.messagesSent++;
    if (enc.size >= this.opts.batchMaxBytes) this.flush();
    else this.schedule();
  }

  /** Send the frame being built (with the current ack), if any. */
  flush(): void {
    if (this.encoder.count === 0 || this.stopped) return;
    const frame = this.encoder.take(this.ackValue());
    this.ackOwed = 0;
    this.write(frame);
  }

  /** Write one frame of any kind. */
  write(frame: Uint8Array): void {
    this.socket.send(frame, this.written);
    this.stats.framesSent++;
    if (this.socket.bufferedAmount >= this.opts.highWaterBytes) this.blocked = true;
  }

  /** We received `n` more messages: acknowledge at once past `ackEvery`, otherwise with the next flush. */
  owe(n: number): void {
    this.ackOwed += n;
    if (this.ackOwed >= this.opts.ackEvery) {
      if (this.encoder.count > 0) this.flush();
      else this.sendAck();
    } else if (this.ackOwed > 0) this.schedule();
  }

  /** No more writes: timers end (the link has moved to another socket or closed). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
  }

  private sendAck(): void {
    this.ackOwed = 0;
    this.write(encodeControl({ kind: 'ack', ack: this.ackValue() }));
  }

  private schedule(): void {
    if (this.flushPending || this.stopped) return;
    this.flushPending = true;
    // maxDelayMs 0 means "end of this event-loop turn": an ordering point, not a time, so no clock.
    if (this.opts.batchMaxDelayMs > 0) this.timer = this.opts.clock.setTimeout(this.fire, this.opts.batchMaxDelayMs);
    else this.immediate = setImmediate(this.fire);
  }

  /** The scheduled flush (one function for the writer's life, not one per scheduling). */
  private readonly fire = (): void => {
    this.flushPending = false;
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped) return;
    if (this.encoder.count > 0) this.flush();
    else if (this.ackOwed > 0) this.sendAck();
  };
}
