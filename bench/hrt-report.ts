// The table of `npm run bench:hrt` (printed, and kept in bench/RESULTS.md under
// "## HRT lane", one subsection per mode, other sections left as they are).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { HrtLatencyStats } from '../src/kernel/hrt/index.js';
import { GUARD_PERIOD_MS, GUARD_WCET_MS } from './hrt-guard.js';
import type { HrtRunResult } from './hrt-run.js';

export interface ReportContext {
  /** Subsection key in RESULTS.md: default, gc-single, gc-pool1, burn-in. */
  key: string;
  title: string;
  /** What happened to the GC flags asked for (refused in a worker, applied process-wide…). */
  gcNote: string | undefined;
  gcExposed: boolean;
  wallSeconds: number;
}

const ms = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(3)} ms`);
const n = (x: number): string => x.toLocaleString('en-US');
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
const rate = (misses: number, releases: number): string => (releases === 0 ? '' : ` (${((misses / releases) * 100).toFixed(misses === 0 ? 0 : 3)}%)`);

/** The probes' figure of the worst CPU. */
const worst = (r: HrtRunResult, pick: (s: HrtLatencyStats) => number): number => Math.max(...r.probe.cpus.map((c) => pick(c.oversleep)));
const probeStalls = (r: HrtRunResult): number => r.probe.cpus.reduce((a, c) => a + c.overPeriod, 0);

export function targetsMet(r: HrtRunResult): { jitter99: boolean; jitter999: boolean; missesVsProbe: boolean; explained: boolean } {
  return {
    jitter99: r.lane.jitterMs.p99 <= 1,
    jitter999: r.lane.jitterMs.p999 <= 5,
    missesVsProbe: r.lane.misses <= probeStalls(r),
    explained: r.laneExplained.unexplained.length === 0,
  };
}

export function hrtTable(r: HrtRunResult): string {
  const t = targetsMet(r);
  const rows: string[][] = [];
  const row = (...c: string[]): number => rows.push(c);
  const jitter = (label: string, pick: (s: HrtLatencyStats) => number, target = '–', result = '–'): void => {
    row(`release jitter ${label}`, ms(pick(r.lane.jitterMs)), ms(pick(r.main.jitterMs)), `${ms(worst(r, pick))} (oversleep)`, target, result);
  };
  row('releases (10 ms period)', n(r.lane.releases), n(r.main.releases), `${n(r.probe.cpus.reduce((a, c) => a + c.samples, 0))} sleeps of ${r.probe.periodMs} ms`, '–', '–');
  row('deadline misses', `${n(r.lane.misses)}${rate(r.lane.misses, r.lane.releases)}`, `${n(r.main.misses)}${rate(r.main.misses, r.main.releases)}`,
    `${n(probeStalls(r))} stalls > 10 ms (${r.probe.cpus.map((c) => n(c.overPeriod)).join(' + ')} by CPU)`, '≤ the probes\'', met(t.missesVsProbe));
  row('misses not explained by a probe stall', n(r.laneExplained.unexplained.length), n(r.mainExplained.unexplained.length), '–', '0 (burn-in)', met(t.explained));
  jitter('p50', (s) => s.p50);
  jitter('p99', (s) => s.p99, '≤ 1 ms', met(t.jitter99));
  jitter('p99.9', (s) => s.p999, '≤ 5 ms', met(t.jitter999));
  jitter('max', (s) => s.max);
  row('response time p50', ms(r.lane.responseMs.p50), ms(r.main.responseMs.p50), '–', '–', '–');
  row('response time p99', ms(r.lane.responseMs.p99), ms(r.main.responseMs.p99), '–', `≤ ${GUARD_PERIOD_MS} ms`, met(r.lane.responseMs.p99 <= GUARD_PERIOD_MS));
  row('response time max', ms(r.lane.responseMs.max), ms(r.main.responseMs.max), '–', '–', '–');
  row(`observed WCET (declared ${GUARD_WCET_MS} ms)`, ms(r.lane.observedWcetMs), ms(r.main.observedWcetMs), '–', `≤ ${GUARD_WCET_MS} ms`, met(r.lane.observedWcetMs <= GUARD_WCET_MS));
  row('WCET overruns', n(r.lane.wcetOverruns), n(r.main.wcetOverruns), '–', '–', '–');
  const a = r.actuator;
  row('safety path: release → actuator p50 / p99', `${ms(a.latency.p50)} / ${ms(a.latency.p99)}`, '–', '–', '–', '–');
  row('safety path: release → actuator p99.9 / max', `${ms(a.latency.p999)} / ${ms(a.latency.max)}`, '–', '–', '–', '–');
  row('safety path: decisions late (> 10 ms) / missing', `${n(a.late)} / ${n(a.gaps)} of ${n(a.decisions)}`, '–', '–', '0 late', met(a.late === 0));
  const head = ['figure', 'HRT lane', 'main thread (setTimeout)', `idle probe threads (worst of ${r.probe.cpus.length} CPUs)`, 'target', 'result'];
  return [`| ${head.join(' | ')} |`, '| --- | ---: | ---: | ---: | --- | --- |', ...rows.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}

/** The lane's long GC pauses by kind, e.g. " (minor 3, longest 2.1 ms; major 1, longest 98 ms)". */
function longGcs(r: HrtRunResult): string {
  const by = new Map<string, number[]>();
  for (const p of r.laneGc.long) by.set(p.gc, [...(by.get(p.gc) ?? []), p.durationMs]);
  if (by.size === 0) return '';
  return ` (${[...by].map(([k, d]) => `${k} ${d.length}, longest ${ms(Math.max(...d))}`).join('; ')})`;
}

export function hrtNotes(r: HrtRunResult, c: ReportContext): string[] {
  const f = r.flood;
  const stalls = r.probe.stalls;
  const longest = stalls.reduce((m, s) => Math.max(m, s.overMs), 0);
  const out = [
    `- ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}; load average at start ${r.load} (the machine is shared with other work); window ${r.seconds} s, whole run ${c.wallSeconds.toFixed(0)} s`,
    `- lane thread: ${r.lanePriority?.policy ?? '?'} — ${r.lanePriority?.detail ?? ''}; probes: ${r.probe.cpus.map((c) => `CPU ${c.cpu} ${c.pinned ? 'pinned' : 'NOT pinned'}, ${c.priority.policy}`).join('; ')}; actuator: ${r.actuator.priority.policy}` +
      (r.stealPct === undefined ? '' : `; VM steal during the window ${r.stealPct.toFixed(1)}% of CPU time`) +
      (r.laneThread ? `; the lane thread in the window: ${n(r.laneThread.minorFaults)} minor / ${n(r.laneThread.majorFaults)} major page faults, preempted ${n(r.laneThread.preempted)} times` : ''),
    `- GC: ${c.gcNote ?? 'default V8 GC (helper threads on)'}`,
    `- main-thread flood: ${n(f.messages)} DT messages (${n(Math.round(f.messages / f.seconds))}/s), ${n(Math.round(f.allocatedMiB))} MiB allocated (${n(Math.round(f.allocatedMiB / f.seconds))} MiB/s); main-thread GC pauses ${n(f.gcPauses)}, longest ${ms(f.gcMaxMs)}, total ${ms(f.gcTotalMs)}` +
      (c.gcExposed ? `; forced gc() ${n(f.forcedGcs)} times` : '; gc() not exposed (run with --expose-gc to force full GCs too)'),
    `- probe oversleeps by CPU (p99 / p99.9 / max): ${r.probe.cpus.map((c) => `${ms(c.oversleep.p99)} / ${ms(c.oversleep.p999)} / ${ms(c.oversleep.max)}`).join('; ')}; stalls kept: ${n(stalls.length)}, longest ${ms(longest)}; lane misses: ${n(r.laneMisses.length)} reported (${n(r.laneExplained.explained.length)} explained by a probe stall within ${r.probe.periodMs} ms of their lateness, ${n(r.laneExplained.unexplained.length)} not); lane WCET-overrun events ${n(r.laneOverruns)}`,
    `- the lane's own GC in the window (its heap, ${(r.laneGc.heapUsedBytes / 2 ** 20).toFixed(0)} MiB used, not the main thread's): ${n(r.laneGc.pauses)} pauses, total ${ms(r.laneGc.totalMs)}, longest ${r.laneGc.maxMs < 1 ? '< 1 ms' : ms(r.laneGc.maxMs)}, ${n(r.laneGc.long.length)} of them ≥ 1 ms${longGcs(r)}; unexplained lane misses overlapping one: ${n(r.unexplainedInLaneGc)}`,
    `- warm-up, before the window (lane thread start and first load of the guard's module, ${r.warmUp.seconds} s, a separate guard): ${n(r.warmUp.stats?.releases ?? 0)} releases, ${n(r.warmUp.stats?.misses ?? 0)} misses, jitter max ${ms(r.warmUp.stats?.jitterMs.max)}; the lane's GC then: ${n(r.warmUp.gc.pauses)} pauses, longest ${ms(r.warmUp.gc.maxMs)}`,
    `- safety path: ${n(r.actuator.decisions)} decisions timed (${n(r.actuator.vetoes)} vetoes; ${n(r.actuator.backlog)} more released before the ring reached the actuator, read but not timed) from the guard's direct ring; the actuator blocks on the ring (Atomics.wait, 1 ms timeout) and was woken by the lane's notify ${n(r.actuator.ringWakeups)} times` +
      (r.actuator.ringWakeups === 0 ? ' (never: it woke on its 1 ms timeout every time)' : ''),
  ];
  const worst = [...r.laneExplained.unexplained].sort((a, b) => b.latenessMs - a.latenessMs).slice(0, 5);
  if (worst.length > 0) out.push(`- worst unexplained lane misses: ${worst.map((m) => `#${m.index} ${m.kind} by ${ms(m.latenessMs)}`).join(', ')}`);
  return out;
}

const SECTION = '## HRT lane';
const INTRO = [
  SECTION,
  '',
  'Generated by `npm run bench:hrt` (bench/hrt.ts). A 10 ms guard (WCET declared 2 ms, overrun policy skip) runs on the HRT lane while the main thread is flooded with DT work that burns CPU and allocates (a sliding window of large arrays stays reachable, so V8 runs full mark-compacts over a large heap; with --expose-gc a full gc() is also forced every 5 s). In the same window: the same machine under the same dispatcher on the main thread, woken by setTimeout (the baseline), and idle probe threads, one pinned to each CPU at a real-time priority above the lane\'s (so the lane\'s own work cannot stall them), that sleep 1 ms at a time with Atomics.wait and record how late they wake (the machine\'s own stalls, on whichever CPU the lane runs; a stall of D ms reads as an oversleep between D − 1 and D). Figures for the lane are the dispatcher\'s own (start − release, finish − release, execution time; jitter and response count the jobs that ran, a job abandoned past its deadline is a miss), reported by the lane. A lane miss is explained when, during its window (release to finish or abandonment), a probe overslept at least as long as the miss was late, less the probe\'s 1 ms resolution. The safety path is the guard\'s direct ring read by an actuator thread: release → decision received.',
  '',
].join('\n');

/** Write (or replace) this mode's subsection of "## HRT lane" in `path`, leaving the rest of the file as it is. */
export function writeHrtSection(path: string, c: ReportContext, body: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# agentos benchmark results\n';
  const start = text.indexOf(`\n${SECTION}\n`);
  const before = (start < 0 ? text : text.slice(0, start)).replace(/\n*$/, '\n');
  let section = start < 0 ? '' : text.slice(start + 1);
  const nextSection = section.slice(SECTION.length).search(/\n## /);
  const after = nextSection < 0 ? '' : section.slice(SECTION.length + nextSection + 1);
  if (nextSection >= 0) section = section.slice(0, SECTION.length + nextSection + 1);
  const blocks = section.split(/\n(?=### )/).slice(1).map((b) => b.replace(/\n*$/, '\n'));
  const marker = `<!-- hrt:${c.key} -->`;
  const mine = `### ${c.title}\n${marker}\n\n${body.replace(/\n*$/, '\n')}`;
  const i = blocks.findIndex((b) => b.includes(marker));
  if (i >= 0) blocks[i] = mine;
  else blocks.push(mine);
  writeFileSync(path, `${before}\n${INTRO}\n${blocks.join('\n')}${after ? `\n${after}` : ''}`);
}
