// Typed errors of the A2A bus and its A2A-protocol bridges, with their stable
// codes in one place. Every refusal names the offending field; nothing refused
// changes a conversation's state.

import { AgentOsError } from '../../base/errors.js';

/** A message, conversation step, delegation or A2A bridge call was refused or failed. */
export class A2AError extends AgentOsError {}

export const A2ACodes = {
  /** Not an A2A message: unknown performative, missing conversationId, a field of the wrong type (`field` names it). */
  invalidMessage: 'A2A_INVALID_MESSAGE',
  /** `content` is larger than the bus's `maxContentBytes`. */
  contentTooLarge: 'A2A_CONTENT_TOO_LARGE',
  /** The message's own deadline, or its conversation's, has passed (the conversation is then `expired`). */
  deadlinePassed: 'A2A_DEADLINE_PASSED',
  /** A step the conversation's state does not allow: a reply to an unknown or closed conversation, accept-proposal without a propose, a stranger joining… */
  protocolViolation: 'A2A_PROTOCOL_VIOLATION',
  /** The sender (or a principal) is not an admitted actor of this node. */
  unknownActor: 'A2A_UNKNOWN_ACTOR',
  /** A delegation the sender may not make: another's authority it does not hold, another tenant, a performative other than request. */
  delegationDenied: 'A2A_DELEGATION_DENIED',
  /** A delegated call names a conversation the caller is not the delegate of (or one that is closed). */
  notDelegated: 'A2A_NOT_DELEGATED',
  /** More open conversations than the bus's `maxOpen`. */
  tooManyConversations: 'A2A_TOO_MANY_CONVERSATIONS',
  /** Options of the bus, exposeA2A or mountA2AAgent are malformed. */
  invalidOptions: 'A2A_INVALID_OPTIONS',
  /** No A2A bus was created for this node (createA2ABus). */
  noBus: 'A2A_NO_BUS',
  /** The bus was closed (node stopped). */
  closed: 'A2A_CLOSED',
  /** A remote A2A agent cannot be reached (connection refused, reset, DNS), or its card cannot be read. */
  unavailable: 'A2A_UNAVAILABLE',
  /** A remote A2A agent did not answer in time. */
  timeout: 'A2A_TIMEOUT',
  /** A remote A2A agent answered with a JSON-RPC error, or with something that breaks the protocol. */
  remoteError: 'A2A_REMOTE_ERROR',
  /** A remote A2A agent ended the task `failed` (or `canceled`). */
  remoteFailed: 'A2A_REMOTE_FAILED',
  /** A remote A2A agent ended the task `rejected`, or asked for input or authentication a tool call cannot give. */
  remoteRejected: 'A2A_REMOTE_REJECTED',
  /** A remote answer was larger than the mount's `maxResponseBytes`. */
  responseTooLarge: 'A2A_RESPONSE_TOO_LARGE',
} as const;

export type A2ACode = (typeof A2ACodes)[keyof typeof A2ACodes];
