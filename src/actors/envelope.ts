// The envelope every message travels in, local or remote. Built once at the
// edge by the kernel; mailboxes order it by `deadline` (HRT) or `priority` (SRT).

import type { LatencyClass, Queued } from '../mailboxes/types.js';

export interface Envelope<M = unknown> extends Queued {
  id: string;
  /** Sender actor id, or undefined for messages from outside any actor. */
  from: string | undefined;
  to: string;
  type: string;
  /** The message itself (an object with a `type` field). */
  payload: M;
  class: LatencyClass;
  /** Absolute deadline in ms on the node clock (HRT). */
  deadline?: number;
  /** SRT priority, higher is more urgent. */
  priority?: number;
  conversationId?: string;
  /** A2A performative (FIPA-ACL style: request, inform, propose, …). */
  performative?: string;
  tenant?: string;
  traceparent?: string;
  idempotencyKey?: string;
  /** Where a reply goes: an actor id, or an ask address (`@ask`). */
  replyTo?: string;
  correlationId?: string;
  /** Node clock time at send. */
  sentAt: number;
}

/** Per-send options a sender may set on the envelope. */
export interface SendOptions {
  /** Relative deadline in ms (HRT); defaults to the target contract's deadline. */
  deadlineMs?: number;
  /** SRT priority 0-9, higher is more urgent; defaults to the target contract's priority. */
  priority?: number;
  conversationId?: string;
  performative?: string;
  traceparent?: string;
  idempotencyKey?: string;
}

/**
 * What the kernel itself sets: the sender and the reply address. Never taken
 * from a caller's options, so no one can forge a sender or answer another's ask.
 */
export interface RouteOptions extends SendOptions {
  from?: string;
  replyTo?: string;
  correlationId?: string;
  /** [turn, call] of the send in a persistent sender's history: a persistent receiver drops a repeat. */
  origin?: [number, number];
  /** A message from another node: the sender's tenant there (checked again here). */
  fromTenant?: string;
  /** A message from another node: that node. */
  fromNode?: string;
}

const PUBLIC_FIELDS = ['deadlineMs', 'priority', 'conversationId', 'performative', 'traceparent', 'idempotencyKey'] as const;

/** Keep only the fields a caller may set (and tolerate null/undefined). */
export function publicSendOptions(options: unknown): SendOptions {
  if (options === null || options === undefined || typeof options !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const k of PUBLIC_FIELDS) {
    const v = (options as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as SendOptions;
}

/** The address asks reply to; never an actor id. */
export const ASK_ADDRESS = '@ask';
