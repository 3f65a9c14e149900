// Starting an HRT lane actor: admitted like any actor (its contract, policy and
// a place on a lane by partitioned EDF), started on its lane's worker thread
// from its module, and represented on the main thread by a proxy cell. The
// proxy keeps the kernel's path intact — messages are validated, checked by
// policy, ordered by deadline in an EDF mailbox — and forwards each one to the
// lane's inbound ring; the real machine runs on the lane at its releases.

import { setup } from 'xstate';
import { SHUTDOWN_EVENT, type ActorCell } from '../actors/cell.js';
import { defineAgent, type AgentDefinition } from '../actors/define.js';
import { ActorError, AgentOsError, ErrorCodes } from '../base/errors.js';
import type { ExitReason } from '../base/exit.js';
import type { ChildHandle, ChildSpec } from '../supervisors/types.js';
import type { HrtLanes } from './hrt/lanes.js';
import { createCell, type LeafDeps } from './leaf.js';

export async function startLaneLeaf(
  k: LeafDeps & { lanes: HrtLanes },
  spec: ChildSpec<unknown>,
  context: { parentPath: string; incarnation: number },
  onExit: (reason: ExitReason) => void,
  def: AgentDefinition,
  input: unknown,
): Promise<ChildHandle> {
  const id = spec.id;
  const path = `${context.parentPath}/${id}`;
  let cell = k.cells.get(id);
  const fresh = !cell || cell.def.name !== def.name || cell.def.version !== def.version;
  if (fresh) {
    const admitted = k.governance.admit(id, def, k.tenants.of(path));
    try {
      const slo = admitted.contract.class.slo as { period_ms?: number; deadline_ms?: number; wcet_ms?: number } | undefined;
      if (admitted.profile.latency !== 'HRT' || admitted.lane === undefined || !slo?.period_ms || !slo.wcet_ms) {
        throw new ActorError(ErrorCodes.invalidAgent, `"${id}": an actor with a lane must have an HRT contract (class.latency: HRT with period_ms and wcet_ms)`, { field: 'lane' });
      }
      const lane = def.lane!;
      if (!k.lanes.has(id)) {
        await k.lanes.add(id, admitted.lane, {
          module: lane.module,
          export: lane.export,
          ...(input === undefined ? {} : { input }),
          task: { periodMs: slo.period_ms, deadlineMs: slo.deadline_ms ?? slo.period_ms, wcetMs: slo.wcet_ms, overrun: lane.overrun ?? 'skip', maxMessages: lane.maxMessages ?? 64 },
          ...(lane.safeDefault ? { safeDefault: lane.safeDefault } : {}),
          ...(lane.direct ? { direct: lane.direct } : {}),
        });
      }
      let proxyCell: ActorCell | undefined;
      const proxy = laneProxy(def, (event) => {
        try {
          k.lanes.send(id, event);
        } catch (err) {
          // A full ring refuses the message: it becomes a dead letter, the proxy carries on.
          if (proxyCell?.current) k.router.undeliverable(proxyCell.current, err instanceof AgentOsError ? err.message : String(err));
        }
      });
      cell = proxyCell = createCell(k, id, path, context.parentPath, proxy, admitted.tenant, admitted.profile);
    } catch (err) {
      k.lanes.remove(id);
      k.governance.release(id);
      throw err;
    }
  }
  const started = cell!;
  k.cells.set(id, started);
  k.owners.set(id, context.parentPath);
  k.exits.set(id, { onExit, restart: spec.restart ?? 'permanent' });
  started.start(context.incarnation);
  k.emit({ type: '@agentos.actor.started', id, parent: context.parentPath || '/', path, incarnation: context.incarnation, lane: true });
  return {
    id,
    stop: async (timeoutMs) => {
      await started.stop(timeoutMs);
      k.lanes.remove(id);
      k.emit({ type: '@agentos.actor.stopped', id, reason: 'shutdown', incarnation: started.incarnation });
    },
  };
}

/** The main thread's stand-in for a lane actor: every message it is given goes to the lane. */
function laneProxy(def: AgentDefinition, forward: (event: { type: string }) => void): AgentDefinition {
  const machine = setup({}).createMachine({
    id: `${def.name}.lane-proxy`,
    // The kernel's shutdown request is for the proxy (which stops at once), not a message for the lane machine.
    on: { '*': { guard: ({ event }) => event.type !== SHUTDOWN_EVENT, actions: ({ event }) => forward(event) } },
  });
  return defineAgent({ name: def.name, version: def.version, machine, messages: def.messages, ...(def.contract === undefined ? {} : { contract: def.contract }) });
}
