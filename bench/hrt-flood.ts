// The main-thread flood of `npm run bench:hrt`: DT agents on the node, kept fed
// with messages whose handler burns CPU and allocates (a window of large arrays
// of small objects stays reachable, so the old generation fills and V8 runs
// full mark-compacts over a large heap); with --expose-gc a full gc() is also
// forced every few seconds. GC pauses of the main thread are observed.

import { PerformanceObserver } from 'node:perf_hooks';
import { setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, type AgentOsNode } from '../src/index.js';
import { spin } from './lib.js';

export interface FloodOptions {
  /** DT agents sharing the flood. */
  agents: number;
  /** CPU burnt per message, µs. */
  workUs: number;
  /** Allocated per message, KiB of small objects. */
  allocKiB: number;
  /** Kept reachable (a sliding window of the allocations), MiB. */
  retainMiB: number;
  /** With --expose-gc: a forced full gc() this often, ms (0: never). */
  forceGcEveryMs: number;
}

export interface FloodStats {
  messages: number;
  allocatedMiB: number;
  gcPauses: number;
  gcMaxMs: number;
  gcTotalMs: number;
  forcedGcs: number;
  seconds: number;
}

const floodMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('work') })]);
/** ~40 bytes of heap per { i, s } object. */
const OBJECT_BYTES = 40;

export async function startFlood(node: AgentOsNode, o: FloodOptions): Promise<{ stop(): FloodStats }> {
  const perMessage = Math.max(1, Math.round((o.allocKiB * 1024) / OBJECT_BYTES));
  const retained: unknown[][] = new Array(Math.max(1, Math.round(o.retainMiB / (o.allocKiB / 1024)))).fill([]);
  let handled = 0;
  let next = 0;
  const machine = setup({}).createMachine({
    id: 'bench-flood',
    on: {
      work: {
        actions: () => {
          spin(o.workUs);
          const chunk = new Array<{ i: number; s: string }>(perMessage);
          for (let i = 0; i < perMessage; i++) chunk[i] = { i, s: `x${i & 1023}` };
          retained[next] = chunk;
          next = (next + 1) % retained.length;
          handled++;
        },
      },
    },
  });
  const def = defineAgent({ name: 'bench-flood', machine, messages: floodMessages, contract: { class: { latency: 'DT' } } });
  const refs = await Promise.all(Array.from({ length: o.agents }, (_, i) => node.spawn(def, { id: `flood-${i}` })));

  const gc = { pauses: 0, max: 0, total: 0, forced: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.pauses++;
      gc.total += e.duration;
      if (e.duration > gc.max) gc.max = e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  // Keep each agent's backlog topped up, so the main thread never runs out of DT work.
  const backlog = 16;
  let sent = 0;
  let running = true;
  const feed = (): void => {
    if (!running) return;
    while (sent - handled < backlog * refs.length) {
      refs[sent % refs.length]!.send({ type: 'work' });
      sent++;
    }
    setTimeout(feed, 1);
  };
  feed();
  const forcedGc = (globalThis as { gc?: () => void }).gc;
  const forcer = forcedGc && o.forceGcEveryMs > 0 ? setInterval(() => (forcedGc(), gc.forced++), o.forceGcEveryMs) : undefined;
  const t0 = performance.now();
  return {
    stop: () => {
      running = false;
      if (forcer) clearInterval(forcer);
      observer.disconnect();
      retained.fill([]);
      return {
        messages: handled,
        allocatedMiB: (handled * perMessage * OBJECT_BYTES) / 2 ** 20,
        gcPauses: gc.pauses,
        gcMaxMs: gc.max,
        gcTotalMs: gc.total,
        forcedGcs: gc.forced,
        seconds: (performance.now() - t0) / 1000,
      };
    },
  };
}
