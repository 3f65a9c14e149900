// Edge checks on every message before it is queued: shape, size, known type,
// schema. A message that fails is refused with a typed error that names the
// field; it never reaches a mailbox.

import type { AgentDefinition } from '../actors/define.js';
import { estimateSize } from '../actors/size.js';
import { ErrorCodes, ValidationError } from '../base/errors.js';
import { summarizeIssues } from '../base/issues.js';

export interface EdgeLimits {
  /** Largest accepted message, estimated in bytes. */
  maxPayloadBytes: number;
  /** Run the zod schema (default true; off only for measurements). */
  validate: boolean;
}

/** Returns the payload to deliver (the schema's parsed output), or throws ValidationError. */
export function checkMessage(def: AgentDefinition, message: unknown, target: string, limits: EdgeLimits): { type: string } {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new ValidationError(ErrorCodes.invalidMessage, `message to "${target}" must be an object with a string "type"`, {
      field: 'message',
    });
  }
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) {
    throw new ValidationError(ErrorCodes.invalidMessage, `message to "${target}": "type" must be a non-empty string`, {
      field: 'type',
    });
  }
  const size = estimateSize(message, limits.maxPayloadBytes);
  if (size > limits.maxPayloadBytes) {
    throw new ValidationError(
      ErrorCodes.payloadTooLarge,
      `message "${type}" to "${target}" exceeds the payload limit of ${limits.maxPayloadBytes} bytes`,
      { field: 'payload', details: { limit: limits.maxPayloadBytes } },
    );
  }
  const known = def.messageTypes;
  if (known && !known.has(type)) {
    throw new ValidationError(
      ErrorCodes.unknownMessageType,
      `"${target}" (${def.name}) does not accept message type "${type}"; it accepts: ${[...known].join(', ')}`,
      { field: 'type', details: { accepted: [...known] } },
    );
  }
  if (!limits.validate) return message as { type: string };
  const result = def.messages.safeParse(message);
  if (result.success) return result.data as { type: string };
  const { field, summary, issues } = summarizeIssues(result.error, 'message');
  throw new ValidationError(ErrorCodes.invalidMessage, `message "${type}" to "${target}" is invalid: ${summary}`, {
    field,
    details: { issues },
  });
}
