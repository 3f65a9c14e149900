// Typed errors of the blackboard, with their stable codes in one place. Every
// refusal is decided before anything changes: a refused write leaves the board
// (memory and LMDB) exactly as it was. Capability refusals use the kernel's own
// family and code (PolicyDenied CAPABILITY_DENIED / CROSS_TENANT).

import { AgentOsError } from '../../base/errors.js';

/** A blackboard request was refused or failed. */
export class BlackboardError extends AgentOsError {}

export const BlackboardCodes = {
  /** `expectedVersion` is not the topic's current version (`details`: topic, expected, actual). Audited; nothing written. */
  staleWrite: 'BLACKBOARD_STALE_WRITE',
  /** A topic name or pattern is malformed (`field` names it). */
  invalidTopic: 'BLACKBOARD_INVALID_TOPIC',
  /** A value is not JSON data, or fails its topic's schema (`field` is the path inside `value`). */
  invalidValue: 'BLACKBOARD_INVALID_VALUE',
  /** A value is larger than `maxValueBytes` (as canonical JSON). */
  valueTooLarge: 'BLACKBOARD_VALUE_TOO_LARGE',
  /** A new topic would exceed `maxTopicsPerTenant`. */
  full: 'BLACKBOARD_FULL',
  /** A request is malformed: unknown `op`, a field of the wrong type. */
  invalidRequest: 'BLACKBOARD_INVALID_REQUEST',
  /** An actor holds `maxSubscriptions` patterns already. */
  tooManySubscriptions: 'BLACKBOARD_TOO_MANY_SUBSCRIPTIONS',
  /** A knowledge source or controller option is malformed, or names an actor of another tenant or none. */
  invalidSource: 'BLACKBOARD_INVALID_SOURCE',
  /** The node has no blackboard service, or it was closed. */
  unavailable: 'BLACKBOARD_UNAVAILABLE',
  /** LMDB refused a write: the board refuses every request from then on (nothing is acknowledged that is not on disk). */
  storageFailed: 'BLACKBOARD_STORAGE_FAILED',
  /** A stored entry does not decode as an entry of its key. */
  corrupt: 'BLACKBOARD_CORRUPT',
  /** Options of the service are malformed. */
  invalidOptions: 'BLACKBOARD_INVALID_OPTIONS',
} as const;

export type BlackboardCode = (typeof BlackboardCodes)[keyof typeof BlackboardCodes];

/** Rebuild an error that crossed the board actor as plain data (`AgentOsError.toJSON()`). */
export function errorFromData(data: { code?: unknown; message?: unknown; field?: unknown; details?: unknown }): BlackboardError {
  const code = typeof data.code === 'string' ? data.code : 'BLACKBOARD_FAILED';
  const message = typeof data.message === 'string' ? data.message : 'blackboard request failed';
  return new BlackboardError(code, message, {
    ...(typeof data.field === 'string' ? { field: data.field } : {}),
    ...(typeof data.details === 'object' && data.details !== null ? { details: data.details as Record<string, unknown> } : {}),
  });
}
