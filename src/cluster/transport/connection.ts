// The two sides of the handshake on one socket (see handshake.ts for the
// exchange). Until a peer has proved it knows the secret, exactly the next
// handshake frame is accepted; anything else closes the socket with a code
// that says why (garbage, unexpected frame, wrong proof, too slow, too big),
// reports a `rejected` event, and leaves the process and other links alone.

import type { Clock, TimerHandle } from '../../base/clock.js';
import { ClusterError } from '../errors.js';
import type { LinkDirection } from './events.js';
import {
  CloseCodes,
  decodeControl,
  encodeControl,
  errorCodeFor,
  frameKind,
  PREAUTH_MAX_BYTES,
  PROTOCOL_VERSION,
  type ControlFrame,
  type Resume,
} from './frames.js';
import { newNonce, proof, verifyProof, type Transcript } from './handshake.js';
import type { FrameSocket } from './socket.js';

export interface Authenticated {
  socket: FrameSocket;
  direction: LinkDirection;
  peer: string;
  incarnation: string;
  /** The peer's resume point. */
  resume: Resume;
  /** Server side only: send the welcome (with our resume point) just before the link starts writing. */
  welcome?: (ours: Resume) => void;
}

export interface Refusal {
  code: number;
  reason: string;
}

/** What a handshake needs from the transport. */
export interface HandshakeHost {
  readonly nodeId: string;
  readonly incarnation: string;
  readonly secret: Buffer;
  readonly clock: Clock;
  readonly handshakeTimeoutMs: number;
  /** Our resume point for `peer` in its incarnation `inc`. */
  resumeFor(peer: string, inc: string): Resume;
  /** The peer is authenticated: attach it to its link, or refuse (clash, tie-break, closing). */
  complete(auth: Authenticated): Refusal | undefined;
  rejected(event: { remote: string; node?: string; code?: number; reason: string; error: ClusterError }): void;
}

abstract class Handshake {
  protected done = false;
  private readonly timer: TimerHandle;
  /** Node id the peer claimed, for logs. */
  protected claimed: string | undefined;

  constructor(
    protected readonly socket: FrameSocket,
    protected readonly host: HandshakeHost,
    /** Runs once when the handshake ends, whichever way. */
    private readonly settled: () => void,
  ) {
    this.timer = host.clock.setTimeout(() => this.refuse(CloseCodes.handshakeTimeout, 'handshake timeout'), host.handshakeTimeoutMs);
    socket.setHandlers({
      open: () => this.opened(),
      frame: (data, binary) => this.onFrame(data, binary),
      close: (code, reason) => this.onClose(code, reason),
    });
  }

  get finished(): boolean {
    return this.done;
  }

  protected opened(): void {}
  protected abstract expected(): ControlFrame['kind'];
  protected abstract handle(frame: ControlFrame): void;
  /** The socket closed before the handshake finished. */
  protected abstract lost(code: number, reason: string): void;

  /** Drop the connection: used by the transport on shutdown. */
  abort(code: number, reason: string): void {
    if (this.done) return;
    this.stop();
    this.socket.close(code, reason);
  }

  protected stop(): void {
    this.done = true;
    this.host.clock.clearTimeout(this.timer);
    this.settled();
  }

  protected refuse(code: number, reason: string): void {
    if (this.done) return;
    this.stop();
    this.socket.close(code, reason);
    const error = new ClusterError(errorCodeFor(code), `connection from ${this.socket.remote} refused: ${reason}`, {
      field: 'peer',
      details: { remote: this.socket.remote, closeCode: code, ...(this.claimed ? { node: this.claimed } : {}) },
    });
    this.host.rejected({ remote: this.socket.remote, ...(this.claimed ? { node: this.claimed } : {}), code, reason, error });
    this.lost(code, reason);
  }

  protected finish(auth: Omit<Authenticated, 'socket'>): void {
    this.stop();
    const refusal = this.host.complete({ ...auth, socket: this.socket });
    if (refusal) {
      this.socket.close(refusal.code, refusal.reason);
      if (refusal.code !== CloseCodes.superseded) {
        const error = new ClusterError(errorCodeFor(refusal.code), `${auth.peer} at ${this.socket.remote} refused: ${refusal.reason}`, {
          field: 'nodeId',
          details: { remote: this.socket.remote, node: auth.peer, closeCode: refusal.code },
        });
        this.host.rejected({ remote: this.socket.remote, node: auth.peer, code: refusal.code, reason: refusal.reason, error });
      }
      this.lost(refusal.code, refusal.reason);
    }
  }

  private onFrame(data: Buffer, binary: boolean): void {
    if (this.done) return;
    if (!binary) return this.refuse(CloseCodes.frameInvalid, 'text frame');
    if (data.length > PREAUTH_MAX_BYTES) return this.refuse(CloseCodes.frameTooLarge, `handshake frame of ${data.length} bytes`);
    const kind = frameKind(data);
    if (kind === undefined) return this.refuse(CloseCodes.frameInvalid, 'unknown frame kind');
    if (kind !== this.expected()) return this.refuse(CloseCodes.unexpectedFrame, `${kind} frame before authentication`);
    let frame: ControlFrame;
    try {
      frame = decodeControl(data);
    } catch (err) {
      return this.refuse(CloseCodes.frameInvalid, (err as Error).message);
    }
    this.handle(frame);
  }

  private onClose(code: number, reason: string): void {
    if (this.done) return;
    // ws itself dropped the peer (a frame over maxPayload, broken WebSocket framing): log it like our own refusals.
    if (code === CloseCodes.tooBig || code === CloseCodes.protocolError) return this.refuse(code, reason || 'dropped by ws');
    this.stop();
    this.lost(code, reason || 'closed during handshake');
  }
}

/** The accepting side: waits for hello, proves itself in the challenge, checks the response. */
export class ServerHandshake extends Handshake {
  private transcript: Transcript | undefined;

  protected expected(): ControlFrame['kind'] {
    return this.transcript === undefined ? 'hello' : 'response';
  }

  protected handle(frame: ControlFrame): void {
    if (frame.kind === 'hello') {
      this.claimed = frame.node;
      if (frame.v !== PROTOCOL_VERSION) return this.refuse(CloseCodes.versionMismatch, `protocol version ${frame.v}, expected ${PROTOCOL_VERSION}`);
      const t: Transcript = {
        clientNonce: frame.nonce,
        serverNonce: newNonce(),
        clientNode: frame.node,
        serverNode: this.host.nodeId,
        clientInc: frame.inc,
        serverInc: this.host.incarnation,
      };
      this.transcript = t;
      const challenge = encodeControl({
        kind: 'challenge',
        v: PROTOCOL_VERSION,
        node: t.serverNode,
        inc: t.serverInc,
        nonce: t.serverNonce,
        proof: proof(this.host.secret, 'server', t),
      });
      this.socket.send(challenge);
    } else if (frame.kind === 'response') {
      const t = this.transcript!;
      if (!verifyProof(this.host.secret, 'client', t, frame.proof)) return this.refuse(CloseCodes.authFailed, 'wrong proof');
      this.finish({
        direction: 'inbound',
        peer: t.clientNode,
        incarnation: t.clientInc,
        resume: { recv: frame.recv, base: frame.base },
        welcome: (ours) => this.socket.send(encodeControl({ kind: 'welcome', ...ours })),
      });
    }
  }

  protected lost(): void {}
}

/** The dialing side: says hello, checks the server's proof and identity, proves itself. */
export class ClientHandshake extends Handshake {
  private readonly nonce = newNonce();
  private transcript: Transcript | undefined;

  constructor(
    socket: FrameSocket,
    host: HandshakeHost,
    settled: () => void,
    private readonly expectedNode: string,
    private readonly onLost: (code: number, reason: string) => void,
  ) {
    super(socket, host, settled);
    this.claimed = expectedNode;
  }

  protected override opened(): void {
    if (this.done) return;
    this.socket.send(encodeControl({ kind: 'hello', v: PROTOCOL_VERSION, node: this.host.nodeId, inc: this.host.incarnation, nonce: this.nonce }));
  }

  protected expected(): ControlFrame['kind'] {
    return this.transcript === undefined ? 'challenge' : 'welcome';
  }

  protected handle(frame: ControlFrame): void {
    if (frame.kind === 'challenge') {
      this.claimed = frame.node;
      if (frame.v !== PROTOCOL_VERSION) return this.refuse(CloseCodes.versionMismatch, `protocol version ${frame.v}, expected ${PROTOCOL_VERSION}`);
      const t: Transcript = {
        clientNonce: this.nonce,
        serverNonce: frame.nonce,
        clientNode: this.host.nodeId,
        serverNode: frame.node,
        clientInc: this.host.incarnation,
        serverInc: frame.inc,
      };
      if (!verifyProof(this.host.secret, 'server', t, frame.proof)) return this.refuse(CloseCodes.authFailed, 'wrong proof from server');
      if (frame.node !== this.expectedNode) return this.refuse(CloseCodes.wrongPeer, `dialed ${this.expectedNode}, reached ${frame.node}`);
      this.transcript = t;
      const resume = this.host.resumeFor(frame.node, frame.inc);
      this.socket.send(encodeControl({ kind: 'response', proof: proof(this.host.secret, 'client', t), ...resume }));
    } else if (frame.kind === 'welcome') {
      const t = this.transcript!;
      this.finish({ direction: 'outbound', peer: t.serverNode, incarnation: t.serverInc, resume: { recv: frame.recv, base: frame.base } });
    }
  }

  protected lost(code: number, reason: string): void {
    this.onLost(code, reason);
  }
}
