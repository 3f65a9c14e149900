// The cluster transport's public surface: the transport, its options and
// events, and the close codes a peer may see.

export { ClusterTransport } from './transport.js';
export type { ClusterTransportOptions, TlsOptions } from './options.js';
export type { TransportEvent, PeerInfo, LinkStats, LinkDirection } from './events.js';
export type { Envelope } from './codec.js';
export { CloseCodes, type CloseCode } from './frames.js';
export { NODE_ID_PATH } from './server.js';
export type { FrameSocket, SocketHandlers } from './socket.js';
