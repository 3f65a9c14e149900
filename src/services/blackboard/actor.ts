// The board as an actor: `agentos.blackboard`, under the kernel's system
// supervisor. Each request is a typed message in its mailbox (SRT, top
// priority), handled in turn — so writes are totally ordered and a
// compare-and-set decides against every write before it — and answered through
// the ask it came in (a reply waits until the writes before it are durable).
// Requests are built by the service from a caller's kernel-derived identity
// (actor, tenant, capabilities already checked); a message from an actor is
// refused, so no agent can name another's tenant or identity here. Let it crash:
// a typed refusal is an answer, an untyped error is a bug that restarts the
// actor (the board's state lives in the service and in LMDB, not in the actor).

import { assign, setup } from 'xstate';
import { z } from 'zod';
import { cellOfSystem } from '../../actors/cell.js';
import { defineAgent, type AgentDefinition } from '../../actors/define.js';

export const BOARD_ID = 'agentos.blackboard';

const tenant = z.string().min(1).max(128);
const name = z.string().min(1).max(512);

export const boardMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('board.post'), tenant, by: name, topic: name, value: z.unknown(), expectedVersion: z.number().int().nonnegative().optional() }),
  z.object({ type: z.literal('board.read'), tenant, topic: name }),
  z.object({ type: z.literal('board.query'), tenant, pattern: name, only: z.array(z.string()).max(1024).optional(), limit: z.number().int().positive().optional() }),
  z.object({ type: z.literal('board.subscribe'), tenant, subscriber: name, pattern: name }),
  z.object({ type: z.literal('board.unsubscribe'), tenant, subscriber: name, pattern: name.optional() }),
  z.object({
    type: z.literal('board.activated'),
    controller: name,
    activation: z.number().int().positive(),
    ok: z.boolean(),
    result: z.unknown().optional(),
    code: z.string().max(128).optional(),
  }),
]);

export type BoardMessage = z.infer<typeof boardMessages>;

/** What the board answers an ask with. */
export type BoardReply = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; field?: string; details?: Record<string, unknown> } };

/** The service side of the actor: handles one message (`from` is the sending actor, undefined from outside). */
export type BoardHandler = (message: BoardMessage, from: string | undefined) => BoardReply | Promise<BoardReply> | undefined;

export function boardDefinition(handle: BoardHandler): AgentDefinition {
  const serve = ({ event, system }: { event: BoardMessage; system: unknown }): void => {
    const cell = cellOfSystem(system);
    const env = cell?.current;
    const out = handle(event, env?.from);
    if (!cell || !env?.replyTo || out === undefined) return;
    // The reply address is kept, so a reply waiting for durability goes out after this turn.
    const to = { replyTo: env.replyTo, correlationId: env.correlationId };
    const send = (value: BoardReply): void => cell.host.reply(cell, to, value);
    if (out instanceof Promise) void out.then(send);
    else send(out);
  };
  const handled = assign({ handled: ({ context }: { context: { handled: number } }) => context.handled + 1 });
  const on = Object.fromEntries(MESSAGE_TYPES.map((type) => [type, { actions: [serve, handled] }]));
  const machine = setup({
    types: { context: {} as { handled: number }, events: {} as BoardMessage },
  }).createMachine({
    id: BOARD_ID,
    context: { handled: 0 },
    initial: 'serving',
    states: { serving: { on } },
  });
  return defineAgent({ name: BOARD_ID, machine, messages: boardMessages });
}

const MESSAGE_TYPES: readonly BoardMessage['type'][] = ['board.post', 'board.read', 'board.query', 'board.subscribe', 'board.unsubscribe', 'board.activated'];
