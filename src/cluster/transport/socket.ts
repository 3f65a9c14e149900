// The little a link needs from a socket, and its `ws` implementation. Links and
// handshakes talk to this interface only, so their timing logic is tested on a
// VirtualClock over an in-memory pair, and real `ws` sockets plug in unchanged.

import type WebSocket from 'ws';
import type { Clock, TimerHandle } from '../../base/clock.js';

export interface SocketHandlers {
  /** The dialing side is connected and may send. */
  open?(): void;
  frame(data: Buffer, binary: boolean): void;
  /** The socket is gone (after close, terminate, an error or the peer leaving). Called once. */
  close(code: number, reason: string): void;
}

export interface FrameSocket {
  /** Peer address for logs: `host:port` or the dialed URL. */
  readonly remote: string;
  /** Bytes queued in user space, not yet handed to the OS. */
  readonly bufferedAmount: number;
  setHandlers(handlers: SocketHandlers): void;
  /** Send one binary frame; `written` runs once it has left user space (or failed). */
  send(frame: Uint8Array, written?: (err?: Error) => void): void;
  /** Close with a code the peer will see; the socket is destroyed if the peer does not answer promptly. */
  close(code: number, reason: string): void;
  /** Drop at once, without a closing handshake. */
  terminate(): void;
}

/** How long a closing peer gets to answer our close frame before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

export class WsFrameSocket implements FrameSocket {
  private handlers: SocketHandlers | undefined;
  /** No more frames are handed on once we decided to close. */
  private closing = false;
  private closed = false;
  private graceTimer: TimerHandle | undefined;
  private lastError = '';
  /** The code ws closed with on its own (a frame over maxPayload, a WebSocket protocol error). */
  private localCode: number | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly remote: string,
    private readonly clock: Clock,
  ) {
    ws.on('open', () => this.handlers?.open?.());
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!this.closing) this.handlers?.frame(data, binary);
    });
    // ws emits 'error' before 'close' for refused dials, oversize frames and
    // protocol errors; without a listener it would crash the process.
    ws.on('error', (err: Error & { code?: string }) => {
      this.lastError = err.message;
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.localCode = 1009;
      else if (err.code?.startsWith('WS_ERR_')) this.localCode = 1002;
    });
    ws.on('close', (code: number, reason: Buffer) => this.finish(this.localCode ?? code, this.localCode ? this.lastError : reason.toString() || this.lastError));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  setHandlers(handlers: SocketHandlers): void {
    this.handlers = handlers;
  }

  send(frame: Uint8Array, written?: (err?: Error) => void): void {
    if (this.ws.readyState !== 1) {
      written?.(new Error('socket not open'));
      return;
    }
    this.ws.send(frame, { binary: true }, written);
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    try {
      this.ws.close(code, reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
    this.graceTimer ??= this.clock.setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
  }

  terminate(): void {
    this.closing = true;
    this.ws.terminate();
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    if (this.graceTimer !== undefined) this.clock.clearTimeout(this.graceTimer);
    this.handlers?.close(code, reason);
  }
}
