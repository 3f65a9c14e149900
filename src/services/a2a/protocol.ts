// The conversation state machine, as a pure function: given a conversation's
// state (or none) and a checked message, the next state or the reason the step
// is refused. Covers FIPA request (request → agree? → inform | failure | refuse),
// contract-net (cfp → propose | refuse → accept-/reject-proposal → inform |
// failure) and propose (propose ⇄ counter-propose → accept | reject), plus
// one-shot informs and cancel by the initiator. Never mutates its input.

import type { A2AMessage, Performative } from './message.js';

export type ConversationStatus = 'open' | 'agreed' | 'refused' | 'failed' | 'done' | 'cancelled' | 'expired';
export const TERMINAL: ReadonlySet<ConversationStatus> = new Set(['refused', 'failed', 'done', 'cancelled', 'expired']);

/** What opened the conversation, which decides the steps it allows. */
export type Pattern = 'request' | 'cfp' | 'propose' | 'inform';

export interface ConversationState {
  id: string;
  pattern: Pattern;
  protocol: string | undefined;
  initiator: string;
  /** The initiator first, then the others in the order they joined. */
  participants: readonly string[];
  status: ConversationStatus;
  /** Who does the work once agreed (the requestee, or the proposer whose proposal was accepted). */
  performer: string | undefined;
  /** Outstanding proposals: who proposed, and the token a reply quotes. */
  proposals: readonly { from: string; replyWith: string | undefined }[];
  /** cfp: participants that answered (proposed or refused). */
  answered: readonly string[];
  /** Reply tokens seen, oldest first: token → its sender and receiver (bounded, see `maxTokens`). */
  tokens: readonly (readonly [token: string, from: string, to: string])[];
  messages: number;
  lastPerformative: Performative;
  lastFrom: string;
  lastTo: string;
  openedAt: number;
  updatedAt: number;
  closedAt: number | undefined;
  /** Node-clock ms after which an unfinished conversation expires. */
  deadline: number | undefined;
  /** Set by a delegating request: whose authority the delegate works under (outermost first). */
  delegation: { principals: readonly string[]; delegate: string } | undefined;
}

export interface StepLimits {
  /** Reply tokens kept per conversation (older ones are forgotten). */
  maxTokens: number;
  /** Most participants of one conversation (cfp fan-out). */
  maxParticipants: number;
}

export type StepResult = { ok: true; state: ConversationState } | { ok: false; reason: string };

const refuse = (reason: string): StepResult => ({ ok: false, reason });

/** The next state of `state` (undefined: no such conversation) after `msg`, at time `now`. */
export function step(state: ConversationState | undefined, msg: A2AMessage, now: number, limits: StepLimits, principals?: readonly string[]): StepResult {
  if (state === undefined) return open(msg, now, principals);
  if (TERMINAL.has(state.status)) return refuse(`conversation "${state.id}" is ${state.status}; ${msg.performative} is not allowed after it closed`);
  if (principals !== undefined) return refuse(`conversation "${state.id}" is already open; only the request that opens a conversation can delegate`);
  const joined = joining(state, msg, limits);
  if (typeof joined === 'string') return refuse(joined);
  const tokenProblem = checkTokens(state, msg);
  if (tokenProblem) return refuse(tokenProblem);
  const next = transition({ ...state, participants: joined }, msg, state.participants.includes(msg.to));
  if (typeof next === 'string') return refuse(`${msg.performative} from "${msg.from}" in conversation "${state.id}" (${state.pattern}, ${state.status}): ${next}`);
  return { ok: true, state: record(next, msg, now, limits) };
}

function open(msg: A2AMessage, now: number, principals: readonly string[] | undefined): StepResult {
  if (msg.inReplyTo !== undefined) return refuse(`conversation "${msg.conversationId}" is unknown (or forgotten); a reply (inReplyTo "${msg.inReplyTo}") needs an open conversation`);
  const p = msg.performative;
  if (p !== 'request' && p !== 'cfp' && p !== 'propose' && p !== 'inform') {
    return refuse(`conversation "${msg.conversationId}" is unknown (or forgotten); ${p} cannot open a conversation (request, cfp, propose or inform can)`);
  }
  const base: ConversationState = {
    id: msg.conversationId,
    pattern: p,
    protocol: msg.protocol,
    initiator: msg.from,
    participants: [msg.from, msg.to],
    status: p === 'inform' ? 'done' : 'open',
    performer: undefined,
    proposals: p === 'propose' ? [{ from: msg.from, replyWith: msg.replyWith }] : [],
    answered: [],
    tokens: [],
    messages: 0,
    lastPerformative: p,
    lastFrom: msg.from,
    lastTo: msg.to,
    openedAt: now,
    updatedAt: now,
    closedAt: undefined,
    deadline: undefined,
    delegation: principals && p === 'request' ? { principals: [...principals], delegate: msg.to } : undefined,
  };
  return { ok: true, state: record(base, msg, now, { maxTokens: Infinity, maxParticipants: Infinity }) };
}

/** The participants after `msg`, or why the sender or receiver may not take part. */
function joining(state: ConversationState, msg: A2AMessage, limits: StepLimits): readonly string[] | string {
  const { participants, initiator } = state;
  let list = participants;
  // Contract-net: the initiator may call for proposals from more participants while nothing is settled.
  if (msg.performative === 'cfp' && msg.from === initiator && state.pattern === 'cfp' && state.status === 'open' && !participants.includes(msg.to)) {
    if (participants.length >= limits.maxParticipants) return `conversation "${state.id}" already has ${participants.length} participants (limit ${limits.maxParticipants})`;
    list = [...participants, msg.to];
  }
  if (!list.includes(msg.from)) return `"${msg.from}" is not a participant of conversation "${state.id}"`;
  if (!list.includes(msg.to)) return `"${msg.to}" is not a participant of conversation "${state.id}"`;
  if (msg.from !== initiator && msg.to !== initiator) return `"${msg.from}" and "${msg.to}" may only talk with the initiator "${initiator}" in conversation "${state.id}"`;
  return list;
}

function checkTokens(state: ConversationState, msg: A2AMessage): string | undefined {
  if (msg.replyWith !== undefined && state.tokens.some(([t]) => t === msg.replyWith)) return `replyWith "${msg.replyWith}" was already used in conversation "${state.id}"`;
  if (msg.inReplyTo === undefined) return undefined;
  const quoted = state.tokens.find(([t]) => t === msg.inReplyTo);
  if (!quoted) return `inReplyTo "${msg.inReplyTo}" quotes no message of conversation "${state.id}"`;
  if (quoted[1] !== msg.to || quoted[2] !== msg.from) return `inReplyTo "${msg.inReplyTo}" quotes a message from "${quoted[1]}" to "${quoted[2]}", not one "${msg.from}" received from "${msg.to}"`;
  return undefined;
}

/** The state after one performative, or why it is not allowed here. */
function transition(s: ConversationState, msg: A2AMessage, toKnown: boolean): ConversationState | string {
  const { from, to } = msg;
  const fromInitiator = from === s.initiator;
  switch (msg.performative) {
    case 'request':
      return 'a request opens a new conversation; use a fresh conversationId';
    case 'cfp':
      if (s.pattern !== 'cfp' || s.status !== 'open' || !fromInitiator) return 'only the initiator of an open cfp conversation calls for more proposals';
      if (toKnown) return `"${to}" was already called`;
      return s;
    case 'agree':
      if (s.pattern !== 'request' || s.status !== 'open' || fromInitiator) return 'only the requestee agrees, once, to an open request';
      return { ...s, status: 'agreed', performer: from };
    case 'refuse':
      if (fromInitiator) return 'the initiator cancels; it does not refuse';
      if (s.pattern === 'request' && s.status === 'open') return { ...s, status: 'refused' };
      if (s.pattern === 'cfp' && s.status === 'open' && !s.answered.includes(from)) return settleCfp({ ...s, answered: [...s.answered, from] });
      return 'nothing is open for this participant to refuse';
    case 'propose':
      if (s.pattern === 'cfp' && s.status === 'open' && !fromInitiator && !s.answered.includes(from)) {
        return { ...s, answered: [...s.answered, from], proposals: [...s.proposals, { from, replyWith: msg.replyWith }] };
      }
      if (s.pattern === 'propose' && s.status === 'open' && s.proposals.length === 1 && s.proposals[0]!.from === to) {
        return { ...s, proposals: [{ from, replyWith: msg.replyWith }] }; // a counter-proposal replaces the one it answers
      }
      return 'no call for proposals (or proposal to counter) is waiting for this participant';
    case 'accept-proposal':
    case 'reject-proposal': {
      const proposal = s.proposals.find((p) => p.from === to);
      if (!proposal) return `there is no outstanding proposal from "${to}" to answer`;
      if (s.pattern === 'cfp' && !fromInitiator) return 'only the initiator answers proposals in a cfp';
      if (proposal.replyWith !== undefined && msg.inReplyTo !== undefined && msg.inReplyTo !== proposal.replyWith) return `inReplyTo "${msg.inReplyTo}" is not the outstanding proposal "${proposal.replyWith}"`;
      const proposals = s.proposals.filter((p) => p !== proposal);
      if (msg.performative === 'accept-proposal') {
        if (s.status !== 'open') return 'a proposal was already accepted';
        return { ...s, proposals, status: 'agreed', performer: to };
      }
      if (s.pattern === 'propose') return { ...s, proposals, status: 'refused' };
      return s.status === 'open' ? settleCfp({ ...s, proposals }) : { ...s, proposals };
    }
    case 'inform':
      if (s.status === 'agreed' && from === s.performer) return msg.partial ? s : { ...s, status: 'done' };
      if (s.pattern === 'request' && s.status === 'open' && !fromInitiator) return msg.partial ? { ...s, status: 'agreed', performer: from } : { ...s, status: 'done' };
      return 'only the performer informs, after a request or an accepted proposal';
    case 'failure':
      if (s.status === 'agreed' && from === s.performer) return { ...s, status: 'failed' };
      if (s.pattern === 'request' && s.status === 'open' && !fromInitiator) return { ...s, status: 'failed' };
      return 'only the performer reports a failure';
    case 'cancel':
      if (!fromInitiator) return 'only the initiator cancels';
      return { ...s, status: 'cancelled' };
  }
}

/** A cfp in which every called participant has answered, with no proposal left and none accepted, was refused by all. */
function settleCfp(s: ConversationState): ConversationState {
  const called = s.participants.length - 1;
  return s.answered.length >= called && s.proposals.length === 0 ? { ...s, status: 'refused' } : s;
}

/** Count the message, remember its token, take its deadline, stamp the time. */
function record(s: ConversationState, msg: A2AMessage, now: number, limits: StepLimits): ConversationState {
  let tokens = s.tokens;
  if (msg.replyWith !== undefined) {
    tokens = [...tokens, [msg.replyWith, msg.from, msg.to] as const];
    if (tokens.length > limits.maxTokens) tokens = tokens.slice(tokens.length - limits.maxTokens);
  }
  const closed = TERMINAL.has(s.status);
  return {
    ...s,
    tokens,
    messages: s.messages + 1,
    lastPerformative: msg.performative,
    lastFrom: msg.from,
    lastTo: msg.to,
    updatedAt: now,
    closedAt: closed ? (s.closedAt ?? now) : undefined,
    deadline: msg.deadline ?? s.deadline,
  };
}

/** An unfinished conversation whose deadline passed. */
export function expire(s: ConversationState, now: number): ConversationState {
  return TERMINAL.has(s.status) ? s : { ...s, status: 'expired', updatedAt: now, closedAt: now };
}

/** Plain JSON view of a conversation (what `bus.conversations()` returns). */
export interface ConversationView {
  id: string;
  pattern: Pattern;
  protocol?: string;
  status: ConversationStatus;
  initiator: string;
  participants: string[];
  performer?: string;
  proposals: string[];
  messages: number;
  lastPerformative: Performative;
  lastFrom: string;
  lastTo: string;
  openedAt: number;
  updatedAt: number;
  closedAt?: number;
  deadline?: number;
  delegation?: { principals: string[]; delegate: string };
}

export function view(s: ConversationState): ConversationView {
  return {
    id: s.id,
    pattern: s.pattern,
    ...(s.protocol === undefined ? {} : { protocol: s.protocol }),
    status: s.status,
    initiator: s.initiator,
    participants: [...s.participants],
    ...(s.performer === undefined ? {} : { performer: s.performer }),
    proposals: s.proposals.map((p) => p.from),
    messages: s.messages,
    lastPerformative: s.lastPerformative,
    lastFrom: s.lastFrom,
    lastTo: s.lastTo,
    openedAt: s.openedAt,
    updatedAt: s.updatedAt,
    ...(s.closedAt === undefined ? {} : { closedAt: s.closedAt }),
    ...(s.deadline === undefined ? {} : { deadline: s.deadline }),
    ...(s.delegation === undefined ? {} : { delegation: { principals: [...s.delegation.principals], delegate: s.delegation.delegate } }),
  };
}
