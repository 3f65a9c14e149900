// Control routes for lineage (`agentos trace`): the recorded turns of one trace
// or one `<actor>#<turn>`, and the newest turns with their trace ids. A
// malformed id is a 400 (LINEAGE_BAD_ID), an unknown one a 404
// (LINEAGE_NOT_FOUND), a node that records no lineage a 404 (LINEAGE_OFF).

import { AgentOsError } from '../base/errors.js';
import { lineageOf, type LineageRecorder } from '../services/telemetry/lineage.js';
import { LineageCodes, type LineageTurn } from '../services/telemetry/lineage-record.js';
import { ControlError, queryNumber, queryString, type ControlRoute } from './control-request.js';
import type { AgentOsNode } from './node.js';

export interface TraceResponse {
  node: string;
  /** What was asked for: a trace id or `<actor>#<turn>`. */
  id: string;
  /** The turns, in the order they were recorded. */
  turns: LineageTurn[];
}

export interface RecentTracesResponse {
  node: string;
  /** The newest turns first. */
  turns: LineageTurn[];
}

function recorder(node: AgentOsNode): LineageRecorder {
  const lineage = lineageOf(node.kernel);
  if (!lineage) throw new ControlError(404, LineageCodes.off, `node "${node.name}" records no lineage (createNode({ lineage: false }))`, { field: 'node' });
  return lineage;
}

/** The recorder's typed errors with the HTTP status they answer with. */
function answering<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AgentOsError && !(err instanceof ControlError)) {
      const status = err.code === LineageCodes.notFound ? 404 : 400;
      throw new ControlError(status, err.code, err.message, err.field === undefined ? {} : { field: err.field });
    }
    throw err;
  }
}

export const LINEAGE_ROUTES: readonly ControlRoute[] = [
  {
    method: 'GET',
    path: '/v1/trace',
    query: ['actor', 'limit'],
    handle: ({ node, query }): RecentTracesResponse => {
      const actor = queryString(query, 'actor');
      const limit = queryNumber(query, 'limit');
      const turns = answering(() => recorder(node).recent({ ...(actor === undefined ? {} : { actor }), ...(limit === undefined ? {} : { limit }) }));
      return { node: node.name, turns };
    },
  },
  {
    method: 'GET',
    path: '/v1/trace/:id',
    handle: ({ node, params }): TraceResponse => {
      const id = params.id!;
      return { node: node.name, id, turns: answering(() => recorder(node).find(id)) };
    },
  },
];
