// The kernel's gauges, read when a metric reader collects (nothing is kept
// per message): actors, queued messages and mailbox wait per latency class,
// deliveries, deadline misses and dead letters. Counters of system events
// (restarts, escalations, refusals, deadline misses as they happen) are kept
// by the kernel's tracing as `agentos.events`.

import type { Kernel } from '../../kernel/kernel.js';

const CLASSES = ['HRT', 'SRT', 'DT'] as const;

export function observeKernel(kernel: Kernel): void {
  const meter = kernel.telemetry.meter;
  const base = { 'agentos.node': kernel.nodeId };
  meter
    .createObservableGauge('agentos.actors', { description: 'actors hosted by the node' })
    .addCallback((r) => r.observe(kernel.actorCount, base));
  meter
    .createObservableCounter('agentos.messages.delivered', { description: 'messages delivered, by latency class' })
    .addCallback((r) => {
      const s = kernel.scheduler.stats();
      for (const c of CLASSES) r.observe(s[c].delivered, { ...base, 'agentos.class': c });
    });
  meter
    .createObservableGauge('agentos.mailbox.wait_p99', { description: 'p99 time a message waited in a mailbox, by class', unit: 'ms' })
    .addCallback((r) => {
      const s = kernel.scheduler.stats();
      for (const c of CLASSES) r.observe(s[c].waitMs.p99, { ...base, 'agentos.class': c });
    });
  meter
    .createObservableGauge('agentos.mailbox.depth', { description: 'messages queued, by class' })
    .addCallback((r) => {
      for (const [cls, depth] of Object.entries(kernel.queuedByClass())) r.observe(depth, { ...base, 'agentos.class': cls });
    });
  meter
    .createObservableCounter('agentos.deadline.misses', { description: 'HRT messages delivered after their deadline' })
    .addCallback((r) => r.observe(kernel.scheduler.stats().deadlineMisses, base));
  meter
    .createObservableCounter('agentos.deadletters', { description: 'messages that could not be delivered' })
    .addCallback((r) => r.observe(kernel.router.deadLetters.count, base));
}
