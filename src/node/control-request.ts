// What a route of the control endpoint works with: the shape of a route and a
// request, the endpoint's own error codes, and the checks of query values and
// JSON bodies every route shares, so a bad input is refused naming its field.

import { AgentOsError } from '../base/errors.js';
import type { AgentOsNode } from './node.js';

export const ControlCodes = {
  unauthorized: 'CONTROL_UNAUTHORIZED',
  forbidden: 'CONTROL_FORBIDDEN',
  notFound: 'CONTROL_NOT_FOUND',
  methodNotAllowed: 'CONTROL_METHOD_NOT_ALLOWED',
  badRequest: 'CONTROL_BAD_REQUEST',
  bodyTooLarge: 'CONTROL_BODY_TOO_LARGE',
  /** The request body is not JSON (or is empty). */
  invalidJson: 'INVALID_JSON',
  listenFailed: 'CONTROL_LISTEN_FAILED',
  internal: 'INTERNAL_ERROR',
} as const;

/** A request the control endpoint refuses; `status` is the HTTP status it answers with. */
export class ControlError extends AgentOsError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    options: { field?: string; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}

export type ControlMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ControlRequest {
  node: AgentOsNode;
  /** Values of the route's `:name` segments, URI-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body (routes with `body: true`), else undefined. */
  body: unknown;
}

export interface ControlRoute {
  method: ControlMethod;
  /** `/v1/ps`, or with parameters: `/v1/actors/:id/send`. */
  path: string;
  /** Query keys the route accepts; any other key is a 400. */
  query?: readonly string[];
  /** Read the request body as JSON (capped). */
  body?: boolean;
  handle(request: ControlRequest): unknown;
}

const bad = (field: string, message: string): ControlError => new ControlError(400, ControlCodes.badRequest, message, { field });
const shown = (value: string): string => JSON.stringify(value.slice(0, 40));

/** The one value of a query key, or undefined when absent; given twice is a 400. */
export function queryValue(query: URLSearchParams, key: string): string | undefined {
  const values = query.getAll(key);
  if (values.length > 1) throw bad(key, `query parameter "${key}" is given ${values.length} times`);
  return values[0];
}

/** A boolean query flag: absent, `1`/`true` or `0`/`false`. */
export function queryFlag(query: URLSearchParams, key: string): boolean {
  const value = queryValue(query, key);
  if (value === undefined) return false;
  if (value === '' || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw bad(key, `query parameter "${key}" must be 1, true, 0 or false (got ${shown(value)})`);
}

/** A decimal number in the query, or undefined when absent. Its range is the consumer's to check (and name). */
export function queryNumber(query: URLSearchParams, key: string): number | undefined {
  const value = queryValue(query, key);
  if (value === undefined) return undefined;
  if (!/^-?\d{1,15}(\.\d{1,6})?$/.test(value)) throw bad(key, `query parameter "${key}" must be a number (got ${shown(value)})`);
  return Number(value);
}

/** A non-empty query string, or undefined when absent. */
export function queryString(query: URLSearchParams, key: string): string | undefined {
  const value = queryValue(query, key);
  if (value === '') throw bad(key, `query parameter "${key}" must not be empty`);
  return value;
}

/**
 * The body as a JSON object with only the `allowed` keys, each a string or (for `lists`) an array of
 * strings. Whether a key is required, and what its value may be, the consumer checks.
 */
export function bodyFields(body: unknown, allowed: readonly string[], lists: readonly string[] = []): Record<string, string | string[] | undefined> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('body', `expected a JSON object with ${allowed.join(', ')}`);
  const out: Record<string, string | string[] | undefined> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw bad(key.slice(0, 40), `unknown field "${key.slice(0, 40)}" (expected ${allowed.join(', ')})`);
    const ok = lists.includes(key) ? Array.isArray(value) && value.every((v) => typeof v === 'string') : typeof value === 'string';
    if (!ok) throw bad(key, `field "${key}" must be ${lists.includes(key) ? 'an array of strings' : 'a string'}`);
    out[key] = value as string | string[];
  }
  return out;
}
