// The contract-net manager as an agentos agent: a thin XState shell around the
// pure protocol (protocol.ts). Each message or timer is one protocol step; its
// effects become XState actions — `tell` to bidders (through the kernel, by
// actor id), delayed `raise`s on the node clock for the proposal and execution
// deadlines, audit records through the node's MarketService, and the reply to
// the ask that announced the task.

import { enqueueActions, setup, type AnyStateMachine } from 'xstate';
import { reply, replyHandle, respond, tell, type ActionArgs } from '../../actors/reply.js';
import { defineAgent, type AgentConfig, type AgentDefinition, type RuntimeContractView } from '../../actors/define.js';
import { MarketCodes, MarketError } from './errors.js';
import { ledgerView } from './ledger.js';
import { managerMessages, type ManagerMessage } from './messages.js';
import { initialState, step, type ProtocolEvent } from './protocol.js';
import { actorNow, marketOf, senderOf } from './service.js';
import { strategyByName, type AwardStrategy, type StrategyName } from './strategies.js';
import type { Effect, ManagerState, ProtocolConfig, TimeoutEvent } from './types.js';

export interface ContractNetManagerOptions {
  /** Agent name (default `contract-net-manager`). */
  name?: string;
  version?: string;
  /** Actor ids invited to every task that does not name its own `bidders`. */
  bidders?: string[];
  /** A built-in by name, or any function (default `lowest-price`). */
  strategy?: AwardStrategy | StrategyName;
  /** The name audit records give a function strategy (default its function name, else `custom`). */
  strategyName?: string;
  /**
   * What the manager may spend over its life: charged on award, refunded when the winner fails.
   * Default: the contract's `budgets.currency`, else no limit. Given both, it may not exceed the contract's.
   */
  budget?: number | { amount: number; currency?: string };
  /** How long a round takes proposals, ms (default 1000). */
  deadlineMs?: number;
  /** How long a winner has to `inform`, ms (default 30000). */
  executionMs?: number;
  /** Rounds per task in all, the first included (default 3). */
  maxAttempts?: number;
  /** Close a round as soon as every invited bidder answered (default true). */
  earlyClose?: boolean;
  /** Settled outcomes kept in the context (default 100). */
  keepOutcomes?: number;
  contract?: RuntimeContractView | string;
  persistent?: AgentConfig['persistent'];
}

type ManagerEvent = ManagerMessage | TimeoutEvent;

/** A contract-net manager definition: spawn it, then `ask` it `{ type: 'announce', taskId, task, maxPrice }` for the outcome. */
export function contractNetManager(options: ContractNetManagerOptions = {}): AgentDefinition<AnyStateMachine, typeof managerMessages> {
  const config = protocolConfig(options);
  const { amount, currency } = budgetOf(options);
  const machine = setup({
    types: { context: {} as ManagerState, events: {} as ManagerEvent },
    actions: {
      step: enqueueActions(({ context, event, enqueue, system, self }) => {
        const isAnnounce = event.type === 'announce';
        const requester = isAnnounce ? replyHandle({ context, event, self, system }) : undefined;
        const out = step(context, config, event as ProtocolEvent, { self: self.id, from: senderOf(system), now: actorNow(system), requester });
        enqueue.assign(() => out.state);
        for (const effect of out.effects) perform(enqueue as unknown as Enqueue, effect);
      }),
    },
  }).createMachine({
    id: 'contract-net-manager',
    context: () => initialState(amount, currency),
    initial: 'serving',
    states: {
      serving: {
        on: {
          announce: { actions: 'step' },
          propose: { actions: 'step' },
          refuse: { actions: 'step' },
          inform: { actions: 'step' },
          failure: { actions: 'step' },
          'market.timeout': { actions: 'step' },
          status: { actions: reply(({ context }) => managerStatus(context as ManagerState)) },
        },
      },
    },
  });
  return defineAgent({
    name: options.name ?? 'contract-net-manager',
    ...(options.version === undefined ? {} : { version: options.version }),
    machine,
    messages: managerMessages,
    ...(options.contract === undefined ? {} : { contract: options.contract }),
    ...(options.persistent === undefined ? {} : { persistent: options.persistent }),
  });
}

/** What a `status` ask answers: the budget, the open tasks, counters. */
export function managerStatus(state: ManagerState) {
  return {
    budget: ledgerView(state.ledger),
    open: Object.values(state.tasks).map((t) => ({
      taskId: t.taskId,
      phase: t.phase,
      attempt: t.attempt,
      conversationId: t.conversationId,
      proposals: t.proposals.length,
      winner: t.winner?.bidder ?? null,
    })),
    outcomes: state.outcomes.length,
    stats: state.stats,
  };
}

/** The part of XState's `enqueue` the effects use (its full generic type does not survive being passed around). */
interface Enqueue {
  (action: (args: ActionArgs) => void): void;
  raise(event: TimeoutEvent, options: { delay: number; id: string }): void;
  cancel(id: string): void;
}

/** Carry out one effect of a protocol step as an XState action. */
function perform(enqueue: Enqueue, effect: Effect): void {
  switch (effect.kind) {
    case 'send': {
      const m = effect.message;
      enqueue(tell(effect.to, m, { conversationId: m.conversationId, performative: m.type }));
      return;
    }
    case 'timer':
      enqueue.raise(effect.event, { delay: effect.delayMs, id: effect.id });
      return;
    case 'cancel-timer':
      enqueue.cancel(effect.id);
      return;
    case 'audit':
      enqueue(({ system, self }: ActionArgs) => marketOf(system).record(self.id, effect.decision, effect.subject, effect.data, effect.reason));
      return;
    case 'reply':
      enqueue(respond(() => effect.to, () => effect.value));
      return;
    case 'notify':
      enqueue(tell(effect.to, { type: 'market.outcome', outcome: effect.outcome } as { type: string }));
      return;
  }
}

// ── options ─────────────────────────────────────────────────────────────

const bad = (field: string, why: string): never => {
  throw new MarketError(MarketCodes.invalidOptions, `contractNetManager: ${field} ${why}`, { field });
};

function positiveInt(value: number | undefined, fallback: number, field: string, max = 2 ** 31 - 1): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value >= 1 && value <= max)) bad(field, `must be an integer from 1 to ${max} (got ${String(value)})`);
  return value;
}

function protocolConfig(o: ContractNetManagerOptions): ProtocolConfig {
  if (o === null || typeof o !== 'object') bad('options', 'must be an object');
  if (o.bidders !== undefined && !(Array.isArray(o.bidders) && o.bidders.every((b) => typeof b === 'string' && b.length > 0 && b.length <= 256))) {
    bad('bidders', 'must be a list of actor ids');
  }
  let strategy: AwardStrategy;
  let strategyName: string;
  if (o.strategy === undefined || typeof o.strategy === 'string') {
    strategyName = o.strategy ?? 'lowest-price';
    strategy = strategyByName(strategyName);
  } else if (typeof o.strategy === 'function') {
    strategy = o.strategy;
    strategyName = o.strategyName ?? (o.strategy.name || 'custom');
  } else {
    return bad('strategy', "must be 'lowest-price', 'best-value', 'earliest-eta' or a function (proposals, context) => proposal");
  }
  if (o.earlyClose !== undefined && typeof o.earlyClose !== 'boolean') bad('earlyClose', 'must be true or false');
  return {
    bidders: [...(o.bidders ?? [])],
    deadlineMs: positiveInt(o.deadlineMs, 1000, 'deadlineMs'),
    executionMs: positiveInt(o.executionMs, 30_000, 'executionMs'),
    maxAttempts: positiveInt(o.maxAttempts, 3, 'maxAttempts', 100),
    strategy,
    strategyName,
    earlyClose: o.earlyClose ?? true,
    keepOutcomes: positiveInt(o.keepOutcomes, 100, 'keepOutcomes', 1_000_000),
  };
}

/** The budget from the options, bounded by the contract's `budgets.currency` (which is the default). */
function budgetOf(o: ContractNetManagerOptions): { amount: number | undefined; currency: string } {
  const fromContract = typeof o.contract === 'object' && o.contract !== null ? (o.contract.budgets as { currency?: { amount?: unknown; code?: unknown } } | undefined)?.currency : undefined;
  const cap = fromContract && typeof fromContract.amount === 'number' && typeof fromContract.code === 'string' ? { amount: fromContract.amount, code: fromContract.code } : undefined;
  if (o.budget === undefined) return { amount: cap?.amount, currency: cap?.code ?? 'credits' };
  const amount = typeof o.budget === 'number' ? o.budget : o.budget?.amount;
  const currency = (typeof o.budget === 'object' ? o.budget.currency : undefined) ?? cap?.code ?? 'credits';
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) return bad('budget', `must be a finite amount >= 0 (got ${String(amount)})`);
  if (typeof currency !== 'string' || currency.length === 0 || currency.length > 16) return bad('budget.currency', 'must be a currency name of 1-16 characters');
  if (cap && (cap.code !== currency || amount > cap.amount)) bad('budget', `${amount} ${currency} exceeds the contract's budgets.currency (${cap.amount} ${cap.code})`);
  return { amount, currency };
}
