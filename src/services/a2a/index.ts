// A2A: typed inter-agent messages (FIPA-ACL performatives) through a per-node
// bus that tracks conversations, delegation that keeps scopes, and interop with
// the A2A protocol (serve an agent to A2A clients, mount a remote A2A agent as a tool).

export { A2ABus, a2aBusOf, createA2ABus } from './bus.js';
export type { A2AAskOptions, A2ABusOptions, A2ABusStats, A2AEndpoint } from './bus.js';
export { A2AMessageSchema, PERFORMATIVES, a2aMessage, a2aReply, newConversationId, parseA2AMessage, DEFAULT_MAX_CONTENT_BYTES } from './message.js';
export type { A2AMessage, A2AMessageInput, Performative, ReplyOptions } from './message.js';
export { step as stepConversation, TERMINAL as TERMINAL_STATUSES } from './protocol.js';
export type { ConversationState, ConversationStatus, ConversationView, Pattern, StepLimits, StepResult } from './protocol.js';
export { a2aCall, a2aSend, delegatedInput, type A2ACallInput } from './actions.js';
export { A2ACodes, A2AError, type A2ACode } from './errors.js';
export { exposeA2A } from './expose.js';
export type { A2ACardInput, A2AServing, ExposeA2AOptions, ExposeHost } from './expose.js';
export { mountA2AAgent } from './mount.js';
export type { A2AMount, MountA2AOptions, MountHost } from './mount.js';
export type { A2AInboundContent } from './parts.js';
