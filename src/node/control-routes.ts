// The routes of the control endpoint, version 1: what a request may ask of the
// node and how its query is checked. A route is data (method, path with
// `:params`, allowed query keys, whether it takes a JSON body) plus a handler;
// later commands (send, ask, approve, …) are more entries in this table.

import { AgentOsError } from '../base/errors.js';
import type { AgentOsNode } from './node.js';
import { psRows, type PsRow } from './control-views.js';
import type { TreeNode } from '../supervisors/types.js';

export const ControlCodes = {
  unauthorized: 'CONTROL_UNAUTHORIZED',
  forbidden: 'CONTROL_FORBIDDEN',
  notFound: 'CONTROL_NOT_FOUND',
  methodNotAllowed: 'CONTROL_METHOD_NOT_ALLOWED',
  badRequest: 'CONTROL_BAD_REQUEST',
  bodyTooLarge: 'CONTROL_BODY_TOO_LARGE',
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

/** A boolean query flag: absent, `1`/`true` or `0`/`false`. */
export function queryFlag(query: URLSearchParams, key: string): boolean {
  const values = query.getAll(key);
  if (values.length === 0) return false;
  if (values.length > 1) throw new ControlError(400, ControlCodes.badRequest, `query parameter "${key}" is given ${values.length} times`, { field: key });
  const value = values[0]!;
  if (value === '' || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new ControlError(400, ControlCodes.badRequest, `query parameter "${key}" must be 1, true, 0 or false (got ${JSON.stringify(value.slice(0, 40))})`, { field: key });
}

export interface PsResponse {
  node: string;
  actors: PsRow[];
}

export interface TreeResponse {
  node: string;
  tree: TreeNode;
  /** The kernel's service actors under `agentos.system` (with `?system=1`). */
  system?: TreeNode;
}

export const V1_ROUTES: readonly ControlRoute[] = [
  {
    method: 'GET',
    path: '/v1/ps',
    query: ['system'],
    handle: ({ node, query }): PsResponse => ({
      node: node.name,
      actors: [...psRows(node.tree(), node.name), ...(queryFlag(query, 'system') ? psRows(node.systemTree(), node.name, true) : [])],
    }),
  },
  {
    method: 'GET',
    path: '/v1/tree',
    query: ['system'],
    handle: ({ node, query }): TreeResponse => ({ node: node.name, tree: node.tree(), ...(queryFlag(query, 'system') ? { system: node.systemTree() } : {}) }),
  },
  {
    method: 'GET',
    path: '/v1/stats',
    handle: ({ node }) => ({ node: node.name, ...node.stats() }),
  },
];

/** The route for a path, with its parameters; `methods` lists what the path allows when only the method is wrong. */
export function matchRoute(
  routes: readonly ControlRoute[],
  method: string,
  pathname: string,
): { route: ControlRoute; params: Record<string, string> } | { methods: ControlMethod[] } | undefined {
  const segments = pathname.split('/');
  const methods: ControlMethod[] = [];
  for (const route of routes) {
    const params = matchPath(route.path.split('/'), segments);
    if (params === undefined) continue;
    if (route.method === method) return { route, params };
    methods.push(route.method);
  }
  return methods.length > 0 ? { methods } : undefined;
}

function matchPath(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) {
      if (s === '') return undefined;
      try {
        params[p.slice(1)] = decodeURIComponent(s);
      } catch {
        throw new ControlError(400, ControlCodes.badRequest, `path segment ${JSON.stringify(s.slice(0, 40))} is not valid percent-encoding`, { field: p.slice(1) });
      }
    } else if (p !== s) return undefined;
  }
  return params;
}
