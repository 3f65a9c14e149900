// Idempotency keys: one stable string per side-effecting call, derived from who made
// it and where in its history, never from the incarnation (pid, start time, restart
// count), so the same call made again after a crash gets the same key.

import { EffectError } from '../../base/errors.js';
import { EffectCodes } from './codes.js';

export interface CallSite {
  /** The actor's id (stable across restarts). */
  actor: string;
  /** Turn number within the actor's history, from 0. */
  turn: number;
  /** Step within the turn, for workflows that number them; omitted when there is none. */
  step?: number;
  /** Index of the call within the turn (or step), from 0. */
  call: number;
}

/** Longest key made: keeps every LMDB key the journal writes under LMDB's 1,978-byte limit. */
export const MAX_KEY_LENGTH = 1000;

const PREFIX = 'ik1/';
const KEY = /^ik1\/([^/]+)\/t(0|[1-9]\d*)(?:\/s(0|[1-9]\d*))?\/c(0|[1-9]\d*)$/;

/**
 * `ik1/<actor>/t<turn>[/s<step>]/c<call>`, the actor percent-encoded with
 * encodeURIComponent (so `/` becomes `%2F` and the key splits unambiguously), the
 * numbers in plain decimal. Example: actor `support/agent-7`, turn 12, call 0 gives
 * `ik1/support%2Fagent-7/t12/c0`. `ik1` versions the format.
 */
export function idempotencyKey(site: CallSite): string {
  const { actor, turn, step, call } = site;
  if (typeof actor !== 'string' || actor === '') throw invalid(String(actor), 'the actor id must be a non-empty string', 'actor');
  counter(turn, 'turn');
  if (step !== undefined) counter(step, 'step');
  counter(call, 'call');
  let encoded: string;
  try {
    encoded = encodeURIComponent(actor);
  } catch {
    throw invalid(actor, 'the actor id contains a lone UTF-16 surrogate', 'actor');
  }
  const key = `${PREFIX}${encoded}/t${turn}${step === undefined ? '' : `/s${step}`}/c${call}`;
  if (key.length > MAX_KEY_LENGTH) throw invalid(actor, `the key would be ${key.length} characters, over ${MAX_KEY_LENGTH}`, 'actor');
  return key;
}

/** The call site a key names; an EffectError EFFECT_INVALID_KEY for anything idempotencyKey would not make. */
export function parseIdempotencyKey(key: string): CallSite {
  const m = typeof key === 'string' && key.length <= MAX_KEY_LENGTH ? KEY.exec(key) : null;
  if (m === null) throw invalid(String(key), 'not an idempotency key (expected ik1/<actor>/t<turn>[/s<step>]/c<call>)', 'key');
  let actor: string;
  try {
    actor = decodeURIComponent(m[1]);
  } catch {
    throw invalid(key, 'the actor part is not valid percent-encoding', 'key');
  }
  const site: CallSite = { actor, turn: Number(m[2]), call: Number(m[4]) };
  if (m[3] !== undefined) site.step = Number(m[3]);
  // Only the canonical spelling is a key: one call site, one key.
  if (idempotencyKeyOrNull(site) !== key) throw invalid(key, 'not in canonical form (re-encode it with idempotencyKey)', 'key');
  return site;
}

function idempotencyKeyOrNull(site: CallSite): string | null {
  try {
    return idempotencyKey(site);
  } catch {
    return null;
  }
}

function counter(value: unknown, field: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalid(String(value), `${field} must be a non-negative safe integer`, field);
  }
}

function invalid(input: string, why: string, field: string): EffectError {
  return new EffectError(EffectCodes.invalidKey, `idempotency key: ${JSON.stringify(input)}: ${why}`, { field });
}

/** What every key of this actor starts with (and no other actor's key does). */
export function keyPrefix(actor: string): string {
  try {
    return `${PREFIX}${encodeURIComponent(actor)}/`;
  } catch {
    throw invalid(actor, 'the actor id contains a lone UTF-16 surrogate', 'actor');
  }
}
