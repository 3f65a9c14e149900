// The agent side of the board: invoke the `blackboard` logic from a machine and
// the statechart shows where the agent waits for the board.
//
//   setup({ actors: { blackboard } }) …
//   posting: { invoke: { src: 'blackboard', input: { op: 'post', topic: 'sum', value: 3, expectedVersion: 2 },
//                        onDone: 'posted', onError: 'conflict' } }
//
// The caller is the invoking actor, as the kernel knows it (its cell), never a
// name in the input; its tenant and capabilities come from its admission.

import { fromPromise } from 'xstate';
import { cellOfSystem } from '../../actors/cell.js';
import { AgentOsError } from '../../base/errors.js';
import { BlackboardCodes, BlackboardError } from './errors.js';
import type { BlackboardRequest } from './requests.js';
import { BlackboardService } from './service.js';

/** Ask the node's blackboard: resolves with the entry (post), the entry or null (read), the entries (query), null (subscribe) or a count (unsubscribe). */
export const blackboard = fromPromise<unknown, BlackboardRequest>(async ({ input, system }) => {
  const cell = cellOfSystem(system);
  if (!cell) throw new AgentOsError('NOT_AN_AGENT', 'blackboard: this machine is not running as an agentos actor');
  const service = BlackboardService.of(cell.host);
  if (!service) throw new BlackboardError(BlackboardCodes.unavailable, 'blackboard: this node runs no blackboard service', { field: 'blackboard' });
  return service.request(cell.id, input);
});
