// The kernel's gauges, read when a metric reader collects (nothing is kept
// per message): actors, queued messages and mailbox wait per latency class,
// deliveries, deadline misses and dead letters. Counters of system events
// (restarts, escalations, refusals, deadline misses as they happen) are kept
// by the kernel's tracing as `agentos.events`.

import type { Kernel } from '../../kernel/kernel.js';
import type { TreeNode } from '../../supervisors/types.js';

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
  observeLanes(kernel, base);
}

/** Per HRT lane actor, from its lane's latest report: releases, misses, jitter and response p99, observed WCET. */
function observeLanes(kernel: Kernel, base: Record<string, string>): void {
  const meter = kernel.telemetry.meter;
  const figures = [
    ['agentos.hrt.releases', 'jobs released', (s: LaneStats) => s.releases, undefined],
    ['agentos.hrt.misses', 'jobs that finished after their deadline or were given up late', (s: LaneStats) => s.misses, undefined],
    ['agentos.hrt.jitter_p99', 'release jitter p99', (s: LaneStats) => s.jitterMs.p99, 'ms'],
    ['agentos.hrt.response_p99', 'response time p99', (s: LaneStats) => s.responseMs.p99, 'ms'],
    ['agentos.hrt.wcet_observed', 'largest measured job execution time', (s: LaneStats) => s.observedWcetMs, 'ms'],
  ] as const;
  for (const [name, description, read, unit] of figures) {
    meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) }).addCallback((r) => {
      for (const id of workers(kernel.tree())) {
        const stats = kernel.lanes.report(id)?.stats as LaneStats | undefined;
        if (stats) r.observe(read(stats), { ...base, 'agentos.actor': id });
      }
    });
  }
}

interface LaneStats {
  releases: number;
  misses: number;
  observedWcetMs: number;
  jitterMs: { p99: number };
  responseMs: { p99: number };
}

function workers(node: TreeNode, out: string[] = []): string[] {
  if (node.kind === 'worker') out.push(node.id);
  for (const c of node.children ?? []) workers(c, out);
  return out;
}
