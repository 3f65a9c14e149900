// A contract-net bidder as an agentos agent, from two functions: `evaluate` turns
// a call for proposals into a bid (price, ETA, quality) or a refusal, `execute`
// does the work once the bid wins (its return value is the `inform` result, a
// throw or rejection becomes `failure`). The bidder answers only the manager that
// asked, executes only what it bid for at the price it bid, and drops the work
// when the manager cancels. `replyAfterMs` and `workMs` model think and work time
// on the node clock (simulations, experiments); by default both are immediate.

import { enqueueActions, fromPromise, setup, type AnyStateMachine } from 'xstate';
import { z } from 'zod';
import { tell } from '../../actors/reply.js';
import { defineAgent, type AgentConfig, type AgentDefinition, type RuntimeContractView } from '../../actors/define.js';
import { MarketCodes, MarketError } from './errors.js';
import { bidderMessages, type AcceptMessage, type BidderMessage, type CfpMessage, type ProposeMessage, type RefuseMessage } from './messages.js';
import { senderOf } from './service.js';

/** A call for proposals, as a bidder's `evaluate` sees it. */
export interface CallForProposals {
  /** This bidder's own actor id (one definition may serve many bidders). */
  bidder: string;
  conversationId: string;
  /** The manager's actor id. */
  manager: string;
  taskId: string;
  task: unknown;
  maxPrice: number;
  currency: string | undefined;
  replyWithinMs: number;
  attempt: number;
}

/** A won contract, as `execute` sees it. */
export interface Award {
  /** This bidder's own actor id. */
  bidder: string;
  conversationId: string;
  manager: string;
  taskId: string;
  task: unknown;
  price: number;
  executeWithinMs: number;
}

export interface Bid {
  price: number;
  etaMs: number;
  /** 0 (worst) to 1 (best). */
  quality: number;
}

/** A bid, or a refusal (`{ refuse: why }`; undefined refuses without a reason). */
export type Evaluation = Bid | { refuse: string } | undefined;

export interface BidderOptions {
  /** Agent name (default `contract-net-bidder`). */
  name?: string;
  version?: string;
  /** Price a task, or refuse it. Synchronous and deterministic (it runs inside the machine's turn). */
  evaluate(cfp: CallForProposals): Evaluation;
  /** Do the work: the value (JSON) is sent in `inform`; a throw or rejection is sent as `failure`. */
  execute(award: Award): unknown;
  /** Node-clock ms between the cfp and the answer (default 0). */
  replyAfterMs?(cfp: CallForProposals): number;
  /** Node-clock ms between the award and running `execute` (default 0). */
  workMs?(award: Award): number;
  contract?: RuntimeContractView | string;
  persistent?: AgentConfig['persistent'];
}

interface Contracted {
  manager: string;
  taskId: string;
  price: number;
}

export interface BidderState {
  /** Proposals waiting for accept or reject, by conversation. */
  offers: Record<string, Contracted>;
  /** Won contracts being executed, by conversation. */
  working: Record<string, Contracted>;
  stats: { cfps: number; proposed: number; refused: number; won: number; lost: number; done: number; failed: number; cancelled: number };
}

type Answer = ProposeMessage | RefuseMessage;
type BidderEvent =
  | BidderMessage
  | { type: 'bidder.answer'; to: string; message: Answer }
  | { type: 'bidder.work'; award: Award }
  | { type: `xstate.done.actor.${string}`; actorId: string; output: unknown }
  | { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

const EXEC = 'exec:';
const isJson = z.json();

export function bidder(options: BidderOptions): AgentDefinition<AnyStateMachine, typeof bidderMessages> {
  checkOptions(options);
  const machine = setup({
    types: { context: {} as BidderState, events: {} as BidderEvent },
    actors: { execute: fromPromise<unknown, Award>(async ({ input }) => options.execute(input)) },
  }).createMachine({
    id: 'contract-net-bidder',
    context: () => ({ offers: {}, working: {}, stats: { cfps: 0, proposed: 0, refused: 0, won: 0, lost: 0, done: 0, failed: 0, cancelled: 0 } }),
    initial: 'serving',
    states: {
      serving: {
        on: {
          cfp: {
            actions: enqueueActions(({ context, event, enqueue, system, self }) => {
              const from = senderOf(system);
              if (from !== undefined && from !== event.sender) return; // an impostor's cfp gets no answer
              const cfp = cfpView(event, self.id);
              const answer = evaluate(options, cfp);
              const stats = { ...context.stats, cfps: context.stats.cfps + 1 };
              if (answer.type === 'propose') {
                stats.proposed++;
                enqueue.assign({ offers: { ...context.offers, [cfp.conversationId]: { manager: cfp.manager, taskId: cfp.taskId, price: answer.price } }, stats });
              } else {
                stats.refused++;
                enqueue.assign({ stats });
              }
              const delay = options.replyAfterMs ? Math.max(0, Math.round(options.replyAfterMs(cfp))) : 0;
              if (delay > 0) enqueue.raise({ type: 'bidder.answer', to: cfp.manager, message: answer }, { delay, id: `answer:${cfp.conversationId}` });
              else enqueue(send(cfp.manager, answer));
            }),
          },
          'bidder.answer': { actions: enqueueActions(({ event, enqueue }) => enqueue(send(event.to, event.message))) },
          'accept-proposal': {
            actions: enqueueActions(({ context, event, enqueue, system, self }) => {
              const offer = context.offers[event.conversationId];
              const from = senderOf(system);
              // Only a contract this bidder offered, from the manager it offered it to, at its price.
              if (!offer || offer.manager !== event.sender || (from !== undefined && from !== offer.manager) || offer.price !== event.price) return;
              const offers = { ...context.offers };
              delete offers[event.conversationId];
              enqueue.assign({ offers, working: { ...context.working, [event.conversationId]: offer }, stats: { ...context.stats, won: context.stats.won + 1 } });
              const award = awardView(event, self.id);
              const delay = options.workMs ? Math.max(0, Math.round(options.workMs(award))) : 0;
              if (delay > 0) enqueue.raise({ type: 'bidder.work', award }, { delay, id: `work:${award.conversationId}` });
              else enqueue.spawnChild('execute', { id: EXEC + award.conversationId, input: award });
            }),
          },
          'bidder.work': {
            actions: enqueueActions(({ context, event, enqueue }) => {
              if (context.working[event.award.conversationId]) enqueue.spawnChild('execute', { id: EXEC + event.award.conversationId, input: event.award });
            }),
          },
          'xstate.done.actor.*': {
            actions: enqueueActions(({ context, event, enqueue, self }) => {
              const e = event as { actorId: string; output: unknown };
              const cid = e.actorId.slice(EXEC.length);
              const job = context.working[cid];
              if (!job) return;
              const result = e.output === undefined ? null : e.output;
              const ok = isJson.safeParse(result).success;
              enqueue.assign(finished(context, cid, ok ? 'done' : 'failed'));
              enqueue(
                send(
                  job.manager,
                  ok
                    ? { type: 'inform', conversationId: cid, sender: self.id, result: result as z.infer<typeof isJson> }
                    : { type: 'failure', conversationId: cid, sender: self.id, reason: 'execute returned a value that is not JSON data' },
                ),
              );
            }),
          },
          'xstate.error.actor.*': {
            actions: enqueueActions(({ context, event, enqueue, self }) => {
              const e = event as { actorId: string; error: unknown };
              const cid = e.actorId.slice(EXEC.length);
              const job = context.working[cid];
              if (!job) return;
              enqueue.assign(finished(context, cid, 'failed'));
              const why = e.error instanceof Error ? e.error.message : String(e.error);
              enqueue(send(job.manager, { type: 'failure', conversationId: cid, sender: self.id, reason: why.slice(0, 4096) }));
            }),
          },
          'reject-proposal': {
            actions: enqueueActions(({ context, event, enqueue }) => {
              const offer = context.offers[event.conversationId];
              if (!offer || offer.manager !== event.sender) return;
              const offers = { ...context.offers };
              delete offers[event.conversationId];
              enqueue.assign({ offers, stats: { ...context.stats, lost: context.stats.lost + 1 } });
            }),
          },
          cancel: {
            actions: enqueueActions(({ context, event, enqueue, system }) => {
              const job = context.working[event.conversationId];
              const from = senderOf(system);
              if (!job || job.manager !== event.sender || (from !== undefined && from !== job.manager)) return;
              enqueue.cancel(`work:${event.conversationId}`);
              enqueue.stopChild(EXEC + event.conversationId);
              enqueue.assign(finished(context, event.conversationId, 'cancelled'));
            }),
          },
        },
      },
    },
  });
  return defineAgent({
    name: options.name ?? 'contract-net-bidder',
    ...(options.version === undefined ? {} : { version: options.version }),
    machine,
    messages: bidderMessages,
    ...(options.contract === undefined ? {} : { contract: options.contract }),
    ...(options.persistent === undefined ? {} : { persistent: options.persistent }),
  });
}

const send = (to: string, m: Answer | { type: 'inform' | 'failure'; conversationId: string; [k: string]: unknown }) =>
  tell(to, m, { conversationId: m.conversationId, performative: m.type });

function finished(context: BidderState, cid: string, how: 'done' | 'failed' | 'cancelled'): Partial<BidderState> {
  const working = { ...context.working };
  delete working[cid];
  return { working, stats: { ...context.stats, [how]: context.stats[how] + 1 } };
}

const cfpView = (m: CfpMessage, self: string): CallForProposals => ({
  bidder: self,
  conversationId: m.conversationId,
  manager: m.sender,
  taskId: m.taskId,
  task: m.task,
  maxPrice: m.maxPrice,
  currency: m.currency,
  replyWithinMs: m.replyWithinMs,
  attempt: m.attempt,
});

const awardView = (m: AcceptMessage, self: string): Award => ({
  bidder: self,
  conversationId: m.conversationId,
  manager: m.sender,
  taskId: m.taskId,
  task: m.task,
  price: m.price,
  executeWithinMs: m.executeWithinMs,
});

/** The answer to a cfp: a checked bid, or a refusal (a throw or a malformed bid is a refusal saying so). */
function evaluate(options: BidderOptions, cfp: CallForProposals): Answer {
  const self = cfp.bidder;
  const refuse = (why: string | undefined): RefuseMessage => ({
    type: 'refuse',
    conversationId: cfp.conversationId,
    sender: self,
    ...(why === undefined ? {} : { reason: why.slice(0, 4096) }),
  });
  let e: Evaluation;
  try {
    e = options.evaluate(cfp);
  } catch (err) {
    return refuse(`evaluate threw: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (e === undefined || e === null) return refuse(undefined);
  if ('refuse' in e) return refuse(String(e.refuse));
  const { price, etaMs, quality } = e;
  if (!(typeof price === 'number' && Number.isFinite(price) && price >= 0)) return refuse(`invalid bid: price must be a finite number >= 0 (got ${String(price)})`);
  if (!(typeof etaMs === 'number' && Number.isFinite(etaMs) && etaMs >= 0)) return refuse(`invalid bid: etaMs must be a finite number >= 0 (got ${String(etaMs)})`);
  if (!(typeof quality === 'number' && quality >= 0 && quality <= 1)) return refuse(`invalid bid: quality must be from 0 to 1 (got ${String(quality)})`);
  return { type: 'propose', conversationId: cfp.conversationId, sender: self, price, etaMs: Math.round(etaMs), quality };
}

function checkOptions(o: BidderOptions): void {
  const bad = (field: string, why: string): never => {
    throw new MarketError(MarketCodes.invalidOptions, `bidder: ${field} ${why}`, { field });
  };
  if (o === null || typeof o !== 'object') bad('options', 'must be an object');
  if (typeof o.evaluate !== 'function') bad('evaluate', 'must be a function (cfp) => { price, etaMs, quality } | { refuse }');
  if (typeof o.execute !== 'function') bad('execute', 'must be a function (award) => result');
  if (o.replyAfterMs !== undefined && typeof o.replyAfterMs !== 'function') bad('replyAfterMs', 'must be a function (cfp) => ms');
  if (o.workMs !== undefined && typeof o.workMs !== 'function') bad('workMs', 'must be a function (award) => ms');
}
