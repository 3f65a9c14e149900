// A node's place in the cluster: the WebSocket transport (authenticated links),
// gossip membership with phi-accrual failure detection and a downing strategy, and
// remote actors (the directory and the kernel's routing to other nodes) and actor
// mobility (live migration, replicas of persistent agents, failover) — composed
// over one link per peer. Seeds are WebSocket addresses (`ws://host:port`, the
// node id asked over plain HTTP at the well-known path) or `id@ws://host:port`.

import type { AgentDefinition } from '../actors/define.js';
import { seededRng } from '../base/rng.js';
import type { Kernel } from '../kernel/kernel.js';
import { ClusterCodes, ClusterError } from './errors.js';
import { Membership, isMembershipMessage, type Member, type MembershipEvent, type MembershipMessage, type PeerTarget } from './membership/index.js';
import type { DowningStrategy } from './membership/index.js';
import { RemoteActors, type ClusterMessage } from './remote-actors.js';
import { CHILDREN_CHANNEL, ClusterChildren } from './remote-children.js';
import { CloseCodes, ClusterTransport, NODE_ID_PATH, type TlsOptions, type TransportEvent } from './transport/index.js';
import { ClusterHandoff } from './migration/handoff.js';
import type { HandOffReport } from './migration/leave.js';
import type { MigrateOptions } from './migration/migrate.js';
import { resolveMobility, type MobilityOptions } from './migration/options.js';
import type { MigrationResult } from './migration/protocol.js';
import type { MembershipOptions } from './membership/options.js';

export interface ClusterOptions extends MobilityOptions {
  /** Shared cluster secret (≥ 16 bytes): knowing it is what makes a node a member. */
  secret: string;
  /** Where this node accepts links (default 127.0.0.1, any free port). */
  listen?: { host?: string; port?: number };
  /** The address others dial (default ws://<listen host>:<port>). */
  advertise?: string;
  /** Addresses of members to join through; empty: form a cluster alone. */
  seeds?: string[];
  downing?: DowningStrategy;
  heartbeatIntervalMs?: number;
  /** Failure detection and downing timings (how fast a dead node is removed and its actors failed over). */
  membership?: Pick<MembershipOptions, 'gossipIntervalMs' | 'checkIntervalMs' | 'failureDetector' | 'stableAfterMs' | 'downRemovalMarginMs'>;
  tls?: TlsOptions;
  /** Report transport and membership events (links, rejected peers, member changes). */
  onEvent?: (event: ClusterEvent) => void;
}

export type ClusterEvent = { source: 'transport'; event: TransportEvent } | { source: 'membership'; event: MembershipEvent };

export interface ClusterStart {
  kernel: Kernel;
  /** Raised on every start of this node (kept in its data dir). */
  incarnation: number;
  definition(name: string, version?: string): AgentDefinition | undefined;
}

const CHANNEL_MESSAGE = 'channel';

export interface ClusterChannel {
  send(node: string, body: unknown): void;
  close(): void;
}

export class ClusterNode {
  readonly remote: RemoteActors;
  /** Migration, replicas and failover of this node's actors. */
  readonly handoff: ClusterHandoff;
  /** Children of this node's supervisors placed on other members, and those this node runs for others. */
  children!: ClusterChildren;
  private readonly transport: ClusterTransport;
  private membership!: Membership;
  private readonly ids = new Map<string, string>(); // address → node id
  private readonly linked = new Set<string>();
  private membershipHandler: ((from: string, m: unknown) => void) | undefined;
  private actorsHandler: ((from: string, m: unknown) => void) | undefined;
  private readonly channels = new Map<string, (from: string, body: unknown) => void>();
  private address = '';

  private constructor(
    private readonly start_: ClusterStart,
    private readonly options: ClusterOptions,
  ) {
    const { kernel } = start_;
    this.transport = new ClusterTransport({
      nodeId: kernel.nodeId,
      secret: options.secret,
      clock: kernel.clock,
      rng: seededRng(start_.incarnation * 7919 + kernel.nodeId.length),
      listen: { host: options.listen?.host ?? '127.0.0.1', port: options.listen?.port ?? 0 },
      ...(options.tls ? { tls: options.tls } : {}),
      onMessage: (from, msg) => this.dispatch(from, msg),
      onPeer: (event) => this.onTransport(event),
    });
    this.handoff = new ClusterHandoff(
      {
        kernel,
        definition: start_.definition,
        members: () => this.membership?.members() ?? [],
        isQuorate: () => this.membership?.isQuorate() ?? false,
        links: {
          send: (node, message: ClusterMessage) => this.send(node, message as unknown as Record<string, unknown>),
          onMessage: (h) => ((this.actorsHandler = h), () => (this.actorsHandler = undefined)),
        },
      },
      resolveMobility(options),
    );
    this.remote = new RemoteActors({ kernel, definition: start_.definition, links: this.handoff.links() });
  }

  /** Listen, join through the seeds, and route messages to remote actors. */
  static async start(start: ClusterStart, options: ClusterOptions): Promise<ClusterNode> {
    const node = new ClusterNode(start, options);
    await node.begin();
    return node;
  }

  private async begin(): Promise<void> {
    const { kernel, incarnation } = this.start_;
    const port = await this.transport.listen();
    const host = this.options.listen?.host ?? '127.0.0.1';
    this.address = this.options.advertise ?? `${this.options.tls ? 'wss' : 'ws'}://${host}:${port}`;
    this.membership = new Membership({
      nodeId: kernel.nodeId,
      address: this.address,
      incarnation,
      seeds: (this.options.seeds ?? []).map((s) => this.seedAddress(s)),
      clock: kernel.clock,
      rng: seededRng(incarnation * 104729 + 17),
      link: {
        send: (to, message) => void this.sendMembership(to, message),
        onMessage: (h) => ((this.membershipHandler = h), () => (this.membershipHandler = undefined)),
      },
      ...(this.options.downing ? { downing: this.options.downing } : {}),
      ...(this.options.heartbeatIntervalMs ? { heartbeatIntervalMs: this.options.heartbeatIntervalMs } : {}),
      ...this.options.membership,
    });
    this.membership.on((event) => this.onMembership(event));
    this.remote.start();
    const channel = this.channel(CHILDREN_CHANNEL, (from, body) => this.children.receive(from, body));
    this.children = new ClusterChildren({
      kernel: this.start_.kernel,
      isUp: (node) => this.membership.member(node)?.status === 'up',
      definition: this.start_.definition,
      send: (node, m) => channel.send(node, m),
    });
    this.start_.kernel.setRemoteChildren(this.children);
    this.handoff.route(this.remote);
    this.handoff.start();
    this.membership.start();
  }

  get url(): string {
    return this.address;
  }

  members(): Member[] {
    return this.membership.members();
  }

  isQuorate(): boolean {
    return this.membership.isQuorate();
  }

  on(listener: (event: MembershipEvent) => void): () => void {
    return this.membership.on(listener);
  }

  /** Move an actor (a top-level agent) to another member; see `node.migrate`. */
  migrate(actorId: string, targetNode: string, options?: MigrateOptions): Promise<MigrationResult> {
    return this.handoff.migrate(actorId, targetNode, options);
  }

  /**
   * A named side channel over the same authenticated links, for node services that are not actors
   * (the inspector streams every member's events to the node serving the page). One handler per
   * name; messages to a node that is not a member throw CLUSTER_PEER_UNKNOWN; delivery is the
   * links' own (ordered, exactly once while both processes live).
   */
  channel(name: string, onMessage: (from: string, body: unknown) => void): ClusterChannel {
    if (this.channels.has(name)) throw new ClusterError(ClusterCodes.invalidOptions, `cluster channel "${name}" is already open`, { field: 'name' });
    this.channels.set(name, onMessage);
    return {
      send: (node, body) => this.send(node, { type: CHANNEL_MESSAGE, channel: name, body }),
      close: () => void this.channels.delete(name),
    };
  }

  /**
   * Leave gracefully: first hand this node's agents off to other members (unless
   * `handOffOnLeave: false`), then leave (others see `leaving`, then `removed`, never
   * `down`: nothing fails over) and close the links. Returns what moved and what stayed.
   */
  async leave(): Promise<HandOffReport | undefined> {
    const report = this.handoff.options.handOffOnLeave && this.membership.isQuorate() ? await this.handoff.handOffAll().catch(() => undefined) : undefined;
    await this.membership.leave();
    await this.close();
    return report;
  }

  async close(): Promise<void> {
    this.membership.stop();
    this.handoff.close();
    this.start_.kernel.setRemoteChildren(undefined);
    this.children?.close();
    this.remote.close();
    await this.transport.close();
  }

  // ── links ──────────────────────────────────────────────────────────────

  private dispatch(from: string, msg: Record<string, unknown>): void {
    if (isMembershipMessage(msg)) this.membershipHandler?.(from, msg);
    else if (msg.type === CHANNEL_MESSAGE) {
      if (typeof msg.channel === 'string') this.channels.get(msg.channel)?.(from, msg.body);
    } else this.actorsHandler?.(from, msg);
  }

  private onTransport(event: TransportEvent): void {
    this.options.onEvent?.({ source: 'transport', event });
    // The peer removed us (it saw this node down): forget the link, so the next message dials again
    // (this node rejoins as a new incarnation and is welcome once more).
    if (event.type === 'disconnected' && event.code === CloseCodes.removed) {
      this.linked.delete(event.node);
      this.transport.disconnect(event.node);
    }
  }

  private onMembership(event: MembershipEvent): void {
    this.options.onEvent?.({ source: 'membership', event });
    this.handoff.onMembership(event);
    if (!('member' in event)) return;
    const { nodeId, address } = event.member;
    if (nodeId === this.start_.kernel.nodeId) return;
    this.ids.set(address, nodeId);
    if (event.type === 'member-up') {
      this.ensureLink(nodeId, address);
      // The directory a member gets on coming up includes what this node is failing over right
      // now: a node back from a partition learns from it whether its paused agents were taken over.
      const { incarnation } = event.member;
      this.handoff.afterFailovers(() => {
        const now = this.membership.member(nodeId);
        if (now?.status === 'up' && now.incarnation === incarnation) this.remote.memberUp(nodeId);
      });
    } else if (event.type === 'member-down' || event.type === 'member-removed') {
      this.remote.memberGone(nodeId);
      this.children.nodeGone(nodeId);
      if (event.type === 'member-removed') {
        this.linked.delete(nodeId);
        this.transport.disconnect(nodeId);
      }
    }
  }

  private ensureLink(nodeId: string, address: string): void {
    if (this.linked.has(nodeId)) return;
    this.linked.add(nodeId);
    this.transport.connect(nodeId, address);
  }

  private send(node: string, message: Record<string, unknown>): void {
    const member = this.membership.member(node);
    if (!member) throw new ClusterError(ClusterCodes.peerUnknown, `node "${node}" is not a member of this cluster`, { field: 'node' });
    this.ensureLink(node, member.address);
    this.transport.send(node, message);
  }

  /** Membership talks to addresses; the transport to node ids (learnt from the seed string or asked over HTTP). */
  private async sendMembership(to: PeerTarget, message: MembershipMessage): Promise<void> {
    try {
      const nodeId = to.nodeId ?? this.ids.get(to.address) ?? (await this.askNodeId(to.address));
      if (nodeId === this.start_.kernel.nodeId) return;
      this.ensureLink(nodeId, to.address);
      try {
        this.transport.send(nodeId, message as unknown as Record<string, unknown>);
      } catch (err) {
        // No usable link (dropped for good): dial again next time.
        this.linked.delete(nodeId);
        throw err;
      }
    } catch {
      // Best effort, as membership expects: a lost message is retried by its own timers.
    }
  }

  private seedAddress(seed: string): string {
    const at = seed.indexOf('@');
    if (at > 0 && /^[a-z]+:\/\//.test(seed.slice(at + 1))) {
      const address = seed.slice(at + 1);
      this.ids.set(address, seed.slice(0, at));
      return address;
    }
    return seed;
  }

  private async askNodeId(address: string): Promise<string> {
    const url = new URL(NODE_ID_PATH, address.replace(/^ws/, 'http'));
    const body = (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as { nodeId?: unknown };
    if (typeof body.nodeId !== 'string') throw new ClusterError(ClusterCodes.peerUnknown, `${address} did not say its node id`, { field: 'seeds' });
    this.ids.set(address, body.nodeId);
    return body.nodeId;
  }
}
