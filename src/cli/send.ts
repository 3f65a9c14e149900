// `agentos send` and `agentos ask`: a message to an actor of a running node,
// through its local control endpoint. The node validates it exactly as a
// `ref.send` from code (schema, type, options), so a refusal carries the
// kernel's own code (INVALID_MESSAGE, UNKNOWN_MESSAGE_TYPE, UNKNOWN_ACTOR, …).

import { InvalidArgumentError, type Command } from 'commander';
import type { AskResponse, SendResponse } from '../node/control.js';
import { callNode, helpAfter, withNodeTarget, type NodeTarget } from './control-client.js';
import type { CliIo } from './exit.js';

interface MessageOpts extends NodeTarget {
  priority?: number;
  deadlineMs?: number;
  timeoutMs?: number;
}

/** The `<json>` argument: any JSON value (the node says whether it is a message the actor takes). */
export function jsonArgument(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(`not JSON (${(err as Error).message}); quote it for the shell, e.g. '{"type":"inc","by":1}'.`);
  }
}

function priority(value: string): number {
  const n = Number(value);
  if (!/^\d$/.test(value)) throw new InvalidArgumentError('expected an SRT priority 0-9 (9 is the most urgent).');
  return n;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number of milliseconds (>= 0).');
  return n;
}

/** The route path with the send options as query parameters. */
function messagePath(actor: string, verb: 'send' | 'ask', opts: MessageOpts): string {
  const query = new URLSearchParams();
  if (opts.priority !== undefined) query.set('priority', String(opts.priority));
  if (opts.deadlineMs !== undefined) query.set('deadlineMs', String(opts.deadlineMs));
  if (opts.timeoutMs !== undefined) query.set('timeoutMs', String(opts.timeoutMs));
  const q = query.toString();
  return `/v1/actors/${encodeURIComponent(actor)}/${verb}${q === '' ? '' : `?${q}`}`;
}

function withMessage(cmd: Command): Command {
  return withNodeTarget(cmd)
    .argument('<actor>', 'id of the actor')
    .argument('<json>', 'the message, as JSON: an object with a "type" the actor takes', jsonArgument)
    .option('--priority <n>', 'SRT priority 0-9 (default: the target contract’s)', priority)
    .option('--deadline-ms <ms>', 'relative deadline for HRT (default: the target contract’s)', milliseconds);
}

/** The kernel's default ask timeout (src/kernel/router.ts), for the client's own wait. */
const DEFAULT_ASK_TIMEOUT_MS = 5000;

export function registerSendCommands(program: Command, io: CliIo): void {
  withMessage(program.command('send'))
    .description('send a message to an actor of a running node; returns once the node accepted it (journaled, for a persistent actor)')
    .addHelpText(
      'after',
      helpAfter(
        `agentos send counter '{"type":"inc","by":2}'`,
        `agentos send guard '{"type":"stop"}' --deadline-ms 5 --node edge-1`,
        `agentos send copilot '{"type":"utterance","text":"book a room"}' --priority 8`,
      ),
    )
    .action(async (actor: string, message: unknown, opts: MessageOpts) => {
      const answer = await callNode<SendResponse>(opts, messagePath(actor, 'send', opts), { method: 'POST', body: message });
      io.err(`sent "${answer.type}" to ${answer.actor} on node "${answer.node}"`);
    });

  withMessage(program.command('ask'))
    .description('ask an actor of a running node and print its reply as JSON')
    .option('--timeout-ms <ms>', 'how long to wait for the reply', (v) => Math.ceil(milliseconds(v)), DEFAULT_ASK_TIMEOUT_MS)
    .addHelpText(
      'after',
      helpAfter(`agentos ask counter '{"type":"get"}'`, `agentos ask planner '{"type":"plan","goal":"ship"}' --timeout-ms 30000 | jq .steps`),
    )
    .action(async (actor: string, message: unknown, opts: MessageOpts) => {
      const answer = await callNode<AskResponse>(opts, messagePath(actor, 'ask', opts), { method: 'POST', body: message, waitMs: opts.timeoutMs });
      io.out(JSON.stringify(answer.reply, null, 2));
    });
}
