// Secrets the runtime hands out (grant tokens, ask correlation ids) come from
// an injected TokenSource, like time from the Clock. Unlike the seeded Rng
// (rng.ts, replayable by design), its default is the OS CSPRNG: a token anyone
// could predict from a seed would let an actor forge a grant or settle an ask
// it was not sent. Tests inject a deterministic source.

import { randomBytes } from 'node:crypto';

/** `bytes` of unguessable randomness, as lowercase hex (URL-safe, 2 characters a byte). */
export type TokenSource = (bytes: number) => string;

export const cryptoTokens: TokenSource = (bytes) => randomBytes(bytes).toString('hex');
