// What a ClusterTransport reports through `onPeer`: link lifecycle and every
// peer it turned away. Plain data (errors as their JSON form), so a caller can
// log it, audit it or feed membership from it.

import type { ClusterError } from '../errors.js';

export type LinkDirection = 'inbound' | 'outbound';

export type TransportEvent =
  /** A link authenticated and is carrying messages. */
  | { type: 'connected'; node: string; incarnation: string; direction: LinkDirection; remote: string }
  /** The link's socket went away; queued and unacknowledged messages are kept for a reconnect. */
  | { type: 'disconnected'; node: string; code: number; reason: string; graceful: boolean }
  /** The dialing side will try again after `delayMs`. */
  | { type: 'reconnecting'; node: string; attempt: number; delayMs: number; code?: number; reason: string }
  /** The peer came back as a new process (its incarnation changed). */
  | { type: 'restarted'; node: string; previous: string; incarnation: string }
  /**
   * A connection was turned away: unauthenticated, malformed, too slow, a
   * node id clash. `code` is the WebSocket close code sent (absent when the
   * connection was dropped below WebSocket, e.g. a failed TLS handshake).
   */
  | { type: 'rejected'; remote: string; node?: string; code?: number; reason: string; error: ClusterError }
  /** A message accepted by `send` could not be encoded when its turn came; it was skipped. */
  | { type: 'message-dropped'; node: string; seq: number; error: ClusterError }
  /** `onMessage` threw; the message counts as delivered. */
  | { type: 'handler-error'; node: string; error: unknown };

export interface PeerInfo {
  node: string;
  /** The peer's process incarnation, once it has authenticated. */
  incarnation: string | undefined;
  state: 'connected' | 'connecting' | 'backoff' | 'disconnected';
  direction: LinkDirection | undefined;
  /** Where this transport dials the peer (links the peer opened have none). */
  url: string | undefined;
  /** Messages held: sent or waiting, not yet acknowledged. */
  queued: number;
  /** Of those, not yet written to any socket since the last (re)connect. */
  unsent: number;
  /** Highest sequence number the peer has acknowledged. */
  acked: number;
  /** Highest sequence number delivered from the peer's current incarnation. */
  delivered: number;
  /** Bytes the socket has not yet handed to the OS. */
  bufferedAmount: number;
  /** Last heartbeat round trip, ms. */
  rttMs: number | undefined;
  stats: LinkStats;
}

export interface LinkStats {
  framesSent: number;
  framesReceived: number;
  /** Envelopes written to a socket, counting resends. */
  messagesSent: number;
  messagesResent: number;
  messagesDelivered: number;
  duplicatesDropped: number;
  connects: number;
}

export function newStats(): LinkStats {
  return { framesSent: 0, framesReceived: 0, messagesSent: 0, messagesResent: 0, messagesDelivered: 0, duplicatesDropped: 0, connects: 0 };
}
