// The side-effect journal: exactly-once side effects across crashes, by idempotency key.

export { EffectCodes } from './codes.js';
export { EffectCompensated, EffectFailed, EffectInDoubt, failureData } from './errors.js';
export { EffectJournal, type EffectJournalOptions, type Resolution } from './journal.js';
export { idempotencyKey, keyPrefix, MAX_KEY_LENGTH, parseIdempotencyKey, type CallSite } from './key.js';
export { EFFECT_DBS } from './store.js';
export type {
  CallContext,
  CallState,
  ChainAnchor,
  CompactResult,
  Durability,
  FailureData,
  Idempotence,
  InDoubtCall,
  RunOptions,
  VerifyResult,
} from './types.js';
