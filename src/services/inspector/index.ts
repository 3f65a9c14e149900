// The inspector service: a hub that turns a node's inspection events into a
// bounded, coalesced stream (hub.ts), a server for the page and for Stately
// receivers (server.ts), and a link that merges a cluster's members into one
// view (remote.ts). The wire protocol is protocol.ts.

export * from './protocol.js';
export { InspectorHub, type InspectorHubOptions, type HubSubscriber, type RawBatch } from './hub.js';
export { InspectorServer, CloseCodes as InspectorCloseCodes, type InspectorServerOptions } from './server.js';
export { InspectorLink, type InspectorLinkOptions, type LinkTransport } from './remote.js';
export { InspectorCodes, InspectorError, type InspectorSource, type MachineInfo, type ApprovalDecision } from './source.js';
export { STATELY_PROTOCOL_VERSION } from './stately.js';
export { boundedCopy, fieldTree, filterFields, REDACTED, DEFAULT_PAYLOAD_BYTES } from './payload.js';
