// Shared pieces of the marketplace tests: a node on a virtual clock, scripted
// bidders, and a driver that lets the node work and moves time.
import { createNode, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { bidder, type Bid, type BidderOptions } from '../../../src/services/market/index.js';
import { settle } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';

export interface MarketNode {
  node: AgentOsNode;
  clock: VirtualClock;
  events: { type: string; [k: string]: unknown }[];
  /** Let queued messages be handled, then advance the clock by `ms` (in `stepMs` steps, settling after each). */
  run(ms: number, stepMs?: number): Promise<void>;
  /** Audit records of kind `market`, in order. */
  marketAudit(): { decision: string; subject?: string; actor?: string; reason?: string; data?: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function marketNode(): Promise<MarketNode> {
  const tmp = tempDir('agentos-market-');
  const clock = new VirtualClock(0);
  const events: MarketNode['events'] = [];
  const node = await createNode({ name: 'm1', dataDir: tmp.dir, clock, memory: false, inspect: (e) => events.push(e as never) });
  return {
    node,
    clock,
    events,
    async run(ms, stepMs = 1) {
      await settle();
      for (let t = 0; t < ms; t += stepMs) {
        clock.advance(Math.min(stepMs, ms - t));
        await settle();
      }
    },
    marketAudit() {
      const out: ReturnType<MarketNode['marketAudit']> = [];
      for (let i = 0; i < node.audit.size; i++) {
        const r = node.audit.record(i) as { kind: string } & ReturnType<MarketNode['marketAudit']>[number];
        if (r.kind === 'market') out.push(r);
      }
      return out;
    },
    async close() {
      await node.stop();
      tmp.cleanup();
    },
  };
}

/** A bidder that always offers `bid`, optionally fails its work, answers after `replyAfterMs` and works `workMs`. */
export function fixedBidder(name: string, bid: Bid, opts: { fail?: boolean; replyAfterMs?: number; workMs?: number; refuse?: boolean; persistent?: boolean } = {}) {
  const config: BidderOptions = {
    name,
    evaluate: () => (opts.refuse ? { refuse: 'busy' } : bid),
    execute: (award) => {
      if (opts.fail) throw new Error(`${name} broke down on ${award.taskId}`);
      return { by: name, task: award.taskId };
    },
    ...(opts.replyAfterMs === undefined ? {} : { replyAfterMs: () => opts.replyAfterMs! }),
    ...(opts.workMs === undefined ? {} : { workMs: () => opts.workMs! }),
    ...(opts.persistent ? { persistent: true } : {}),
  };
  return bidder(config);
}
