// The membership wire protocol. Four messages, all carrying the sender's
// identity; every incoming one is parsed here before it touches state, and a
// message whose sender differs from the link's authenticated node id is refused.
//   join      — a joining node asks a seed (or any known member) to admit it;
//   welcome   — the admitting member answers with its whole view;
//   gossip    — a full view; a push (`reply: false`) is answered by the
//               receiver's view (push–pull), a reply is never answered;
//   heartbeat — liveness, fed to the receiver's phi accrual detector;
//   probe / probe-ack — before downing, a member asks its side "are you still
//               here?"; only members that answer count for the decision.

import { z } from 'zod';
import { MEMBER_STATUSES, type Member } from './member.js';

/** Type prefix, so the node can route membership traffic over a shared link. */
export const MEMBERSHIP_MESSAGE_PREFIX = 'membership.';

/** Views larger than this are refused (a LAN cluster is tens of nodes; tombstones count too). */
export const MAX_VIEW_SIZE = 4096;

const nodeId = z.string().min(1).max(256);
const address = z.string().min(1).max(2048);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const sender = z.object({ nodeId, address, incarnation: count });
const member = z.object({ nodeId, address, incarnation: count, status: z.enum(MEMBER_STATUSES), version: count });
const view = z.array(member).max(MAX_VIEW_SIZE);

const messageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('membership.join'), from: sender }),
  z.object({ type: z.literal('membership.welcome'), from: sender, members: view }),
  z.object({ type: z.literal('membership.gossip'), from: sender, members: view, reply: z.boolean() }),
  z.object({ type: z.literal('membership.heartbeat'), from: sender }),
  z.object({ type: z.literal('membership.probe'), from: sender, nonce: count }),
  z.object({ type: z.literal('membership.probe-ack'), from: sender, nonce: count }),
]);

export type Sender = z.infer<typeof sender>;
export type MembershipMessage = z.infer<typeof messageSchema>;
export type JoinMessage = Extract<MembershipMessage, { type: 'membership.join' }>;
export type WelcomeMessage = Extract<MembershipMessage, { type: 'membership.welcome' }>;
export type GossipMessage = Extract<MembershipMessage, { type: 'membership.gossip' }>;
export type HeartbeatMessage = Extract<MembershipMessage, { type: 'membership.heartbeat' }>;

/** The parsed message, or undefined when it is malformed or not a membership message. */
export function parseMembershipMessage(raw: unknown): MembershipMessage | undefined {
  const parsed = messageSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** Whether a message is meant for membership (by its type prefix), before parsing it. */
export function isMembershipMessage(raw: unknown): boolean {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { type?: unknown }).type === 'string' &&
    (raw as { type: string }).type.startsWith(MEMBERSHIP_MESSAGE_PREFIX)
  );
}

/** Plain copies of member records, safe to hand to a link that serialises. */
export function toWire(members: Iterable<Member>): Member[] {
  const out: Member[] = [];
  for (const m of members) out.push({ nodeId: m.nodeId, address: m.address, incarnation: m.incarnation, status: m.status, version: m.version });
  return out;
}
