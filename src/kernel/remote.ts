// Messages to actors on other nodes. The kernel does not know the cluster; it asks
// a RemoteRouting (the cluster layer implements it) where an id lives when no local
// actor has it, runs the sending side's checks (tenancy against the directory's
// entry, the message's own options), and hands the message on. The receiving node
// routes it through its own kernel as an ordinary send, with the sender's tenant
// checked again there — both kernels check, as the design says. Asks keep their
// correlation on the asking node: the reply address names that node, and the
// answering node sends the reply (or the failure) back to it.

import type { RouteOptions, SendOptions } from '../actors/envelope.js';
import type { ExitReason } from '../base/exit.js';
import type { ChildHandle } from '../supervisors/types.js';

/** Where an actor lives, as the cluster directory says. */
export interface RemoteActor {
  node: string;
  tenant: string;
  /** The directory entry's incarnation (a restarted or moved actor has a new one). */
  incarnation?: number;
}

/** A message on its way to another node's kernel. */
export interface RemoteSend {
  to: string;
  message: unknown;
  /** The public send options, and the kernel-set sender, reply address and correlation. */
  options: SendOptions & Pick<RouteOptions, 'from' | 'replyTo' | 'correlationId'>;
  /** The sender's tenant, checked again by the receiving kernel. */
  fromTenant?: string;
  /** The node the message comes from. */
  fromNode: string;
}

/** The answer to a remote ask, back to the node that asked. */
export type RemoteReply = { correlationId: string; replier: string } & ({ value: unknown } | { error: { code: string; message: string; field?: string } });

export interface RemoteRouting {
  /** The node hosting `id`, when it is not this one; undefined when nobody is known to host it. */
  locate(id: string): RemoteActor | undefined;
  /** Hand a message to `node`. Throws a typed error when it cannot be sent (no link, queue full). */
  forward(node: string, send: RemoteSend): void;
  /** Send a reply (or a failure) to the node that asked. */
  reply(node: string, reply: RemoteReply): void;
}

/** Prefix of a reply address naming the asking node: `@ask@<node>`. */
const REMOTE_ASK = '@ask@';

export function remoteAskAddress(node: string): string {
  return `${REMOTE_ASK}${node}`;
}

/** The asking node of a remote ask's reply address, or undefined for any other address. */
export function askingNode(replyTo: string | undefined): string | undefined {
  return replyTo?.startsWith(REMOTE_ASK) ? replyTo.slice(REMOTE_ASK.length) : undefined;
}

/**
 * Children of this node's supervisors that run on other members (a child spec
 * with `node`). The cluster layer implements it: it starts the agent there (by
 * name and version), stops it when the supervisor asks, and reports its exit —
 * its own, or its node going down — exactly once, so the supervisor applies its
 * strategy as for a local child.
 */
export interface RemoteChildren {
  /** Whether `node` is an up member other than this one (else the child runs here). */
  isUp(node: string): boolean;
  start(
    spec: { id: string; node: string; agent: string; version: string; input?: unknown; tenant?: string; parentPath: string },
    onExit: (reason: ExitReason) => void,
  ): Promise<ChildHandle>;
  /** Extra fields for `tree()`: where a remote child runs. */
  describe(id: string): Record<string, unknown> | undefined;
}
