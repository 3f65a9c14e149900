// The kernel-side half of the marketplace: one MarketService per kernel writes
// the market's audit records (kind `market`: bids, late bids, awards, failures,
// outcomes) through `kernel.governance.record`, emits `@agentos.market.*`
// events, and counts decisions. Manager and bidder definitions never hold a
// kernel: a definition is code registered by name on every node (and given to
// createNode before the kernel exists, for persistent actors), so a market
// actor finds its node's service at run time, through the cell running it.

import { cellOfSystem, type ActorCell } from '../../actors/cell.js';
import type { Clock } from '../../base/clock.js';
import { Kernel } from '../../kernel/kernel.js';
import { MarketCodes, MarketError, type MarketReason } from './errors.js';
import type { Json } from './types.js';

/** Decisions that also go out as `@agentos.market.<decision>` inspection events. */
const EMITTED = new Set(['awarded', 'bid-late', 'execution-failed', 'done', 'task-failed', 'reannounced']);

export class MarketService {
  private static readonly byKernel = new WeakMap<Kernel, MarketService>();
  private readonly counts: Record<string, number> = {};

  /** The market service of a kernel (created on first use). */
  static of(kernel: Kernel): MarketService {
    let service = MarketService.byKernel.get(kernel);
    if (!service) {
      service = new MarketService(kernel);
      MarketService.byKernel.set(kernel, service);
    }
    return service;
  }

  private constructor(private readonly kernel: Kernel) {}

  /** Append a market decision of `actor` to the node's audit log (and count it). */
  record(actor: string, decision: string, subject: string, data: Record<string, Json>, why?: MarketReason): void {
    const tenant = this.kernel.governance.admittedActor(actor)?.tenant;
    this.kernel.governance.record({
      kind: 'market',
      decision,
      actor,
      ...(tenant === undefined ? {} : { tenant }),
      subject,
      ...(why ? { reason: why.message } : {}),
      data: why ? { ...data, code: why.code } : data,
    });
    this.counts[decision] = (this.counts[decision] ?? 0) + 1;
    if (EMITTED.has(decision)) this.kernel.emit(`@agentos.market.${decision}`, { actor, subject, ...data, ...(why ? { code: why.code } : {}) });
  }

  /** Market decisions recorded on this node so far, by decision. */
  stats(): Record<string, number> {
    return { ...this.counts };
  }
}

function cellOf(system: unknown, what: string): ActorCell {
  const cell = cellOfSystem(system);
  if (!cell) throw new MarketError(MarketCodes.notAnAgent, `${what}: this machine is not running as an agentos actor (spawn it with node.spawn)`);
  return cell;
}

/** The market service of the node running this machine (from an action's `system`). */
export function marketOf(system: unknown): MarketService {
  const host = cellOf(system, 'market').host;
  if (!(host instanceof Kernel)) throw new MarketError(MarketCodes.notAnAgent, 'market: this actor is not hosted by an agentos kernel');
  return MarketService.of(host);
}

/** The sender of the message being handled, as the kernel set it (undefined for timers and senders outside any actor). */
export function senderOf(system: unknown): string | undefined {
  return cellOfSystem(system)?.current?.from;
}

/**
 * Now, on the clock this actor's timers run on: the node's clock (or, while a
 * persistent actor's logged turns run again, the replay clock XState was given).
 */
export function actorNow(system: unknown): number {
  const own = (system as { _clock?: Clock } | null)?._clock;
  return (own ?? cellOf(system, 'market').host.clock).now();
}
