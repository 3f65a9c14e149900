// Every error a user can cause is an AgentOsError: a stable `code` to match on,
// a message that names the offending input, optional structured `details`,
// and the underlying `cause`. Subclasses group the families; codes never change.

export interface AgentOsErrorOptions {
  cause?: unknown;
  /** The offending field, path or input, when there is one. */
  field?: string;
  details?: Record<string, unknown>;
}

export class AgentOsError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: AgentOsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  /** Plain data, safe to log, send over the wire or put in an audit record. */
  toJSON(): { name: string; code: string; message: string; field?: string; details?: Record<string, unknown> } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** A contract (or other declarative spec) is malformed. */
export class ContractError extends AgentOsError {}
/** A contract is well-formed but the node cannot admit it. */
export class AdmissionError extends AgentOsError {}
/** The kernel's policy refused an operation. */
export class PolicyDenied extends AgentOsError {}
/** A message or payload failed validation at the edge. */
export class ValidationError extends AgentOsError {}
/** A bounded mailbox refused a message. */
export class MailboxFull extends AgentOsError {}
/** Addressing errors: unknown, duplicate or stopped actors. */
export class ActorError extends AgentOsError {}
/** A supervisor spec is malformed. */
export class SupervisorSpecError extends AgentOsError {}
/** An ask did not get its reply in time. */
export class AskTimeout extends AgentOsError {}
/** A remote node could not be reached. */
export class NodeUnreachable extends AgentOsError {}
/** A budget or quota would be exceeded. */
export class BudgetExceeded extends AgentOsError {}
/** Persistent state is corrupt or incompatible. */
export class StorageError extends AgentOsError {}

/** Stable codes, in one place so docs and tests can enumerate them. */
export const ErrorCodes = {
  invalidMessage: 'INVALID_MESSAGE',
  unknownMessageType: 'UNKNOWN_MESSAGE_TYPE',
  payloadTooLarge: 'PAYLOAD_TOO_LARGE',
  mailboxFull: 'MAILBOX_FULL',
  unknownActor: 'UNKNOWN_ACTOR',
  duplicateActor: 'DUPLICATE_ACTOR',
  actorStopped: 'ACTOR_STOPPED',
  askTimeout: 'ASK_TIMEOUT',
  invalidAgent: 'INVALID_AGENT',
  invalidOptions: 'INVALID_OPTIONS',
  invalidSupervisorSpec: 'INVALID_SUPERVISOR_SPEC',
  nodeStopped: 'NODE_STOPPED',
} as const;

export function isAgentOsError(value: unknown): value is AgentOsError {
  return value instanceof AgentOsError;
}

/** The audit log refused a request: a record it cannot encode, an index or size out of range, an unsafe key file. */
export class AuditError extends AgentOsError {}

/** The side-effect journal refused a call or reports its outcome: in doubt, a journaled failure, a divergent replay. */
export class EffectError extends AgentOsError {}
