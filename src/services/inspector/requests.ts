// Page → server requests checked at the edge: a frame is JSON text holding one
// request of protocol.ts, with every field of the right type and size; anything
// else is an InspectorError naming the field. And the error half of a reply.

import { isAgentOsError } from '../../base/errors.js';
import type { ClientRequest } from './protocol.js';
import { InspectorCodes, InspectorError } from './source.js';

export const REQUEST_OPS = ['machine', 'events', 'watch', 'unwatch', 'approve', 'reject', 'trace', 'audit.verify'] as const;
const OPS: ReadonlySet<string> = new Set(REQUEST_OPS);
/** Longest id, name or reason a request may carry. */
const MAX_TEXT = 1024;
export const MAX_EVENTS_LIMIT = 1000;

const bad = (field: string, why: string): InspectorError => new InspectorError(InspectorCodes.badRequest, `request ${field} ${why}`, { field });

function text(o: Record<string, unknown>, field: string, optional = false): string | undefined {
  const v = o[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw bad(field, `must be a non-empty string, got ${v === undefined ? 'nothing' : typeof v}`);
  if (v.length > MAX_TEXT) throw bad(field, `is longer than ${MAX_TEXT} characters`);
  return v;
}

/** The id of a frame, if it has a usable one (so even a refused request gets its reply). */
export function requestId(value: unknown): number {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : 0;
}

/** Parse one text frame into a request; throws InspectorError (INSPECTOR_BAD_REQUEST / INSPECTOR_UNKNOWN_OP). */
export function parseRequest(frame: string): ClientRequest {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch (err) {
    throw bad('frame', `is not JSON (${(err as Error).message})`);
  }
  return checkRequest(value);
}

export function checkRequest(value: unknown): ClientRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('frame', 'must be a JSON object { id, op, node, … }');
  const o = value as Record<string, unknown>;
  if (typeof o.id !== 'number' || !Number.isSafeInteger(o.id)) throw bad('id', 'must be an integer');
  const id = o.id;
  if (typeof o.op !== 'string' || !OPS.has(o.op)) {
    throw new InspectorError(InspectorCodes.unknownOp, `unknown request op ${JSON.stringify(String(o.op)).slice(0, 80)} (ops: ${REQUEST_OPS.join(', ')})`, { field: 'op' });
  }
  const node = text(o, 'node')!;
  switch (o.op) {
    case 'machine':
    case 'watch':
    case 'unwatch':
      return { id, op: o.op, node, actor: text(o, 'actor')! };
    case 'events': {
      const limit = o.limit;
      if (limit !== undefined && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_EVENTS_LIMIT)) {
        throw bad('limit', `must be an integer 1-${MAX_EVENTS_LIMIT}`);
      }
      return { id, op: 'events', node, actor: text(o, 'actor')!, ...(limit === undefined ? {} : { limit: limit as number }) };
    }
    case 'approve':
    case 'reject': {
      const reason = text(o, 'reason', true);
      return { id, op: o.op, node, approval: text(o, 'approval')!, by: text(o, 'by')!, ...(reason === undefined ? {} : { reason }) };
    }
    case 'trace':
      return { id, op: 'trace', node, ref: text(o, 'ref')! };
    default:
      return { id, op: 'audit.verify', node };
  }
}

/** The `{ code, message }` of a failed request: an AgentOsError's own, anything else as INSPECTOR_INTERNAL. */
export function errorOf(err: unknown): { code: string; message: string; field?: string } {
  if (isAgentOsError(err)) return { code: err.code, message: err.message, ...(err.field === undefined ? {} : { field: err.field }) };
  return { code: InspectorCodes.internal, message: err instanceof Error ? err.message : String(err) };
}
