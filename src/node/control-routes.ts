// The routes of the control endpoint, version 1: what a request may ask of the
// node and how its query is checked. A route is data (method, path with
// `:params`, allowed query keys, whether it takes a JSON body) plus a handler.
// The views (ps, tree, stats) are here; what acts on the node (send, ask,
// approvals, audit) is in control-actions.ts.

import type { TreeNode } from '../supervisors/types.js';
import { ACTOR_ROUTES, APPROVAL_ROUTES, AUDIT_ROUTES } from './control-actions.js';
import { LINEAGE_ROUTES } from './control-lineage.js';
import { ControlCodes, ControlError, queryFlag, type ControlMethod, type ControlRoute } from './control-request.js';
import { psRows, type PsRow } from '../kernel/ps-rows.js';

export { ControlCodes, ControlError, bodyFields, queryFlag, queryNumber, queryString, queryValue, type ControlMethod, type ControlRequest, type ControlRoute } from './control-request.js';

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

export interface ClusterResponse {
  node: string;
  /** null: the node is not in a cluster. */
  cluster: {
    url: string;
    quorate: boolean;
    members: { nodeId: string; address: string; status: string; incarnation: number }[];
    /** The directory: where each known actor lives. */
    actors: { id: string; node: string; tenant: string; incarnation: number; agent: string | null }[];
  } | null;
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
    path: '/v1/cluster',
    handle: ({ node }): ClusterResponse => ({
      node: node.name,
      cluster: node.cluster
        ? {
            url: node.cluster.url,
            quorate: node.cluster.isQuorate(),
            members: node.cluster.members().map((m) => ({ nodeId: m.nodeId, address: m.address, status: m.status, incarnation: m.incarnation })),
            actors: node.cluster.remote.directory.entries().map((e) => ({ id: e.id, node: e.node, tenant: e.tenant, incarnation: e.incarnation, agent: e.agent ?? null })),
          }
        : null,
    }),
  },
  {
    method: 'GET',
    path: '/v1/stats',
    handle: ({ node }) => ({ node: node.name, ...node.stats() }),
  },
  ...ACTOR_ROUTES,
  ...APPROVAL_ROUTES,
  ...AUDIT_ROUTES,
  ...LINEAGE_ROUTES,
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
