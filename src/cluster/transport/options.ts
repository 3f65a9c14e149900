// Options of a ClusterTransport: the shape users pass, the defaults, and the
// check that turns bad input into a ClusterError naming the field. Everything
// downstream reads the resolved form, so no module repeats a default.

import type { Clock } from '../../base/clock.js';
import type { Rng } from '../../base/rng.js';
import { ClusterCodes, ClusterError } from '../errors.js';
import type { TransportEvent } from './events.js';
import type { FrameSocket } from './socket.js';

export interface TlsOptions {
  /** PEM private key of this node. */
  key: string | Buffer;
  /** PEM certificate of this node (signed by the cluster CA). */
  cert: string | Buffer;
  /** PEM certificate(s) of the cluster CA: peers must present a certificate it signed. */
  ca: string | Buffer | Array<string | Buffer>;
  /** The server asks dialing peers for a certificate (mutual TLS). Default true. */
  requestCert?: boolean;
}

export interface ClusterTransportOptions {
  /** This node's id, unique in the cluster: 1–128 of [A-Za-z0-9._:-], starting alphanumeric. */
  nodeId: string;
  /** Shared cluster secret (≥ 16 bytes; use 32 random bytes). Knowing it is what makes a node a member. */
  secret: string | Uint8Array;
  clock: Clock;
  /** Jitter of the reconnect backoff. */
  rng: Rng;
  /** Accept links from other nodes. Without it the transport only dials out. */
  listen?: { host?: string; port?: number };
  /** Mutual TLS (`wss://`). The HMAC handshake still runs inside it. */
  tls?: TlsOptions;
  /** Largest frame accepted or sent, bytes (ws `maxPayload`). Default 1 MiB. */
  maxPayload?: number;
  batch?: {
    /** A frame is sent once this many bytes of envelopes are in it. Default 64 KiB. */
    maxBytes?: number;
    /**
     * How long a partly filled frame waits for more envelopes, ms on the clock.
     * 0 (default): it is sent at the end of the current event-loop turn, so a
     * burst of sends in one turn shares frames and a lone send is not delayed.
     */
    maxDelayMs?: number;
  };
  queue?: {
    /** Messages a link holds (not yet acknowledged by the peer) before `send` refuses. Default 10,000. */
    maxMessages?: number;
    /** Stop writing frames while the socket's `bufferedAmount` is at or above this. Default 1 MiB. */
    highWaterBytes?: number;
  };
  /** A receiver acknowledges at least every this many delivered messages. Default 512. */
  ackEvery?: number;
  /** Time allowed from TCP accept (or dial) to an authenticated link, ms. Default 5,000. */
  handshakeTimeoutMs?: number;
  /** Unauthenticated connections held at once; more are dropped on accept. Default 64. */
  maxPendingHandshakes?: number;
  heartbeat?: {
    /** Ping a link that has been quiet this long, ms. Default 1,000. */
    intervalMs?: number;
    /** Close a link that has been silent this long, ms. Default 5,000. */
    timeoutMs?: number;
  };
  backoff?: {
    /** First reconnect delay ceiling, ms. Default 100. */
    initialMs?: number;
    /** Largest reconnect delay ceiling, ms. Default 10,000. */
    maxMs?: number;
    /** Growth per failed attempt. Default 2. */
    factor?: number;
  };
  /**
   * Open the socket for a dial yourself instead of a `ws` WebSocket (tests on
   * a VirtualClock, custom carriers). With it, any URL scheme is accepted.
   */
  dialer?: (url: string) => FrameSocket;
  /** An envelope from an authenticated peer, in the order that peer sent it, once. */
  onMessage: (from: string, msg: Record<string, unknown>) => void;
  /** Link lifecycle and rejected peers (the transport's log). */
  onPeer?: (event: TransportEvent) => void;
}

export interface ResolvedOptions {
  nodeId: string;
  secret: Buffer;
  clock: Clock;
  rng: Rng;
  listen: { host: string; port: number } | undefined;
  tls: TlsOptions | undefined;
  maxPayload: number;
  batchMaxBytes: number;
  batchMaxDelayMs: number;
  maxMessages: number;
  highWaterBytes: number;
  ackEvery: number;
  handshakeTimeoutMs: number;
  maxPendingHandshakes: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number; factor: number };
  dialer: ((url: string) => FrameSocket) | undefined;
  onMessage: (from: string, msg: Record<string, unknown>) => void;
  onPeer: (event: TransportEvent) => void;
}

/** Node ids travel in handshakes and events: keep them short and printable. */
export const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const MIN_SECRET_BYTES = 16;

function bad(field: string, message: string): ClusterError {
  return new ClusterError(ClusterCodes.invalidOptions, `${field}: ${message}`, { field });
}

function int(value: unknown, field: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(field, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(o: ClusterTransportOptions): ResolvedOptions {
  if (o === null || typeof o !== 'object') throw bad('options', 'expected an object');
  if (typeof o.nodeId !== 'string' || !NODE_ID.test(o.nodeId)) {
    throw bad('nodeId', `expected 1–128 characters of [A-Za-z0-9._:-] starting alphanumeric, got ${JSON.stringify(o.nodeId)}`);
  }
  const secret = typeof o.secret === 'string' ? Buffer.from(o.secret, 'utf8') : o.secret instanceof Uint8Array ? Buffer.from(o.secret) : undefined;
  if (secret === undefined || secret.length < MIN_SECRET_BYTES) {
    throw bad('secret', `expected a string or bytes of at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (!o.clock || typeof o.clock.now !== 'function' || typeof o.clock.setTimeout !== 'function') throw bad('clock', 'expected a Clock');
  if (!o.rng || typeof o.rng.next !== 'function') throw bad('rng', 'expected an Rng');
  if (typeof o.onMessage !== 'function') throw bad('onMessage', 'expected a function');
  if (o.onPeer !== undefined && typeof o.onPeer !== 'function') throw bad('onPeer', 'expected a function');
  if (o.dialer !== undefined && typeof o.dialer !== 'function') throw bad('dialer', 'expected a function');
  if (o.tls !== undefined && (!o.tls || !o.tls.key || !o.tls.cert || !o.tls.ca)) throw bad('tls', 'expected { key, cert, ca }');
  const listen =
    o.listen === undefined
      ? undefined
      : { host: o.listen.host ?? '127.0.0.1', port: int(o.listen.port, 'listen.port', 0, 0, 65535) };
  if (listen && typeof listen.host !== 'string') throw bad('listen.host', 'expected a string');

  const maxPayload = int(o.maxPayload, 'maxPayload', 1 << 20, 1024, 256 << 20);
  const batchMaxBytes = int(o.batch?.maxBytes, 'batch.maxBytes', Math.min(64 << 10, maxPayload), 64, maxPayload);
  const heartbeatIntervalMs = int(o.heartbeat?.intervalMs, 'heartbeat.intervalMs', 1000, 1);
  const heartbeatTimeoutMs = int(o.heartbeat?.timeoutMs, 'heartbeat.timeoutMs', 5000, 1);
  if (heartbeatTimeoutMs < heartbeatIntervalMs) throw bad('heartbeat.timeoutMs', 'must be at least heartbeat.intervalMs');
  const initialMs = int(o.backoff?.initialMs, 'backoff.initialMs', 100, 1);
  const maxMs = int(o.backoff?.maxMs, 'backoff.maxMs', 10_000, initialMs);
  const factor = o.backoff?.factor ?? 2;
  if (typeof factor !== 'number' || !(factor >= 1 && factor <= 16)) throw bad('backoff.factor', 'expected a number in [1, 16]');
  const onPeer = o.onPeer ?? ((): void => undefined);

  return {
    nodeId: o.nodeId,
    secret,
    clock: o.clock,
    rng: o.rng,
    listen,
    tls: o.tls,
    maxPayload,
    batchMaxBytes,
    batchMaxDelayMs: int(o.batch?.maxDelayMs, 'batch.maxDelayMs', 0, 0, 60_000),
    maxMessages: int(o.queue?.maxMessages, 'queue.maxMessages', 10_000, 1, 10_000_000),
    highWaterBytes: int(o.queue?.highWaterBytes, 'queue.highWaterBytes', 1 << 20, 1),
    ackEvery: int(o.ackEvery, 'ackEvery', 512, 1),
    handshakeTimeoutMs: int(o.handshakeTimeoutMs, 'handshakeTimeoutMs', 5000, 1),
    maxPendingHandshakes: int(o.maxPendingHandshakes, 'maxPendingHandshakes', 64, 1),
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    backoff: { initialMs, maxMs, factor },
    dialer: o.dialer,
    onMessage: o.onMessage,
    onPeer: (event) => {
      // The log callback must never take the transport down with it.
      try {
        onPeer(event);
      } catch {
        // ignored on purpose: a throwing logger is the caller's bug, not a link failure
      }
    },
  };
}
