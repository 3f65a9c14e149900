// One peer's link: the sequenced send log and the receive cursor (which
// outlive any one socket), the socket currently attached, heartbeats and the
// reconnect loop.
//
// `send` encodes at once into the frame being built when the link is up and
// not back-pressured, so a bad or oversize message is refused on the spot;
// otherwise the message waits in the log and `pump` encodes it when the
// socket can take more (writer.ts decides when frames go out). The log is
// bounded, so a peer that stops reading makes `send` refuse with
// CLUSTER_QUEUE_FULL instead of growing memory.

import type { TimerHandle } from '../../base/clock.js';
import { ClusterCodes, ClusterError } from '../errors.js';
import { BATCH_OVERHEAD, BatchDecoder, type Envelope } from './codec.js';
import type { Authenticated, Refusal } from './connection.js';
import { newStats, type LinkDirection, type PeerInfo, type TransportEvent } from './events.js';
import { CloseCodes, decodeControl, encodeControl, frameKind, type Resume } from './frames.js';
import type { ResolvedOptions } from './options.js';
import { backoffDelay, InboundCursor, OutboundLog } from './session.js';
import { SocketWriter } from './writer.js';

export interface LinkHost {
  readonly opts: ResolvedOptions;
  /** Start a dialing handshake; `lost` runs if it ends without an attached link. */
  dial(peer: string, url: string, lost: (code: number, reason: string) => void): { abort(code: number, reason: string): void };
  emit(event: TransportEvent): void;
  connected(peer: string): void;
}

/** The socket a link is using now, and what belongs to it alone. */
interface Active {
  writer: SocketWriter;
  decoder: BatchDecoder;
  direction: LinkDirection;
  lastHeard: number;
  heartbeat: TimerHandle | undefined;
  byeReceived: boolean;
}

export class Link {
  url: string | undefined;
  incarnation: string | undefined;
  private readonly log: OutboundLog<Envelope | null>;
  private readonly cursor = new InboundCursor();
  private active: Active | undefined;
  private dialing: { abort(code: number, reason: string): void } | undefined;
  private retryTimer: TimerHandle | undefined;
  private attempt = 0;
  private closed = false;
  private maxSentSeq = 0;
  private rttMs: number | undefined;
  private readonly stats = newStats();
  private readonly maxMessageBytes: number;

  constructor(
    readonly peer: string,
    private readonly host: LinkHost,
  ) {
    this.log = new OutboundLog(host.opts.maxMessages);
    this.maxMessageBytes = host.opts.maxPayload - BATCH_OVERHEAD;
  }

  private get opts(): ResolvedOptions {
    return this.host.opts;
  }

  get isConnected(): boolean {
    return this.active !== undefined;
  }

  get activeDirection(): LinkDirection | undefined {
    return this.active?.direction;
  }

  /** Our resume point for the peer's incarnation `inc`. */
  resumeFor(inc: string): Resume {
    return { recv: this.cursor.recvFor(inc), base: this.log.base };
  }

  // ── attaching and detaching sockets ──────────────────────────────────

  /** Take an authenticated socket (the transport has settled clashes and tie-breaks). */
  attach(auth: Authenticated): Refusal | undefined {
    if (this.closed) return { code: CloseCodes.goingAway, reason: 'link closed' };
    if (this.cursor.incarnation === auth.incarnation && auth.resume.base > this.cursor.delivered + 1) {
      return { code: CloseCodes.protocolViolation, reason: `resume base ${auth.resume.base} beyond delivered ${this.cursor.delivered}` };
    }
    if (this.incarnation === undefined && auth.resume.recv > this.log.acked) {
      // A link made anew (after `disconnect`) to a peer process that still holds its place in the
      // dropped link's numbering — its goodbye was lost, in a partition say: go on after that place
      // (numbered from 1 again, what this link holds would be taken for duplicates and dropped).
      this.log.renumber(auth.resume.recv + 1);
    } else if (auth.resume.recv >= this.log.nextSeq) {
      return { code: CloseCodes.protocolViolation, reason: `peer acknowledges ${auth.resume.recv}, never sent` };
    }
    // A second connection of the same incarnation won the tie-break: swap quietly, the link never went down.
    if (this.active) this.retire(this.active, CloseCodes.superseded, 'superseded by another connection', true);
    if (auth.direction === 'outbound') this.dialing = undefined;
    const ours = this.resumeFor(auth.incarnation);
    const previous = this.incarnation;
    this.incarnation = auth.incarnation;
    this.cursor.adopt(auth.incarnation, auth.resume.base);
    this.log.ack(auth.resume.recv);
    this.log.rewind();
    if (this.retryTimer !== undefined) this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt = 0;
    // The welcome must precede the resent frames on the wire.
    auth.welcome?.(ours);

    const a: Active = {
      writer: new SocketWriter(auth.socket, this.opts, this.stats, () => this.cursor.delivered, () => this.pump(a)),
      decoder: new BatchDecoder(),
      direction: auth.direction,
      lastHeard: this.opts.clock.now(),
      heartbeat: undefined,
      byeReceived: false,
    };
    this.active = a;
    auth.socket.setHandlers({
      frame: (data, binary) => this.onFrame(a, data, binary),
      close: (code, reason) => {
        if (this.active === a) this.detach(a, code, reason, false);
      },
    });
    this.stats.connects++;
    if (previous !== undefined && previous !== auth.incarnation) {
      this.host.emit({ type: 'restarted', node: this.peer, previous, incarnation: auth.incarnation });
    }
    this.host.emit({ type: 'connected', node: this.peer, incarnation: auth.incarnation, direction: auth.direction, remote: auth.socket.remote });
    this.armHeartbeat(a);
    this.pump(a);
    if (this.active === a) this.host.connected(this.peer);
    return undefined;
  }

  /** Stop using a socket: its timers end, its unflushed frame is dropped (the log still holds the messages). */
  private retire(a: Active, code: number, reason: string, closeSocket: boolean): void {
    this.active = undefined;
    a.writer.stop();
    if (a.heartbeat !== undefined) this.opts.clock.clearTimeout(a.heartbeat);
    if (closeSocket) a.writer.socket.close(code, reason);
  }

  private detach(a: Active, code: number, reason: string, closeSocket: boolean): void {
    if (this.active !== a) return;
    this.retire(a, code, reason, closeSocket);
    this.host.emit({ type: 'disconnected', node: this.peer, code, reason, graceful: a.byeReceived });
    this.scheduleReconnect(code, reason);
  }

  /** A peer broke the protocol: close with `code`, keep the log for a reconnect. */
  private violation(a: Active, code: number, reason: string): void {
    this.detach(a, code, reason, true);
  }

  // ── dialing ──────────────────────────────────────────────────────────

  /** Dial `url` now if nothing is connected or in progress. */
  dial(url: string): void {
    this.url = url;
    if (this.closed || this.active || this.dialing) return;
    if (this.retryTimer !== undefined) return;
    this.dialing = this.host.dial(this.peer, url, (code, reason) => {
      this.dialing = undefined;
      this.scheduleReconnect(code, reason);
    });
  }

  private scheduleReconnect(code: number | undefined, reason: string): void {
    if (this.closed || this.url === undefined || this.active || this.dialing || this.retryTimer !== undefined) return;
    const delayMs = backoffDelay(this.attempt, this.opts.backoff, () => this.opts.rng.next());
    this.attempt++;
    this.host.emit({ type: 'reconnecting', node: this.peer, attempt: this.attempt, delayMs, ...(code === undefined ? {} : { code }), reason });
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.url !== undefined) this.dial(this.url);
    }, delayMs);
  }

  // ── sending ──────────────────────────────────────────────────────────

  send(msg: Envelope): number {
    if (this.closed) throw new ClusterError(ClusterCodes.closed, `link to ${this.peer} is closed`, { field: 'nodeId' });
    if (this.log.full) {
      throw new ClusterError(ClusterCodes.queueFull, `send queue to ${this.peer} is full (${this.log.capacity} messages unacknowledged)`, {
        field: 'nodeId',
        details: { node: this.peer, queued: this.log.size },
      });
    }
    const a = this.active;
    if (a && !a.writer.blocked && this.log.unsent === 0) {
      const part = this.encodeNow(a, msg);
      const seq = this.log.push(msg);
      this.log.markSent(seq);
      this.maxSentSeq = seq;
      a.writer.append(seq, part);
      return seq;
    }
    return this.log.push(msg);
  }

  /** Encode for the send path: a failure is the caller's, thrown typed. */
  private encodeNow(a: Active, msg: Envelope): Uint8Array {
    let part: Uint8Array;
    try {
      part = a.writer.encoder.encode(msg);
    } catch (err) {
      this.resetCodec(a);
      throw new ClusterError(ClusterCodes.messageInvalid, `message to ${this.peer} cannot be encoded: ${(err as Error).message}`, { field: 'msg', cause: err });
    }
    if (part.length > this.maxMessageBytes) {
      this.resetCodec(a);
      throw new ClusterError(ClusterCodes.frameTooLarge, `message to ${this.peer} is ${part.length} bytes, over the ${this.maxMessageBytes} byte limit`, {
        field: 'msg',
        details: { bytes: part.length, limit: this.maxMessageBytes },
      });
    }
    return part;
  }

  /** Encode a held message; one that cannot be encoded becomes a tombstone and is reported. */
  private encodeHeld(a: Active, seq: number, msg: Envelope | null): Uint8Array {
    try {
      return this.encodeNow(a, msg as Envelope);
    } catch (err) {
      this.log.replace(seq, null);
      this.host.emit({ type: 'message-dropped', node: this.peer, seq, error: err as ClusterError });
      return a.writer.encoder.encode(null);
    }
  }

  /** The encoder's table is no longer what the peer will see: send what was built with it, then start afresh. */
  private resetCodec(a: Active): void {
    a.writer.flush();
    a.writer.encoder.resetCodec();
  }

  /** Encode held messages until the log is written or the socket is full. */
  private pump(a: Active): void {
    while (!a.writer.blocked && this.active === a) {
      const next = this.log.peekUnsent();
      if (next === undefined) break;
      const part = this.encodeHeld(a, next.seq, next.msg);
      if (this.active !== a) break;
      this.log.markSent(next.seq);
      if (next.seq <= this.maxSentSeq) this.stats.messagesResent++;
      else this.maxSentSeq = next.seq;
      a.writer.append(next.seq, part);
    }
  }

  // ── receiving ────────────────────────────────────────────────────────

  private onFrame(a: Active, data: Buffer, binary: boolean): void {
    if (this.active !== a) return;
    if (!binary) return this.violation(a, CloseCodes.frameInvalid, 'text frame');
    if (data.length > this.opts.maxPayload) return this.violation(a, CloseCodes.frameTooLarge, `frame of ${data.length} bytes`);
    a.lastHeard = this.opts.clock.now();
    this.stats.framesReceived++;
    const kind = frameKind(data);
    if (kind === 'batch') return this.onBatch(a, data);
    if (kind === undefined) return this.violation(a, CloseCodes.frameInvalid, 'unknown frame kind');
    let frame;
    try {
      frame = decodeControl(data);
    } catch (err) {
      return this.violation(a, CloseCodes.frameInvalid, (err as Error).message);
    }
    switch (frame.kind) {
      case 'ack':
        this.onAck(a, frame.ack);
        return;
      case 'ping':
        a.writer.write(encodeControl({ kind: 'pong', t: frame.t }));
        return;
      case 'pong':
        this.rttMs = Math.max(0, this.opts.clock.now() - frame.t);
        return;
      case 'bye':
        a.byeReceived = true;
        return;
      default:
        return this.violation(a, CloseCodes.unexpectedFrame, `${frame.kind} frame after authentication`);
    }
  }

  private onAck(a: Active, upTo: number): boolean {
    if (this.log.ack(upTo)) return true;
    this.violation(a, CloseCodes.protocolViolation, `ack of ${upTo}, never sent`);
    return false;
  }

  private onBatch(a: Active, data: Buffer): void {
    let batch;
    try {
      batch = a.decoder.decode(data);
    } catch (err) {
      return this.violation(a, CloseCodes.frameInvalid, (err as Error).message);
    }
    if (!this.onAck(a, batch.ack)) return;
    let received = 0;
    for (let i = 0; i < batch.messages.length; i++) {
      const seq = batch.first + i;
      const verdict = this.cursor.accept(seq);
      if (verdict === 'gap') return this.violation(a, CloseCodes.protocolViolation, `sequence gap: got ${seq}, expected ${this.cursor.delivered + 1}`);
      received++;
      if (verdict === 'duplicate') {
        this.stats.duplicatesDropped++;
        continue;
      }
      const msg = batch.messages[i];
      if (msg === null) continue;
      this.stats.messagesDelivered++;
      try {
        this.opts.onMessage(this.peer, msg!);
      } catch (error) {
        this.host.emit({ type: 'handler-error', node: this.peer, error });
      }
      // The handler may have closed or replaced this link; the rest waits for the resend.
      if (this.active !== a) return;
    }
    a.writer.owe(received);
  }

  // ── heartbeat ────────────────────────────────────────────────────────

  private armHeartbeat(a: Active): void {
    const { clock, heartbeatIntervalMs, heartbeatTimeoutMs } = this.opts;
    a.heartbeat = clock.setTimeout(() => {
      a.heartbeat = undefined;
      if (this.active !== a) return;
      const silent = clock.now() - a.lastHeard;
      if (silent >= heartbeatTimeoutMs) {
        this.detach(a, CloseCodes.heartbeatTimeout, `nothing heard for ${silent} ms`, false);
        a.writer.socket.terminate();
        return;
      }
      if (silent >= heartbeatIntervalMs) a.writer.write(encodeControl({ kind: 'ping', t: clock.now() }));
      this.armHeartbeat(a);
    }, heartbeatIntervalMs);
  }

  // ── lifecycle and inspection ─────────────────────────────────────────

  /** Close for good: say bye, close the socket with `code`, stop dialing. Returns the messages dropped. */
  close(code: number, reason: string): number {
    if (this.closed) return 0;
    this.closed = true;
    if (this.retryTimer !== undefined) this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.dialing?.abort(code, reason);
    this.dialing = undefined;
    const a = this.active;
    if (a) {
      a.writer.flush();
      a.writer.write(encodeControl({ kind: 'bye', reason: reason.slice(0, 200) }));
      this.detach(a, code, reason, true);
    }
    return this.log.clear();
  }

  info(): PeerInfo {
    const a = this.active;
    const state = a ? 'connected' : this.dialing ? 'connecting' : this.retryTimer !== undefined ? 'backoff' : 'disconnected';
    return {
      node: this.peer,
      incarnation: this.incarnation,
      state,
      direction: a?.direction,
      url: this.url,
      queued: this.log.size,
      unsent: this.log.unsent,
      acked: this.log.acked,
      delivered: this.cursor.delivered,
      bufferedAmount: a ? a.writer.socket.bufferedAmount : 0,
      rttMs: this.rttMs,
      stats: { ...this.stats },
    };
  }
}
