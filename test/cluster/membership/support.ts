// A simulated cluster for membership tests: N memberships on one VirtualClock
// over an InMemoryNetwork, each node with its own pausable view of the clock
// (so a frozen node's timers stop as a SIGSTOPped process's would), an event
// log per node, and helpers to crash, restart, freeze and wait.

import { VirtualClock, type Clock, type TimerHandle } from '../../../src/base/clock.js';
import { seededRng } from '../../../src/base/rng.js';
import { InMemoryNetwork, type InMemoryLink } from '../../../src/cluster/membership/in-memory-network.js';
import { Membership } from '../../../src/cluster/membership/membership.js';
import type { MembershipOptions } from '../../../src/cluster/membership/options.js';
import type { Member } from '../../../src/cluster/membership/member.js';
import type { MembershipEvent } from '../../../src/cluster/membership/view.js';

interface PausableTimer {
  fn: () => void;
  cancelled: boolean;
  inner: TimerHandle;
}

/** A node's clock: the shared virtual time, but timers that fall due while paused run on resume. */
export class PausableClock implements Clock {
  private paused = false;
  private deferred: PausableTimer[] = [];

  constructor(private readonly base: VirtualClock) {}

  now(): number {
    return this.base.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: PausableTimer = { fn, cancelled: false, inner: undefined };
    t.inner = this.base.setTimeout(() => {
      if (t.cancelled) return;
      if (this.paused) this.deferred.push(t);
      else fn();
    }, ms);
    return t;
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as PausableTimer;
    t.cancelled = true;
    this.base.clearTimeout(t.inner);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const t of this.deferred.splice(0)) if (!t.cancelled) t.fn();
  }
}

export interface LoggedEvent {
  node: string;
  event: MembershipEvent;
}

export interface SimNode {
  id: string;
  address: string;
  membership: Membership;
  link: InMemoryLink;
  clock: PausableClock;
  running: boolean;
}

export type NodeOverrides = Partial<Omit<MembershipOptions, 'nodeId' | 'address' | 'clock' | 'rng' | 'link'>>;

export const addressOf = (id: string): string => `ws://10.0.0.${id.replace(/\D/g, '')}:7400`;

export class SimCluster {
  readonly clock = new VirtualClock(0);
  readonly network: InMemoryNetwork;
  readonly nodes = new Map<string, SimNode>();
  readonly log: LoggedEvent[] = [];
  private readonly seed: number;

  constructor(
    private readonly defaults: NodeOverrides = {},
    options: { seed?: number; delayMs?: { min: number; max: number }; dropRate?: number } = {},
  ) {
    this.seed = options.seed ?? 1;
    this.network = new InMemoryNetwork({ clock: this.clock, rng: seededRng(this.seed * 7919 + 1), delayMs: options.delayMs, dropRate: options.dropRate });
  }

  /** Creates and starts node `id` (seeds default to n1's address). */
  start(id: string, overrides: NodeOverrides = {}): SimNode {
    const address = addressOf(id);
    const clock = new PausableClock(this.clock);
    const link = this.network.connect(id, address);
    const incarnation = overrides.incarnation ?? 1;
    const membership = new Membership({
      seeds: [addressOf('n1')],
      ...this.defaults,
      ...overrides,
      incarnation,
      nodeId: id,
      address,
      clock,
      rng: seededRng(this.seed * 1000 + Number(id.replace(/\D/g, '')) * 31 + incarnation),
      link,
    });
    membership.on((event) => this.log.push({ node: id, event }));
    const node: SimNode = { id, address, membership, link, clock, running: true };
    this.nodes.set(id, node);
    membership.start();
    return node;
  }

  startAll(n: number, overrides: NodeOverrides = {}): void {
    for (let i = 1; i <= n; i++) this.start(`n${i}`, overrides);
  }

  node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  m(id: string): Membership {
    return this.node(id).membership;
  }

  /** Process death: it stops sending and receiving at once. */
  crash(id: string): void {
    const n = this.node(id);
    n.membership.stop();
    n.link.close();
    n.running = false;
  }

  /** A new process under the same id and address, one incarnation later. */
  restart(id: string, overrides: NodeOverrides = {}): SimNode {
    const old = this.node(id);
    if (old.running) this.crash(id);
    return this.start(id, { ...overrides, incarnation: old.membership.self().incarnation + 1 });
  }

  freeze(id: string): void {
    this.node(id).clock.pause();
    this.network.freeze(id);
  }

  /** SIGCONT: buffered messages are read first (the process wakes in its poll), then overdue timers run. */
  thaw(id: string): void {
    this.network.thaw(id);
    this.node(id).clock.resume();
  }

  running(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.running);
  }

  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** Advances in steps until `done()` holds; returns the virtual time it took, or throws after `maxMs`. */
  advanceUntil(done: () => boolean, maxMs: number, stepMs = 50): number {
    const start = this.clock.now();
    while (!done()) {
      if (this.clock.now() - start >= maxMs) throw new Error(`condition not reached within ${maxMs} ms (virtual)`);
      this.clock.advance(stepMs);
    }
    return this.clock.now() - start;
  }

  /** Every running node holds the same view, in which exactly the running nodes are members and all are up. */
  converged(): boolean {
    const nodes = this.running();
    const expected = nodes.map((n) => n.id).sort();
    const first = viewKey(nodes[0].membership.members());
    return nodes.every((n) => {
      const members = n.membership.members();
      return (
        viewKey(members) === first &&
        members.every((m) => m.status === 'up') &&
        members.map((m) => m.nodeId).sort().join() === expected.join()
      );
    });
  }

  /** Events seen by `node` (all nodes when omitted) of the given types. */
  events(types: readonly MembershipEvent['type'][], node?: string): LoggedEvent[] {
    return this.log.filter((l) => types.includes(l.event.type) && (node === undefined || l.node === node));
  }

  /** Member events about `subject` seen by `observer`, as "type@incarnation" strings. */
  history(observer: string, subject: string): string[] {
    return this.log
      .filter((l) => l.node === observer && 'member' in l.event && l.event.member.nodeId === subject)
      .map((l) => {
        const e = l.event as Extract<MembershipEvent, { member: Member }>;
        return `${e.type}@${e.member.incarnation}`;
      });
  }

  /** First time `observer` logged an event of `type` about `subject` (undefined: never). */
  firstAt(observer: string, type: MembershipEvent['type'], subject?: string): number | undefined {
    const hit = this.log.find(
      (l) => l.node === observer && l.event.type === type && (subject === undefined || ('member' in l.event && l.event.member.nodeId === subject)),
    );
    return hit?.event.at;
  }
}

export function viewKey(members: readonly Member[]): string {
  return JSON.stringify(members.map((m) => [m.nodeId, m.address, m.incarnation, m.status, m.version]));
}

/** Drains pending promise callbacks (a hook awaiting something resolved in the same tick). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Advances virtual time in small steps until `promise` settles; returns its outcome. */
export async function settle<T>(sim: SimCluster, promise: Promise<T>, maxMs: number, stepMs = 10): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  const start = sim.clock.now();
  await flush();
  while (outcome === undefined) {
    if (sim.clock.now() - start > maxMs) throw new Error(`promise not settled within ${maxMs} ms (virtual)`);
    sim.clock.advance(stepMs);
    await flush();
  }
  return outcome;
}
