// Action helpers through which a machine reaches the world: `reply` answers the
// message being handled, `tell` sends to another actor. Both go through the
// kernel (the cell's host), never to another actor directly.

import { AgentOsError } from '../base/errors.js';
import { cellOfSystem, type ActorCell } from './cell.js';
import type { SendOptions } from './envelope.js';

/** The arguments XState passes to an action (loosely typed so helpers fit any machine). */
export interface ActionArgs {
  context: any;
  event: any;
  self: any;
  system: any;
}

type Computed<T> = T | ((args: ActionArgs) => T);

const resolve = <T>(value: Computed<T>, args: ActionArgs): T =>
  typeof value === 'function' ? (value as (a: ActionArgs) => T)(args) : value;

/** Where to send a reply later: serialisable, so it can live in context and checkpoints. */
export interface ReplyHandle {
  replyTo: string;
  correlationId?: string;
  conversationId?: string;
}

export class ReplyError extends AgentOsError {}

function cellFor(args: ActionArgs, helper: string): ActorCell {
  const cell = cellOfSystem(args.system ?? args.self?.system);
  if (!cell) {
    throw new ReplyError('NOT_AN_AGENT', `${helper}: this machine is not running as an agentos actor`);
  }
  return cell;
}

/**
 * Reply to the message being handled (an `ask`, or a message with `replyTo`).
 * A message sent without a reply address ignores the reply.
 *   on: { get: { actions: reply(({ context }) => context.count) } }
 */
export function reply(value: (args: ActionArgs) => unknown): (args: ActionArgs) => void {
  return (args) => {
    const cell = cellFor(args, 'reply');
    const env = cell.current;
    if (!env?.replyTo) return;
    cell.host.reply(cell, env, value(args));
  };
}

/**
 * The reply address of the message being handled, to answer it later (for
 * example when an invoked call finishes): keep it in context, then `respond`.
 * Returns undefined when the message expects no reply.
 */
export function replyHandle(args: ActionArgs): ReplyHandle | undefined {
  const env = cellFor(args, 'replyHandle').current;
  if (!env?.replyTo) return undefined;
  return {
    replyTo: env.replyTo,
    ...(env.correlationId === undefined ? {} : { correlationId: env.correlationId }),
    ...(env.conversationId === undefined ? {} : { conversationId: env.conversationId }),
  };
}

/** Answer a reply handle kept earlier. */
export function respond(
  handle: (args: ActionArgs) => ReplyHandle | undefined,
  value: (args: ActionArgs) => unknown,
): (args: ActionArgs) => void {
  return (args) => {
    const cell = cellFor(args, 'respond');
    const h = handle(args);
    if (!h) return;
    cell.host.reply(cell, h, value(args));
  };
}

/**
 * Send a message to another actor through the kernel.
 *   actions: tell('logger', ({ event }) => ({ type: 'log', line: event.text }))
 */
export function tell(
  to: Computed<string>,
  message: Computed<{ type: string }>,
  options?: Computed<SendOptions>,
): (args: ActionArgs) => void {
  return (args) => {
    const cell = cellFor(args, 'tell');
    cell.host.tell(cell, resolve(to, args), resolve(message, args), options === undefined ? undefined : resolve(options, args));
  };
}
