// The contract-net protocol of one manager as a pure function: (state, message,
// sender, now) → (new state, effects). No clock, no I/O, no actor: the machine
// shell (manager.ts) feeds it messages and timer events and carries out the
// effects (sends, timers, audit records, replies). What it guarantees, checked
// by property tests: the budget is never over-charged; a task has at most one
// winner at a time; every task ends done or failed with a typed reason; a bid
// after its round closed is refused (MARKET_BID_LATE) and changes nothing else.

import type { ReplyHandle } from '../../actors/reply.js';
import { MarketCodes, reason, type MarketReason } from './errors.js';
import { canPay, charge, fromMicros, openLedger, refund, remainingMicros } from './ledger.js';
import type { AnnounceMessage, FailureMessage, InformMessage, ProposeMessage, RefuseMessage } from './messages.js';
import type { Proposal } from './strategies.js';
import { emptyStats, type Effect, type Json, type ManagerState, type MarketStats, type Outcome, type ProtocolConfig, type TaskState, type TimeoutEvent } from './types.js';

export type ProtocolEvent = AnnounceMessage | ProposeMessage | RefuseMessage | InformMessage | FailureMessage | TimeoutEvent;

export interface StepInput {
  /** The manager's own actor id. */
  self: string;
  /** The sender the kernel vouches for (the envelope's `from`); undefined for timers and senders outside any actor. */
  from: string | undefined;
  /** Node-clock time of this step. */
  now: number;
  /** Where to reply to an `announce` that came as an ask. */
  requester?: ReplyHandle | undefined;
}

export function initialState(budget: number | undefined, currency: string): ManagerState {
  return { ledger: openLedger(budget, currency), tasks: {}, rounds: {}, outcomes: [], stats: emptyStats(), seq: 0 };
}

export const deadlineTimer = (conversationId: string): string => `deadline:${conversationId}`;
export const executionTimer = (conversationId: string): string => `execution:${conversationId}`;

/** One step of the protocol. Never throws on any message the schemas accept. */
export function step(state: ManagerState, config: ProtocolConfig, event: ProtocolEvent, input: StepInput): { state: ManagerState; effects: Effect[] } {
  const s = new Step(state, config, input);
  switch (event.type) {
    case 'announce':
      s.announce(event);
      break;
    case 'propose':
      s.propose(event);
      break;
    case 'refuse':
      s.refuse(event);
      break;
    case 'inform':
      s.inform(event);
      break;
    case 'failure':
      s.failure(event);
      break;
    case 'market.timeout':
      s.timeout(event);
      break;
  }
  return { state: s.finish(), effects: s.effects };
}

class Step {
  readonly effects: Effect[] = [];
  /** Counter increments of this step, applied once at the end. */
  private readonly counted: Partial<Record<keyof MarketStats, number>> = {};

  constructor(
    public state: ManagerState,
    private readonly config: ProtocolConfig,
    private readonly input: StepInput,
  ) {}

  // ── messages ────────────────────────────────────────────────────────

  announce(msg: AnnounceMessage): void {
    const open = this.state.tasks[msg.taskId];
    if (open) {
      const why = reason(MarketCodes.duplicateTask, `task "${msg.taskId}" is still open (attempt ${open.attempt}, ${open.phase})`);
      this.audit('announce-refused', msg.taskId, {}, why);
      const now = this.input.now;
      const refused: Outcome = { status: 'failed', taskId: msg.taskId, reason: why, attempts: 0, bids: 0, announcedAt: now, completedAt: now, conversations: [] };
      if (this.input.requester) this.effects.push({ kind: 'reply', to: this.input.requester, value: refused });
      return;
    }
    const bidders = [...new Set(msg.bidders ?? this.config.bidders)].filter((b) => b !== this.input.self);
    const task: TaskState = {
      taskId: msg.taskId,
      task: (msg.task ?? null) as Json,
      maxPrice: msg.maxPrice,
      deadlineMs: msg.deadlineMs ?? this.config.deadlineMs,
      executionMs: msg.executionMs ?? this.config.executionMs,
      maxAttempts: msg.maxAttempts ?? this.config.maxAttempts,
      bidders,
      excluded: [],
      attempt: 0,
      conversationId: '',
      phase: 'collecting',
      invited: [],
      responses: {},
      responded: 0,
      proposals: [],
      winner: null,
      announcedAt: this.input.now,
      awardedAt: null,
      bids: 0,
      conversations: [],
      requester: this.input.requester ?? null,
      notify: msg.notify ?? null,
    };
    this.stats('announced');
    this.startRound(task);
  }

  propose(msg: ProposeMessage): void {
    const refuse = (code: (typeof MarketCodes)[keyof typeof MarketCodes], message: string, decision = 'bid-refused'): void => {
      const why = reason(code, message);
      this.stats(decision === 'bid-late' ? 'lateBids' : 'refusedBids');
      this.audit(decision, taskId ?? msg.conversationId, { conversationId: msg.conversationId, bidder: msg.sender, price: msg.price }, why);
      // A forged sender hears nothing back in the name it used: the reply goes to whoever really sent it.
      const to = this.input.from ?? msg.sender;
      this.send(to, { type: 'reject-proposal', conversationId: msg.conversationId, sender: this.input.self, ...(taskId === undefined ? {} : { taskId }), reason: why });
    };
    const taskId = this.state.rounds[msg.conversationId];
    if (this.forged(msg.sender)) return refuse(MarketCodes.senderMismatch, `proposal names sender "${msg.sender}" but came from "${this.input.from}"`);
    if (taskId === undefined) return refuse(MarketCodes.unknownConversation, `no conversation "${msg.conversationId}" at manager "${this.input.self}"`);
    const t = this.state.tasks[taskId];
    if (!t || t.conversationId !== msg.conversationId || t.phase !== 'collecting') {
      return refuse(MarketCodes.bidLate, `proposal for task "${taskId}" arrived after its round (${msg.conversationId}) closed`, 'bid-late');
    }
    if (!t.invited.includes(msg.sender)) return refuse(MarketCodes.notInvited, `"${msg.sender}" was not invited to round ${t.attempt} of task "${taskId}"`);
    if (t.responses[msg.sender] !== undefined) return refuse(MarketCodes.duplicateBid, `"${msg.sender}" already answered round ${t.attempt} of task "${taskId}"`);
    if (msg.price > t.maxPrice) {
      this.respond(t, msg.sender, 'refused');
      refuse(MarketCodes.overMaxPrice, `price ${msg.price} is above the task's maxPrice ${t.maxPrice}`);
    } else {
      const proposal: Proposal = { bidder: msg.sender, price: msg.price, etaMs: msg.etaMs, quality: msg.quality };
      const next = this.respond(t, msg.sender, 'proposed');
      this.setTask({ ...next, proposals: [...next.proposals, proposal], bids: next.bids + 1 });
      this.stats('bids');
      this.audit('bid', taskId, { conversationId: msg.conversationId, bidder: msg.sender, price: msg.price, etaMs: msg.etaMs, quality: msg.quality });
    }
    this.closeIfAllAnswered(taskId);
  }

  refuse(msg: RefuseMessage): void {
    const t = this.collecting(msg.conversationId);
    if (!t || this.forged(msg.sender) || !t.invited.includes(msg.sender) || t.responses[msg.sender] !== undefined) return;
    this.respond(t, msg.sender, 'refused');
    this.stats('declined');
    this.audit('declined', t.taskId, { conversationId: msg.conversationId, bidder: msg.sender, ...(msg.reason === undefined ? {} : { why: msg.reason }) });
    this.closeIfAllAnswered(t.taskId);
  }

  inform(msg: InformMessage): void {
    const t = this.executing(msg.conversationId, msg.sender, 'inform');
    if (!t || !t.winner) return;
    this.effects.push({ kind: 'cancel-timer', id: executionTimer(t.conversationId) });
    this.stats('done');
    const w = t.winner;
    this.audit('done', t.taskId, { conversationId: t.conversationId, bidder: w.bidder, price: w.price, attempt: t.attempt });
    this.settle(t, {
      status: 'done',
      taskId: t.taskId,
      winner: w.bidder,
      price: w.price,
      quality: w.quality,
      etaMs: w.etaMs,
      currency: this.state.ledger.currency,
      result: (msg.result ?? null) as Json,
      attempts: t.attempt,
      bids: t.bids,
      announcedAt: t.announcedAt,
      awardedAt: t.awardedAt ?? this.input.now,
      completedAt: this.input.now,
      conversations: t.conversations,
    });
  }

  failure(msg: FailureMessage): void {
    const t = this.executing(msg.conversationId, msg.sender, 'failure');
    if (!t) return;
    this.effects.push({ kind: 'cancel-timer', id: executionTimer(t.conversationId) });
    this.winnerFailed(t, reason(MarketCodes.executionFailed, `winner "${msg.sender}" failed: ${msg.reason}`));
  }

  timeout(ev: TimeoutEvent): void {
    const taskId = this.state.rounds[ev.conversationId];
    const t = taskId === undefined ? undefined : this.state.tasks[taskId];
    if (!t || t.conversationId !== ev.conversationId) return;
    if (ev.what === 'deadline' && t.phase === 'collecting') this.closeRound(t);
    if (ev.what === 'execution' && t.phase === 'executing' && t.winner) {
      const why = reason(MarketCodes.executionTimeout, `winner "${t.winner.bidder}" sent no inform within ${t.executionMs} ms`);
      this.send(t.winner.bidder, { type: 'cancel', conversationId: t.conversationId, sender: this.input.self, taskId: t.taskId, reason: why });
      this.winnerFailed(t, why);
    }
  }

  // ── rounds ──────────────────────────────────────────────────────────

  private startRound(task: TaskState): void {
    const invited = task.bidders.filter((b) => !task.excluded.includes(b));
    const attempt = task.attempt + 1;
    if (invited.length === 0) {
      const why = task.bidders.length === 0 ? 'no bidders to invite' : `every bidder was excluded after failing (${task.excluded.join(', ')})`;
      return this.fail({ ...task, attempt: Math.max(1, task.attempt) }, reason(MarketCodes.noBidders, why));
    }
    const seq = this.state.seq + 1;
    const conversationId = `${this.input.self}/${task.taskId}/r${seq}`;
    const t: TaskState = {
      ...task,
      attempt,
      conversationId,
      phase: 'collecting',
      invited,
      responses: {},
      responded: 0,
      proposals: [],
      winner: null,
      conversations: [...task.conversations, conversationId],
    };
    this.state = { ...this.state, seq, rounds: { ...this.state.rounds, [conversationId]: t.taskId } };
    this.setTask(t);
    this.stats('rounds');
    if (attempt > 1) this.stats('reannouncements');
    for (const to of invited) {
      this.send(to, {
        type: 'cfp',
        conversationId,
        sender: this.input.self,
        taskId: t.taskId,
        task: t.task,
        maxPrice: t.maxPrice,
        currency: this.state.ledger.currency,
        replyWithinMs: t.deadlineMs,
        attempt,
      });
    }
    this.effects.push({ kind: 'timer', id: deadlineTimer(conversationId), delayMs: t.deadlineMs, event: { type: 'market.timeout', conversationId, what: 'deadline' } });
    this.audit(attempt === 1 ? 'announced' : 'reannounced', t.taskId, {
      conversationId,
      attempt,
      invited: invited.length,
      maxPrice: t.maxPrice,
      deadlineMs: t.deadlineMs,
      ...(t.excluded.length > 0 ? { excluded: t.excluded } : {}),
    });
  }

  private closeIfAllAnswered(taskId: string): void {
    const t = this.state.tasks[taskId];
    if (!t || t.phase !== 'collecting' || !this.config.earlyClose || t.responded < t.invited.length) return;
    this.effects.push({ kind: 'cancel-timer', id: deadlineTimer(t.conversationId) });
    this.closeRound(t);
  }

  /** The round is over: award the best affordable proposal by the strategy, or fail the task. */
  private closeRound(t: TaskState): void {
    const ledger = this.state.ledger;
    const affordable = t.proposals.filter((p) => canPay(ledger, p.price));
    const rejectAll = (why: MarketReason, except?: string): void => {
      for (const p of t.proposals) if (p.bidder !== except) this.reject(t, p.bidder, canPay(ledger, p.price) ? why : this.overBudget(p));
    };
    if (t.proposals.length === 0) {
      const declined = Object.values(t.responses).length;
      return this.fail(t, reason(MarketCodes.noBids, `no proposals in round ${t.attempt} (${declined} of ${t.invited.length} invited refused, the rest were silent)`));
    }
    if (affordable.length === 0) {
      rejectAll(reason(MarketCodes.overBudget, 'over budget'));
      const cheapest = Math.min(...t.proposals.map((p) => p.price));
      return this.fail(t, reason(MarketCodes.budgetExhausted, `remaining budget ${fromMicros(remainingMicros(ledger))} ${ledger.currency} is below the cheapest proposal (${cheapest})`));
    }
    let chosen: string | undefined;
    try {
      const pick = this.config.strategy(affordable, { taskId: t.taskId, task: t.task, maxPrice: t.maxPrice, attempt: t.attempt, remainingBudget: fromMicros(remainingMicros(ledger)) });
      chosen = typeof pick === 'string' ? pick : pick?.bidder;
      if (pick === undefined || pick === null) {
        const why = reason(MarketCodes.noAward, `strategy "${this.config.strategyName}" awarded none of ${affordable.length} proposals`);
        rejectAll(why);
        return this.fail(t, why);
      }
    } catch (err) {
      const why = reason(MarketCodes.strategyFailed, `strategy "${this.config.strategyName}" threw: ${err instanceof Error ? err.message : String(err)}`);
      rejectAll(why);
      return this.fail(t, why);
    }
    const winner = affordable.find((p) => p.bidder === chosen);
    if (!winner) {
      const why = reason(MarketCodes.strategyFailed, `strategy "${this.config.strategyName}" chose ${JSON.stringify(chosen)}, which is not among the affordable proposals`);
      rejectAll(why);
      return this.fail(t, why);
    }
    this.state = { ...this.state, ledger: charge(ledger, winner.price) };
    this.setTask({ ...t, phase: 'executing', winner, awardedAt: this.input.now });
    this.stats('awarded');
    rejectAll(reason(MarketCodes.notSelected, `"${winner.bidder}" won round ${t.attempt} by ${this.config.strategyName}`), winner.bidder);
    this.send(winner.bidder, { type: 'accept-proposal', conversationId: t.conversationId, sender: this.input.self, taskId: t.taskId, task: t.task, price: winner.price, executeWithinMs: t.executionMs });
    this.effects.push({ kind: 'timer', id: executionTimer(t.conversationId), delayMs: t.executionMs, event: { type: 'market.timeout', conversationId: t.conversationId, what: 'execution' } });
    const after = this.state.ledger;
    this.audit('awarded', t.taskId, {
      conversationId: t.conversationId,
      bidder: winner.bidder,
      price: winner.price,
      etaMs: winner.etaMs,
      quality: winner.quality,
      attempt: t.attempt,
      proposals: t.proposals.length,
      affordable: affordable.length,
      strategy: this.config.strategyName,
      charged: fromMicros(after.charged),
      remaining: after.limit === null ? null : fromMicros(after.limit - after.charged),
      currency: after.currency,
    });
  }

  /** The winner failed or timed out: refund, exclude it, and announce again while attempts remain. */
  private winnerFailed(t: TaskState, why: MarketReason): void {
    const w = t.winner as Proposal;
    this.state = { ...this.state, ledger: refund(this.state.ledger, w.price) };
    this.stats('executionFailures');
    this.audit('execution-failed', t.taskId, { conversationId: t.conversationId, bidder: w.bidder, price: w.price, refunded: w.price, attempt: t.attempt }, why);
    const next: TaskState = { ...t, excluded: [...t.excluded, w.bidder], winner: null };
    if (t.attempt >= t.maxAttempts) {
      return this.fail(next, reason(MarketCodes.retriesExhausted, `all ${t.attempt} attempt(s) failed; the last: ${why.message}`));
    }
    this.startRound(next);
  }

  private fail(t: TaskState, why: MarketReason): void {
    this.stats('failed');
    this.audit('task-failed', t.taskId, { attempts: t.attempt, bids: t.bids }, why);
    this.settle(t, {
      status: 'failed',
      taskId: t.taskId,
      reason: why,
      attempts: t.attempt,
      bids: t.bids,
      announcedAt: t.announcedAt,
      completedAt: this.input.now,
      conversations: t.conversations,
    });
  }

  /** The task is over: drop it, keep its outcome (and its conversations, to recognise late messages) for a while, tell whoever waits. */
  private settle(t: TaskState, outcome: Outcome): void {
    const tasks = { ...this.state.tasks };
    delete tasks[t.taskId];
    let outcomes = [...this.state.outcomes, outcome];
    let rounds = this.state.rounds;
    if (outcomes.length > this.config.keepOutcomes) {
      const dropped = outcomes.slice(0, outcomes.length - this.config.keepOutcomes);
      outcomes = outcomes.slice(dropped.length);
      rounds = { ...rounds };
      for (const o of dropped) for (const c of o.conversations) if (rounds[c] === o.taskId && !tasks[o.taskId]) delete rounds[c];
    }
    this.state = { ...this.state, tasks, outcomes, rounds };
    if (t.requester) this.effects.push({ kind: 'reply', to: t.requester, value: outcome });
    if (t.notify) this.effects.push({ kind: 'notify', to: t.notify, outcome });
  }

  // ── helpers ─────────────────────────────────────────────────────────

  /** A message whose `sender` is not who the kernel says sent it. */
  private forged(sender: string): boolean {
    return this.input.from !== undefined && this.input.from !== sender;
  }

  private collecting(conversationId: string): TaskState | undefined {
    const taskId = this.state.rounds[conversationId];
    const t = taskId === undefined ? undefined : this.state.tasks[taskId];
    return t && t.conversationId === conversationId && t.phase === 'collecting' ? t : undefined;
  }

  /** The task whose current winner may `inform`/`failure` in this conversation; anything else is audited and ignored. */
  private executing(conversationId: string, sender: string, what: 'inform' | 'failure'): TaskState | undefined {
    const taskId = this.state.rounds[conversationId];
    const t = taskId === undefined ? undefined : this.state.tasks[taskId];
    let why: MarketReason | undefined;
    if (this.forged(sender)) why = reason(MarketCodes.senderMismatch, `${what} names sender "${sender}" but came from "${this.input.from}"`);
    else if (taskId === undefined) why = reason(MarketCodes.unknownConversation, `no conversation "${conversationId}"`);
    else if (!t || t.conversationId !== conversationId || t.phase !== 'executing') why = reason(MarketCodes.bidLate, `${what} for a round of task "${taskId}" that is no longer executing`);
    else if (t.winner?.bidder !== sender) why = reason(MarketCodes.notSelected, `"${sender}" is not the winner of task "${taskId}"`);
    if (why === undefined) return t;
    this.audit(`${what}-ignored`, taskId ?? conversationId, { conversationId, bidder: sender }, why);
    return undefined;
  }

  private respond(t: TaskState, bidder: string, answer: 'proposed' | 'refused'): TaskState {
    const next = { ...t, responses: { ...t.responses, [bidder]: answer }, responded: t.responded + 1 };
    this.setTask(next);
    return next;
  }

  private reject(t: TaskState, bidder: string, why: MarketReason): void {
    this.send(bidder, { type: 'reject-proposal', conversationId: t.conversationId, sender: this.input.self, taskId: t.taskId, reason: why });
  }

  private overBudget(p: Proposal): MarketReason {
    const l = this.state.ledger;
    return reason(MarketCodes.overBudget, `price ${p.price} is above the remaining budget ${fromMicros(remainingMicros(l))} ${l.currency}`);
  }

  private setTask(t: TaskState): void {
    this.state = { ...this.state, tasks: { ...this.state.tasks, [t.taskId]: t } };
  }

  private send(to: string, message: Extract<Effect, { kind: 'send' }>['message']): void {
    this.effects.push({ kind: 'send', to, message });
  }

  private stats(key: keyof MarketStats): void {
    this.counted[key] = (this.counted[key] ?? 0) + 1;
  }

  /** The state after this step, its counters included. */
  finish(): ManagerState {
    const keys = Object.keys(this.counted) as (keyof MarketStats)[];
    if (keys.length === 0) return this.state;
    const stats = { ...this.state.stats };
    for (const k of keys) stats[k] += this.counted[k]!;
    return { ...this.state, stats };
  }

  private audit(decision: string, subject: string, data: Record<string, Json>, why?: MarketReason): void {
    this.effects.push({ kind: 'audit', decision, subject, data, ...(why ? { reason: why } : {}) });
  }
}
