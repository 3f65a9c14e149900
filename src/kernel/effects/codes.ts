// Stable error codes of the side-effect journal, in one place so docs and tests can
// enumerate them. Errors carrying them are EffectError (a call the journal refuses or
// whose outcome it reports) or StorageError (the journal is damaged or cannot be written).

export const EffectCodes = {
  /** A non-idempotent call was dispatched but its outcome is unknown (the process died in between). */
  inDoubt: 'EFFECT_IN_DOUBT',
  /** The call failed; the failure is journaled and every replay throws it again. */
  failed: 'EFFECT_FAILED',
  /** An in-doubt call was compensated; every replay reports that. */
  compensated: 'EFFECT_COMPENSATED',
  /** The key was journaled with other arguments: the caller diverged from its recorded history. */
  argsMismatch: 'EFFECT_ARGS_MISMATCH',
  /** The key is not one idempotencyKey makes. */
  invalidKey: 'EFFECT_INVALID_KEY',
  /** The arguments are not JSON data, so they cannot be hashed. */
  invalidArgs: 'EFFECT_INVALID_ARGS',
  /** The result could not be encoded for the journal (the call ran; its outcome is journaled as this failure). */
  unencodableResult: 'EFFECT_UNENCODABLE_RESULT',
  /** The key's turn is covered by a compaction: its entries are gone and it must not run again. */
  compacted: 'EFFECT_COMPACTED',
  /** resolve() was asked to settle a call that is not in doubt. */
  notInDoubt: 'EFFECT_NOT_IN_DOUBT',
  /** A stored journal record cannot be read (garbage bytes, wrong shape, hash mismatch). */
  corrupt: 'EFFECT_CORRUPT',
  /** LMDB refused a journal write; the journal refuses further calls. */
  writeFailed: 'EFFECT_WRITE_FAILED',
} as const;
