// A simulated LAN for membership tests (and, later, multi-node tests of the
// node on one VirtualClock): endpoints by address, each with an authenticated
// node id; messages copied (structuredClone, as a wire would), delayed on the
// injected Clock, kept in order per directed link, and subject to partitions,
// a drop rate and freezing. Randomness (drops, delays) comes from an injected Rng.

import type { Clock } from '../../base/clock.js';
import type { Rng } from '../../base/rng.js';
import { ClusterCodes, ClusterError } from '../errors.js';
import type { MembershipMessage } from './messages.js';
import type { MembershipLink, PeerTarget } from './options.js';

export interface InMemoryNetworkOptions {
  clock: Clock;
  rng: Rng;
  /** One-way delay range in ms (uniform). Default 1–5. */
  delayMs?: { min: number; max: number };
  /** Probability that a message is lost. Default 0. */
  dropRate?: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
}

interface Endpoint {
  nodeId: string;
  address: string;
  handler: ((from: string, message: unknown) => void) | undefined;
  /** Messages held while the node is frozen, delivered in order on thaw. */
  held: Array<{ from: string; message: unknown }>;
  closed: boolean;
}

export interface InMemoryLink extends MembershipLink {
  /** Detaches this endpoint: nothing more is sent or delivered (a crash, or a node stopping). */
  close(): void;
}

export class InMemoryNetwork {
  private readonly clock: Clock;
  private readonly rng: Rng;
  private delay: { min: number; max: number };
  private dropRate: number;
  private readonly byAddress = new Map<string, Endpoint>();
  private readonly cuts = new Set<string>();
  private readonly frozen = new Set<string>();
  /** Delay ranges for single directed links (by node id), overriding the network's. */
  private readonly linkDelay = new Map<string, { min: number; max: number }>();
  /** Per directed link, the time the last message is due: later ones never overtake it. */
  private readonly lastDue = new Map<string, number>();
  private readonly counters: NetworkStats = { sent: 0, delivered: 0, dropped: 0 };

  constructor(options: InMemoryNetworkOptions) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.delay = { min: 1, max: 5 };
    this.dropRate = 0;
    if (options.delayMs !== undefined) this.setDelay(options.delayMs.min, options.delayMs.max);
    if (options.dropRate !== undefined) this.setDropRate(options.dropRate);
  }

  /** Attaches a node at `address`, replacing any earlier endpoint there (a restart). */
  connect(nodeId: string, address: string): InMemoryLink {
    const previous = this.byAddress.get(address);
    if (previous !== undefined) previous.closed = true;
    const endpoint: Endpoint = { nodeId, address, handler: undefined, held: [], closed: false };
    this.byAddress.set(address, endpoint);
    return {
      send: (to: PeerTarget, message: MembershipMessage) => this.send(endpoint, to, message),
      onMessage: (handler) => {
        endpoint.handler = handler;
        return () => {
          if (endpoint.handler === handler) endpoint.handler = undefined;
        };
      },
      close: () => {
        endpoint.closed = true;
        if (this.byAddress.get(address) === endpoint) this.byAddress.delete(address);
      },
    };
  }

  /** Cuts every link between a node of `a` and a node of `b` (by node id), both ways. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) if (x !== y) this.cuts.add(pairKey(x, y));
  }

  /** Restores every cut link. */
  heal(): void {
    this.cuts.clear();
  }

  setDropRate(rate: number): void {
    if (!(rate >= 0 && rate <= 1)) throw new ClusterError(ClusterCodes.invalidOptions, `dropRate must be within [0, 1], got ${rate}`, { field: 'dropRate' });
    this.dropRate = rate;
  }

  setDelay(min: number, max: number): void {
    this.checkDelay(min, max);
    this.delay = { min, max };
  }

  private checkDelay(min: number, max: number): void {
    if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
      throw new ClusterError(ClusterCodes.invalidOptions, `delayMs must satisfy 0 ≤ min ≤ max, got ${min}–${max}`, { field: 'delayMs' });
    }
  }

  /** Sets (or with undefined clears) the delay range of the directed link from → to. */
  setLinkDelay(from: string, to: string, delay: { min: number; max: number } | undefined): void {
    if (delay === undefined) {
      this.linkDelay.delete(`${from}\u0000${to}`);
      return;
    }
    this.checkDelay(delay.min, delay.max);
    this.linkDelay.set(`${from}\u0000${to}`, { ...delay });
  }

  /**
   * SIGSTOP analogue: the node sends nothing (what it tries to send is lost, as a
   * stopped process sends nothing) and what reaches it waits in its socket buffer.
   */
  freeze(nodeId: string): void {
    this.frozen.add(nodeId);
  }

  /** SIGCONT: delivers everything held for the node, in order, then runs normally. */
  thaw(nodeId: string): void {
    this.frozen.delete(nodeId);
    for (const endpoint of this.byAddress.values()) {
      if (endpoint.nodeId !== nodeId) continue;
      const held = endpoint.held.splice(0);
      for (const h of held) this.deliverNow(endpoint, h.from, h.message);
    }
  }

  isConnected(a: string, b: string): boolean {
    return !this.cuts.has(pairKey(a, b));
  }

  stats(): NetworkStats {
    return { ...this.counters };
  }

  private send(from: Endpoint, to: PeerTarget, message: MembershipMessage): void {
    if (from.closed) return;
    this.counters.sent++;
    const target = this.byAddress.get(to.address);
    const lost =
      target === undefined ||
      (to.nodeId !== undefined && target.nodeId !== to.nodeId) || // the transport would fail authentication
      this.frozen.has(from.nodeId) ||
      !this.isConnected(from.nodeId, target.nodeId) ||
      (this.dropRate > 0 && this.rng.next() < this.dropRate);
    if (lost) {
      this.counters.dropped++;
      return;
    }
    const copy: unknown = structuredClone(message);
    const { min, max } = this.linkDelay.get(`${from.nodeId}\u0000${target.nodeId}`) ?? this.delay;
    const link = `${from.address}\u0000${target.address}`;
    const due = Math.max(this.clock.now() + min + this.rng.next() * (max - min), this.lastDue.get(link) ?? 0);
    this.lastDue.set(link, due);
    this.clock.setTimeout(() => this.arrive(from.nodeId, target, copy), due - this.clock.now());
  }

  private arrive(from: string, target: Endpoint, message: unknown): void {
    // A partition or a crash that happened while the message was in flight loses it.
    if (target.closed || !this.isConnected(from, target.nodeId)) {
      this.counters.dropped++;
      return;
    }
    if (this.frozen.has(target.nodeId)) {
      target.held.push({ from, message });
      return;
    }
    this.deliverNow(target, from, message);
  }

  private deliverNow(target: Endpoint, from: string, message: unknown): void {
    if (target.closed || target.handler === undefined) {
      this.counters.dropped++;
      return;
    }
    this.counters.delivered++;
    target.handler(from, message);
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}
