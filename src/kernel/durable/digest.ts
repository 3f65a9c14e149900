// A digest of an actor's state (value and context) after a turn: recorded in the
// turn log and recomputed by replay, so a replay that reaches another state is
// caught even when its calls happen to match. Actor refs in the context count by
// id, functions by name only (their code is not state).

import { createHash } from 'node:crypto';
import { pack } from './records.js';

export interface StateDigest {
  value: unknown;
  digest: string;
}

export function stateDigest(snapshot: { value?: unknown; context?: unknown } | undefined): StateDigest {
  const value = plain(snapshot?.value, 0);
  const context = plain(snapshot?.context, 0);
  return { value, digest: createHash('sha256').update(pack({ value, context })).digest('hex') };
}

const MAX_DEPTH = 64;

function plain(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? `[function ${(v as { name?: string }).name ?? ''}]` : v;
  if (depth > MAX_DEPTH) return '[deep]';
  const ref = v as { send?: unknown; id?: unknown; sessionId?: unknown };
  if (typeof ref.send === 'function' && typeof ref.id === 'string') return { $ref: ref.id };
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1));
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [plain(k, depth + 1), plain(x, depth + 1)]) };
  if (v instanceof Set) return { $set: [...v].map((x) => plain(x, depth + 1)) };
  if (v instanceof Date || v instanceof Uint8Array) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = plain((v as Record<string, unknown>)[k], depth + 1);
  return out;
}
