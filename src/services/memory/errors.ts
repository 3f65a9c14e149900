// The errors of the memory service: one class, stable codes. Every refusal is
// raised before anything is written (a bad dimension, a cross-tenant reference,
// an oversized value), so a failed call leaves the store as it was.

import { AgentOsError, type AgentOsErrorOptions } from '../../base/errors.js';

export const MemoryCodes = {
  /** An embedding's length is not the collection's dimension. Nothing is written. */
  badDimension: 'MEMORY_BAD_DIMENSION',
  /** A namespace's chunks were embedded by another embedder (same dimension, different space). Nothing is written. */
  embedderMismatch: 'MEMORY_EMBEDDER_MISMATCH',
  /** A vector has a NaN/infinite component or zero length. */
  badVector: 'MEMORY_BAD_VECTOR',
  /** A reference, argument or stored record belongs to another tenant or namespace. Nothing is returned. */
  crossTenant: 'MEMORY_CROSS_TENANT',
  /** The caller's contract has no `memory` section (no namespace to work in). */
  notConfigured: 'MEMORY_NOT_CONFIGURED',
  /** An argument is malformed (also the code of a failed syscall argument schema). */
  invalidArgs: 'MEMORY_INVALID_ARGS',
  /** A key, value, text or batch is larger than the store accepts. */
  tooLarge: 'MEMORY_TOO_LARGE',
  /** A stored record does not decrypt or decode under its own tenant's key: it was altered. */
  corrupt: 'MEMORY_CORRUPT',
  /** The keyring has no key for the tenant. */
  noKey: 'MEMORY_NO_KEY',
  /** The master key file is readable by other users, or is not a key. */
  unsafeKey: 'MEMORY_UNSAFE_KEY',
  /** `require_grounding` holds and no retrieved chunk supports the answer. */
  ungrounded: 'MEMORY_UNGROUNDED',
  /** The store was closed. */
  closed: 'MEMORY_CLOSED',
  /** A citation reference that does not decode or names nothing in this scope. */
  badReference: 'MEMORY_BAD_REFERENCE',
} as const;

export type MemoryCode = (typeof MemoryCodes)[keyof typeof MemoryCodes];

export class MemoryError extends AgentOsError {
  declare readonly code: MemoryCode;
  constructor(code: MemoryCode, message: string, options: AgentOsErrorOptions = {}) {
    super(code, message, options);
  }
}

export const invalidArg = (field: string, why: string): MemoryError => new MemoryError(MemoryCodes.invalidArgs, `memory: ${field} ${why}`, { field });
