// Actors across nodes: the directory kept in step with this node's kernel and the
// other members, and the kernel's RemoteRouting over cluster links — sends, ask
// replies and remote spawns as plain messages. Definitions travel by name and
// version, never code: a node hosts only agents it registered.

import type { AgentDefinition } from '../actors/define.js';
import type { RouteOptions } from '../actors/envelope.js';
import { ActorError, AgentOsError, ErrorCodes, isAgentOsError } from '../base/errors.js';
import type { Kernel, SystemEvent } from '../kernel/kernel.js';
import type { RemoteReply, RemoteRouting, RemoteSend } from '../kernel/remote.js';
import { Directory, type DirectoryEntry, type DirectoryUpdate } from './directory/directory.js';
import { ClusterCodes, ClusterError } from './errors.js';

/** What the cluster needs from its links: best-effort, ordered per peer, authenticated senders. */
export interface ClusterLinks {
  send(node: string, message: ClusterMessage): void;
  onMessage(handler: (from: string, message: unknown) => void): () => void;
}

export const CLUSTER_MESSAGE = 'agentos.actors';

export type ClusterMessage =
  | { k: typeof CLUSTER_MESSAGE; op: 'dir'; update: DirectoryUpdate }
  | { k: typeof CLUSTER_MESSAGE; op: 'send'; send: RemoteSend }
  | { k: typeof CLUSTER_MESSAGE; op: 'reply'; reply: RemoteReply }
  | { k: typeof CLUSTER_MESSAGE; op: 'spawn'; rid: number; agent: string; version: string; id: string; tenant?: string; input?: unknown }
  | { k: typeof CLUSTER_MESSAGE; op: 'spawned'; rid: number; error?: { code: string; message: string; field?: string } };

export interface RemoteActorsOptions {
  kernel: Kernel;
  links: ClusterLinks;
  /** Definitions this node may host, by name (and `name@version`). */
  definition(name: string, version?: string): AgentDefinition | undefined;
  /** How long a remote spawn may take, ms on the node clock. Default 10,000. */
  spawnTimeoutMs?: number;
}

export class RemoteActors implements RemoteRouting {
  readonly directory: Directory;
  private readonly kernel: Kernel;
  private readonly links: ClusterLinks;
  private readonly members = new Set<string>();
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void; timer: unknown }>();
  private rid = 0;
  private readonly undo: (() => void)[] = [];

  constructor(private readonly options: RemoteActorsOptions) {
    this.kernel = options.kernel;
    this.links = options.links;
    this.directory = new Directory(options.kernel.nodeId);
  }

  start(): void {
    this.undo.push(this.kernel.tap((e) => this.onKernelEvent(e)));
    this.undo.push(this.links.onMessage((from, m) => this.onMessage(from, m)));
    // Actors already running (recovered before the cluster started) are published too.
    for (const id of this.kernel.actorIds()) this.published(id);
    this.kernel.setRemote(this);
  }

  close(): void {
    this.kernel.setRemote(undefined);
    for (const u of this.undo.splice(0)) u();
    for (const [rid, p] of this.pending) {
      this.kernel.clock.clearTimeout(p.timer);
      p.reject(new ClusterError(ClusterCodes.closed, 'the cluster stopped before the remote spawn answered', { field: 'on' }));
      this.pending.delete(rid);
    }
  }

  /** A member came up: it gets this node's whole directory. */
  memberUp(node: string): void {
    if (node === this.kernel.nodeId) return;
    this.members.add(node);
    this.sendTo(node, { k: CLUSTER_MESSAGE, op: 'dir', update: { op: 'sync', entries: this.directory.ownEntries() } });
  }

  /** A member went down or left: its actors are unreachable now. */
  memberGone(node: string): void {
    this.members.delete(node);
    this.directory.dropNode(node);
  }

  // ── RemoteRouting (the kernel's side) ──────────────────────────────────

  locate(id: string): DirectoryEntry | undefined {
    return this.directory.locate(id);
  }

  forward(node: string, send: RemoteSend): void {
    this.sendTo(node, { k: CLUSTER_MESSAGE, op: 'send', send }, true);
  }

  reply(node: string, reply: RemoteReply): void {
    this.sendTo(node, { k: CLUSTER_MESSAGE, op: 'reply', reply });
  }

  /** Start `definition` as `id` on `node` (registered there by name and version). */
  spawnOn(node: string, definition: AgentDefinition, options: { id: string; tenant?: string; input?: unknown }): Promise<void> {
    const rid = ++this.rid;
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = this.options.spawnTimeoutMs ?? 10_000;
      const timer = this.kernel.clock.setTimeout(() => {
        this.pending.delete(rid);
        reject(new ClusterError(ClusterCodes.closed, `node "${node}" did not answer the spawn of "${options.id}" within ${timeoutMs} ms`, { field: 'on' }));
      }, timeoutMs);
      this.pending.set(rid, { resolve, reject, timer });
      try {
        this.sendTo(node, { k: CLUSTER_MESSAGE, op: 'spawn', rid, agent: definition.name, version: definition.version, id: options.id, ...(options.tenant ? { tenant: options.tenant } : {}), ...(options.input === undefined ? {} : { input: options.input }) }, true);
      } catch (err) {
        this.kernel.clock.clearTimeout(timer);
        this.pending.delete(rid);
        reject(err);
      }
    });
  }

  // ── incoming ───────────────────────────────────────────────────────────

  private onMessage(from: string, raw: unknown): void {
    const m = raw as ClusterMessage;
    if (typeof m !== 'object' || m === null || m.k !== CLUSTER_MESSAGE) return;
    switch (m.op) {
      case 'dir':
        return this.directory.apply(from, m.update);
      case 'send':
        return this.deliver(from, m.send);
      case 'reply':
        return this.kernel.router.settleRemote(m.reply);
      case 'spawn':
        return void this.spawnHere(from, m);
      case 'spawned': {
        const p = this.pending.get(m.rid);
        if (!p) return;
        this.pending.delete(m.rid);
        this.kernel.clock.clearTimeout(p.timer);
        if (m.error) p.reject(new ActorError(m.error.code, m.error.message, m.error.field === undefined ? {} : { field: m.error.field }));
        else p.resolve();
      }
    }
  }

  /** A send from another node, through this kernel's own checks (schema, tenant again, mailbox). */
  private deliver(from: string, send: RemoteSend): void {
    if (typeof send !== 'object' || send === null) return;
    const o = send.options;
    // A peer's options object is read field by field below, so it must be an object (or absent).
    const options: Partial<RemoteSend['options']> = typeof o === 'object' && o !== null ? o : {};
    try {
      if (send.fromNode !== from) throw new ClusterError(ClusterCodes.messageInvalid, `a message from node "${from}" claims to come from "${send.fromNode}"`, { field: 'fromNode' });
      if (o !== undefined && options !== o) throw new ClusterError(ClusterCodes.messageInvalid, `a message from node "${from}" has options that are not an object`, { field: 'options' });
      this.kernel.router.route(send.to, send.message, receivedOptions(options, from, send.fromTenant));
    } catch (err) {
      // The router recorded a dead letter; an ask gets the failure back instead of waiting for its timeout.
      const replyTo = options.replyTo;
      const asker = typeof replyTo === 'string' && replyTo.startsWith('@ask@') ? replyTo.slice(5) : undefined;
      if (asker !== undefined && options.correlationId !== undefined && isAgentOsError(err)) {
        this.reply(asker, { correlationId: options.correlationId, replier: send.to, error: { code: err.code, message: err.message, ...(err.field === undefined ? {} : { field: err.field }) } });
      }
    }
  }

  private async spawnHere(from: string, m: Extract<ClusterMessage, { op: 'spawn' }>): Promise<void> {
    let error: { code: string; message: string; field?: string } | undefined;
    try {
      const def = this.options.definition(m.agent, m.version);
      if (!def) throw new ActorError(ErrorCodes.invalidAgent, `node "${this.kernel.nodeId}" has no agent "${m.agent}@${m.version}" registered`, { field: 'definition' });
      await this.kernel.spawn(def, { id: m.id, ...(m.tenant ? { tenant: m.tenant } : {}), ...(m.input === undefined ? {} : { input: m.input }) });
    } catch (err) {
      const e = err instanceof AgentOsError ? err : new ActorError(ErrorCodes.invalidAgent, String(err));
      error = { code: e.code, message: e.message, ...(e.field === undefined ? {} : { field: e.field }) };
    }
    try {
      this.sendTo(from, { k: CLUSTER_MESSAGE, op: 'spawned', rid: m.rid, ...(error ? { error } : {}) });
    } catch {
      // the asker is gone: its spawn times out
    }
  }

  // ── this node's actors ─────────────────────────────────────────────────

  private onKernelEvent(e: SystemEvent): void {
    const id = e.id as string | undefined;
    if (typeof id !== 'string' || id.startsWith('agentos.')) return;
    if (e.type === '@agentos.actor.started') this.published(id);
    else if (e.type === '@agentos.actor.stopped' && this.directory.delete(id)) this.broadcast({ op: 'remove', ids: [id] });
  }

  private published(id: string): void {
    const d = this.kernel.describe(id);
    if (!d) return;
    const entry = this.directory.add({ id, tenant: (d.tenant as string | undefined) ?? 'default', incarnation: (d.incarnation as number | undefined) ?? 0, agent: d.agent as string, version: d.version as string });
    this.broadcast({ op: 'put', entries: [entry] });
  }

  private broadcast(update: DirectoryUpdate): void {
    for (const node of this.members) {
      try {
        this.sendTo(node, { k: CLUSTER_MESSAGE, op: 'dir', update });
      } catch {
        // a member out of reach gets the whole directory when it comes back up
      }
    }
  }

  private sendTo(node: string, message: ClusterMessage, strict = false): void {
    try {
      this.links.send(node, message);
    } catch (err) {
      if (strict) throw isAgentOsError(err) ? err : new ClusterError(ClusterCodes.peerUnknown, `no link to node "${node}": ${String(err)}`, { field: 'node' });
    }
  }
}

/**
 * The route options of a message from another node: the fields a sending kernel
 * sets (see `remoteOptions` in the router), and the sender's node and tenant for
 * this kernel to check again. Read field by field into one fixed shape: nothing
 * else a peer put in the object reaches the router (`origin`, which only a local
 * persistent sender may set, included), and the hot path allocates one object.
 */
function receivedOptions(o: Partial<RemoteSend['options']>, fromNode: string, fromTenant: string | undefined): RouteOptions {
  return {
    from: o.from,
    replyTo: o.replyTo,
    correlationId: o.correlationId,
    priority: o.priority,
    deadlineMs: o.deadlineMs,
    conversationId: o.conversationId,
    performative: o.performative,
    traceparent: o.traceparent,
    idempotencyKey: o.idempotencyKey,
    fromNode,
    fromTenant,
  };
}
