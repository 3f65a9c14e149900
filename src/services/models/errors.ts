// Typed errors of the model gateway. Every failure a provider, the router or
// the context window can produce is a ModelError with one of these stable
// codes, so callers (and fallbacks) decide by code, never by message text.

import { AgentOsError, type AgentOsErrorOptions } from '../../base/errors.js';

export const ModelCodes = {
  /** The request is malformed (messages, tools, maxTokens…): `field` names the input. */
  badRequest: 'MODEL_BAD_REQUEST',
  /** No catalogued model has this id. */
  unknownModel: 'MODEL_UNKNOWN',
  /** No catalogued model satisfies the contract, the node's placement mode and the context size. */
  noRoute: 'MODEL_NO_ROUTE',
  /** The system prompt and the latest turn alone do not fit the context window. */
  contextOverflow: 'MODEL_CONTEXT_OVERFLOW',
  /** The endpoint is down, refused the connection or answered 5xx/429. Fallbacks are tried. */
  unavailable: 'MODEL_UNAVAILABLE',
  /** No answer (or no next chunk) within the configured time. Fallbacks are tried. */
  timeout: 'MODEL_TIMEOUT',
  /** The endpoint refused the request itself (4xx other than 429). */
  rejected: 'MODEL_REJECTED',
  /** The stream was not well-formed SSE / JSON, or ended before it finished. */
  badStream: 'MODEL_BAD_STREAM',
  /** A tool call without a name, with arguments that are not a JSON object, or naming a tool the request did not offer. */
  badToolCall: 'MODEL_BAD_TOOL_CALL',
  /** The caller aborted the stream (barge-in). */
  aborted: 'MODEL_ABORTED',
  /** The gateway was used before `register(kernel)`. */
  notRegistered: 'MODEL_GATEWAY_NOT_REGISTERED',
  /** A catalog entry or provider configuration is invalid. */
  badConfig: 'MODEL_BAD_CONFIG',
  /** A persistent actor asked to stream: a stream is not journaled, so it must use the `model` syscall (whose whole completion is). */
  streamNotJournaled: 'MODEL_STREAM_NOT_JOURNALED',
} as const;

export type ModelCode = (typeof ModelCodes)[keyof typeof ModelCodes];

export class ModelError extends AgentOsError {
  declare readonly code: ModelCode;
  constructor(code: ModelCode, message: string, options: AgentOsErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Errors after which the next fallback candidate may be tried (nothing was streamed yet). */
export function isTransient(err: unknown): boolean {
  return err instanceof ModelError && (err.code === ModelCodes.unavailable || err.code === ModelCodes.timeout);
}
