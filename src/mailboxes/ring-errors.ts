// Typed errors of the shared-memory rings (spsc-ring.ts, ring-codec.ts). A full ring is the
// base layer's MailboxFull (code MAILBOX_FULL); everything else a caller can cause is a RingError.

import { AgentOsError, ErrorCodes, MailboxFull } from '../base/errors.js';

export const RingCodes = {
  /** `SpscRing.allocate` or a codec was given options it cannot use. */
  invalidOptions: ErrorCodes.invalidOptions,
  /** A payload (or an encoded message) is larger than the ring's `slotBytes`. */
  payloadTooLarge: ErrorCodes.payloadTooLarge,
  /** A message a codec cannot encode (unknown type, a field of the wrong type or range). */
  invalidMessage: ErrorCodes.invalidMessage,
  /** The buffer is not a ring of this version, or its header or a slot does not add up. */
  corrupt: 'RING_CORRUPT',
  /** A second producer (or consumer) attached, or this end was taken over by another one. */
  roleTaken: 'RING_ROLE_TAKEN',
  /** An end was used after `close()`, or from inside its own pushWith/popInto callback. */
  misuse: 'RING_MISUSE',
} as const;

export class RingError extends AgentOsError {}

/** The MailboxFull a full ring throws (push, RingSender.send). */
export function ringFull(ring: { name: string; slots: number }): MailboxFull {
  return new MailboxFull(ErrorCodes.mailboxFull, `ring "${ring.name}" is full (${ring.slots} slots)`, { field: 'slots', details: { ring: ring.name, slots: ring.slots } });
}
