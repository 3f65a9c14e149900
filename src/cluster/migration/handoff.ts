// Actor mobility on one node — live migration, replication of persistent agents,
// failover — composed over the node's cluster links. It sits between the links
// and the remote actors: actor messages leaving this node pass the order layer
// (a changed route sends a fence down the old one), arriving ones are held,
// forwarded (an actor that moved away) or delivered; the kernel's remote routing
// is wrapped so that moved-actor hints and detours apply. Membership events drive
// replica placement and failover.

import type { AgentDefinition } from '../../actors/define.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { RemoteActor, RemoteRouting } from '../../kernel/remote.js';
import { ClusterCodes } from '../errors.js';
import type { MembershipEvent } from '../membership/index.js';
import { CLUSTER_MESSAGE, type ClusterLinks, type ClusterMessage } from '../remote-actors.js';
import { Exchange, type Reply } from './exchange.js';
import { Failover } from './failover.js';
import { handOffAll, type HandOffReport } from './leave.js';
import { Migrations, type MigrateOptions } from './migrate.js';
import type { ResolvedMobility } from './options.js';
import { MessageOrder, type SendOp } from './order.js';
import { HANDOFF_MESSAGE, isHandoffMessage, parseHandoffMessage, unpackBody, type HandoffMessage, type MigrationResult, type PartKind } from './protocol.js';
import { ReplicaStore, Replicator } from './replicas.js';

export interface HandoffHost {
  kernel: Kernel;
  /** The links remote actors would use: the cluster transport, or in-memory links in tests. */
  links: ClusterLinks;
  members(): ReadonlyArray<{ nodeId: string; status: string }>;
  isQuorate(): boolean;
  definition(name: string, version?: string): AgentDefinition | undefined;
}

/** An arrived actor's first replica waits this long: the move's last steps go first (it is on this node's disk already). */
const ARRIVAL_REPLICA_DELAY_MS = 100;

/** How long a moved actor's forwarding pointer and hint are kept. */
const KEEP_MS = 30_000;

export class ClusterHandoff {
  readonly order: MessageOrder;
  readonly migrations: Migrations;
  readonly replicas: ReplicaStore | undefined;
  private readonly exchange: Exchange;
  private readonly replicator: Replicator;
  private readonly failover: Failover;
  private readonly kernel: Kernel;
  private readonly self: string;
  private actorsHandler: ((from: string, message: unknown) => void) | undefined;
  private readonly hints = new Map<string, RemoteActor & { incarnation: number; at: number }>();
  /** Nodes seen down: their removal fails their actors over (a graceful leave does not). */
  private readonly downed = new Set<string>();
  private sweeper: unknown;
  private inner: RemoteRouting | undefined;

  constructor(
    private readonly host: HandoffHost,
    readonly options: ResolvedMobility,
  ) {
    this.kernel = host.kernel;
    this.self = host.kernel.nodeId;
    const send = (node: string, m: HandoffMessage): void => host.links.send(node, m as unknown as ClusterMessage);
    const trySend = (node: string, m: HandoffMessage): boolean => {
      try {
        send(node, m);
        return true;
      } catch {
        return false;
      }
    };
    const upMembers = (): string[] => [...new Set([this.self, ...host.members().filter((m) => m.status === 'up').map((m) => m.nodeId)])].sort();
    const exact = (name: string, version: string): AgentDefinition | undefined => {
      const def = host.definition(name, version);
      return def?.version === version ? def : undefined;
    };
    // Where an actor runs now, told to every member (senders route there before the directory says so).
    const announce = (id: string, node: string, incarnation: number, tenant: string): void => {
      this.hints.set(id, { node, tenant, incarnation, at: this.kernel.clock.now() });
      for (const member of upMembers()) if (member !== this.self && member !== node) trySend(member, { k: HANDOFF_MESSAGE, op: 'moved', id, node, incarnation, tenant });
    };
    this.exchange = new Exchange({ clock: this.kernel.clock, send, assemblyMs: options.timeoutMs, received: (from, kind, bytes, reply) => this.received(from, kind, bytes, reply) });
    this.order = new MessageOrder({
      self: this.self,
      clock: this.kernel.clock,
      holdMs: options.holdMs,
      keepMs: KEEP_MS,
      sendFence: (node, f) => trySend(node, { k: HANDOFF_MESSAGE, op: 'fence', ...f }),
      ackFence: (origin, id, n) => void trySend(origin, { k: HANDOFF_MESSAGE, op: 'fence-ack', id, n }),
      forward: (node, message) => {
        try {
          host.links.send(node, message);
          return true;
        } catch {
          return false;
        }
      },
      deliver: (from, message) => this.kernel.handoff.reveal(() => this.actorsHandler?.(from, message)),
      isUp: (node) => upMembers().includes(node),
      onHoldExpired: (id, origin) => this.kernel.emit('@agentos.cluster.hold-expired', { id, origin }),
    });
    this.replicas = this.kernel.durability ? new ReplicaStore(this.kernel.durability.store.root) : undefined;
    this.replicator = new Replicator({
      kernel: this.kernel,
      self: this.self,
      replicas: this.replicas ? options.replicas : 0,
      timeoutMs: options.timeoutMs,
      upMembers,
      settled: () => host.isQuorate() && !host.members().some((m) => m.status === 'suspect' || m.status === 'joining'),
      exchange: this.exchange,
      send,
    });
    this.migrations = new Migrations({
      kernel: this.kernel,
      self: this.self,
      options,
      exchange: this.exchange,
      order: this.order,
      upMembers,
      quorate: () => host.isQuorate(),
      definition: exact,
      locate: (id) => {
        const node = this.locate(id)?.node;
        return node === this.self ? undefined : node;
      },
      send,
      forward: (node, message) => host.links.send(node, message),
      moved: (id, node, incarnation, tenant) => announce(id, node, incarnation, tenant),
      leaving: (id) => this.replicator.suspend(id),
      staying: (id) => this.replicator.resume(id),
      left: (id) => this.replicator.forget(id),
      // After the answer has gone: the first replica of a big actor must not hold up the move.
      arrived: (id) => this.replicator.changedLater(id, ARRIVAL_REPLICA_DELAY_MS),
    });
    this.failover = new Failover({
      kernel: this.kernel,
      self: this.self,
      store: this.replicas,
      upMembers,
      isQuorate: () => host.isQuorate(),
      definition: exact,
      send,
      moving: (id) => this.migrations.isMoving(id),
      restarted: (id) => {
        this.order.arrived(id, () => undefined);
        this.replicator.changed(id);
        // As after a move: the members learn the new owner at once, whatever order the directory's
        // updates and their own view of the removed node reach them in.
        const d = this.kernel.describe(id);
        if (d) announce(id, this.self, (d.incarnation as number | undefined) ?? 0, (d.tenant as string | undefined) ?? 'default');
      },
      owner: (id) => this.inner?.locate(id)?.node,
    });
  }

  /** The links to give the remote actors: sends pass the order layer, arrivals pass this layer first. */
  links(): ClusterLinks {
    return {
      send: (node, message) => this.host.links.send(node, message.op === 'send' ? this.order.outgoing(node, message as SendOp) : message),
      onMessage: (handler) => {
        this.actorsHandler = handler;
        const off = this.host.links.onMessage((from, raw) => this.receive(from, raw));
        return () => {
          this.actorsHandler = undefined;
          off();
        };
      },
    };
  }

  /** Wrap the kernel's routing to other nodes (after the remote actors set theirs). */
  route(inner: RemoteRouting): void {
    this.inner = inner;
    this.kernel.setRemote({
      locate: (id) => this.locate(id),
      // "Here" is an arrived actor whose local senders wait for their older messages.
      forward: (node, send) => (node === this.self ? this.order.holdLocal(send) : inner.forward(node, send)),
      reply: (node, reply) => (node === this.self ? this.kernel.router.settleRemote(reply) : inner.reply(node, reply)),
    });
  }

  start(): void {
    this.replicator.start();
    const sweep = (): void => {
      this.order.sweep();
      const old = this.kernel.clock.now() - KEEP_MS;
      for (const [id, h] of this.hints) if (h.at < old) this.hints.delete(id);
      this.sweeper = this.kernel.clock.setTimeout(sweep, KEEP_MS / 2);
    };
    this.sweeper = this.kernel.clock.setTimeout(sweep, KEEP_MS / 2);
  }

  migrate(actorId: string, targetNode: string, options?: MigrateOptions): Promise<MigrationResult> {
    return this.migrations.migrate(actorId, targetNode, options);
  }

  /** Before a graceful leave: move every agent that may move to another up member (see leave.ts). */
  async handOffAll(): Promise<HandOffReport> {
    const upMembers = (): string[] => [...new Set([this.self, ...this.host.members().filter((m) => m.status === 'up').map((m) => m.nodeId)])];
    const report = await handOffAll({ kernel: this.kernel, self: this.self, upMembers, migrate: (id, to) => this.migrations.migrate(id, to) });
    this.kernel.emit('@agentos.cluster.handed-off', { moved: report.moved.length, stayed: report.stayed });
    return report;
  }

  /** Run `fn` once this node's failovers in progress are done (at once if there are none). */
  afterFailovers(fn: () => void): void {
    this.failover.whenIdle(fn);
  }

  onMembership(event: MembershipEvent): void {
    if (event.type === 'quorum-lost') return this.failover.quorumLost();
    if (event.type === 'quorum-gained') return this.failover.quorumGained();
    if (event.type === 'rejoining') return this.failover.rejoined();
    if (!('member' in event) || event.member.nodeId === this.self) return;
    const node = event.member.nodeId;
    this.failover.membersChanged();
    if (event.type === 'member-up') {
      this.downed.delete(node);
      this.replicator.membersChanged();
    } else if (event.type === 'member-down') {
      this.downed.add(node);
      this.order.nodeGone(node);
      this.migrations.nodeGone(node);
    } else if (event.type === 'member-removed') {
      this.order.nodeGone(node);
      this.migrations.nodeGone(node);
      this.replicator.membersChanged();
      if (this.downed.delete(node)) void this.failover.memberRemoved(node);
    }
  }

  close(): void {
    if (this.sweeper !== undefined) this.kernel.clock.clearTimeout(this.sweeper);
    this.replicator.close();
    this.migrations.close();
    this.exchange.close();
    this.order.close();
  }

  // ── internals ──────────────────────────────────────────────────────────

  private locate(id: string): RemoteActor | undefined {
    if (this.order.holdsLocal(id)) return { node: this.self, tenant: (this.kernel.describe(id)?.tenant as string | undefined) ?? 'default' };
    const entry = this.inner?.locate(id);
    const hint = this.hints.get(id);
    if (hint && hint.node !== this.self && (!entry || (entry.incarnation ?? 0) < hint.incarnation)) return { node: hint.node, tenant: hint.tenant, incarnation: hint.incarnation };
    return entry;
  }

  private receive(from: string, raw: unknown): void {
    if (isHandoffMessage(raw)) {
      const m = parseHandoffMessage(raw);
      if (m) this.handle(from, m);
      return;
    }
    const m = raw as ClusterMessage;
    if (m?.k === CLUSTER_MESSAGE && m.op === 'send') return this.order.incoming(from, sanitize(m as SendOp));
    const dir = m?.k === CLUSTER_MESSAGE && m.op === 'dir' ? m.update : undefined;
    if (dir && dir.op !== 'remove' && Array.isArray(dir.entries)) this.failover.published(from, dir.entries.map((e) => e.id));
    this.actorsHandler?.(from, raw);
    if (dir?.op === 'sync') this.failover.directorySynced(from);
  }

  private handle(from: string, m: HandoffMessage): void {
    if (this.exchange.handle(from, m)) return;
    switch (m.op) {
      case 'abort':
        return void this.migrations.aborted(from, m.id);
      case 'fence':
        return this.order.fence({ id: m.id, origin: m.origin, n: m.n });
      case 'fence-ack':
        return this.order.fenceAcked(m.id, m.n);
      case 'moved':
        return void this.hints.set(m.id, { node: m.node, tenant: m.tenant, incarnation: m.incarnation, at: this.kernel.clock.now() });
      case 'drop':
        return void this.replicas?.dropFrom(from, m.id).catch(() => undefined);
      case 'migrate':
        return void this.migrations.migrateRequest(from, m);
      case 'migrated':
        return this.migrations.migrateAnswer(m);
      case 'superseded':
        return void this.failover.superseded(from, m.id);
    }
  }

  /** A whole body arrived. */
  private received(from: string, kind: PartKind, bytes: Uint8Array, reply: ((r: Reply) => void) | undefined): void {
    const refuse = (message: string): void => reply?.({ ok: false, error: { code: ClusterCodes.messageInvalid, message } });
    try {
      if (kind === 'late') return this.migrations.late(from, unpackBody('late', bytes));
      if (kind === 'import') return void this.migrations.imported(from, unpackBody('import', bytes), reply!);
      const body = unpackBody('replica', bytes);
      if (!this.replicas || body.owner !== from) return refuse(`node "${this.self}" keeps no replicas for "${from}" of this actor`);
      // Shipped before a partition ended (held back by it): the actor was failed over here from that node since.
      if (this.failover.tookOver(body.transfer.id, from)) return refuse(`"${body.transfer.id}" was failed over to node "${this.self}"; this replica from "${from}" is stale`);
      this.replicas.put(body).then(
        () => reply?.({ ok: true }),
        (err: unknown) => refuse((err as Error).message),
      );
    } catch (err) {
      refuse((err as Error).message);
    }
  }
}

/** The fields this layer reads from a peer's actor message, checked (malformed ones are dropped). */
function sanitize(m: SendOp): SendOp {
  const hold: unknown = m.hold;
  const okHold = hold === undefined || (Array.isArray(hold) && hold.length <= 64 && hold.every((h) => Array.isArray(h) && h.length === 2 && Number.isSafeInteger(h[0]) && typeof h[1] === 'string'));
  const okFw = m.fw === undefined || typeof m.fw === 'string';
  const okEp = m.ep === undefined || Number.isSafeInteger(m.ep);
  if (okHold && okFw && okEp) return m;
  const { hold: _h, fw: _f, ep: _e, ...rest } = m;
  return { ...rest, ...(okHold && m.hold ? { hold: m.hold } : {}), ...(okFw && m.fw !== undefined ? { fw: m.fw } : {}), ...(okEp && m.ep !== undefined ? { ep: m.ep } : {}) };
}
