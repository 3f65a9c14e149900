// The inspector page under load: a node with 1,000 actors and the inspector,
// the page open in the system Chromium (headless, 1280×800, one actor selected
// so its statechart and log are live, and every actor watched — `watch '*'` —
// so the page receives every message: the UI's worst case), then 5,000
// messages/s for `--seconds`.
// Measured in the browser: frame times (requestAnimationFrame deltas: p50, p95,
// p99, max, frames over 50 ms); beside the page: what the node delivered and
// what the page received, the node's CPU. Baseline: the same page over an idle
// node, in the same run. Long frames with no long task of the page's own are the
// machine's (the node and Chromium share its cores), not the page's.
//
//   npx tsx bench/inspector-ui.ts                 60 s of load (default)
//   npx tsx bench/inspector-ui.ts --seconds 20
//   npx tsx bench/inspector-ui.ts --quick         5 s, for a smoke run
//   CHROMIUM_PATH=/path/to/chromium npx tsx bench/inspector-ui.ts

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { createNode, RealClock, type ActorRef } from '../src/index.js';
import { counterAgent, processed } from './machines.js';
import { percentile } from './lib.js';

// Browser globals for the callbacks that run in the page (the project compiles without the DOM library).
declare const window: any;
declare const document: any;

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const flag = (name: string): number | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : undefined;
};
const SECONDS = flag('--seconds') ?? (quick ? 5 : 60);
const BASELINE_SECONDS = Math.min(SECONDS, quick ? 3 : 10);
const ACTORS = flag('--actors') ?? 1000;
const RATE = flag('--rate') ?? 5000;
const LONG_FRAME_MS = 50;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error('--seconds must be a positive number');
if (!existsSync(CHROMIUM)) {
  console.error(`bench: Chromium not found at ${CHROMIUM}; install it with \`apt install chromium\` (or set CHROMIUM_PATH)`);
  process.exit(2);
}

interface FrameStats {
  /** The page's own tasks over 50 ms, and their total. */
  longTasks: number;
  longTaskMs: number;
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  long: number;
}

/** Starts recording rAF deltas in the page; `take()` returns and clears them. */
async function recordFrames(page: Page): Promise<{ take: () => Promise<FrameStats> }> {
  // A string, not a function: tsx would wrap a named inner function with a helper the page does not have.
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__longTasks = [];
    // Long tasks: the page's own main thread busy > 50 ms (a long frame without one is the machine, not the page).
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: 'longtask' });
    let last = performance.now();
    requestAnimationFrame(function tick(t) {
      window.__frames.push(t - last);
      last = t;
      requestAnimationFrame(tick);
    });
  })()`);
  return {
    take: async () => {
      const { deltas, tasks } = await page.evaluate(() => ({ deltas: window.__frames.splice(0) as number[], tasks: window.__longTasks.splice(0) as number[] }));
      return {
        longTasks: tasks.length,
        longTaskMs: tasks.reduce((a, b) => a + b, 0),
        frames: deltas.length,
        p50: percentile(deltas, 0.5),
        p95: percentile(deltas, 0.95),
        p99: percentile(deltas, 0.99),
        max: Math.max(...deltas),
        long: deltas.filter((d) => d > LONG_FRAME_MS).length,
      };
    },
  };
}

const pageStats = (page: Page) =>
  page.evaluate(() => (window as unknown as { __inspector: { stats(): { received: number; missed: number; resyncs: number; byKind: Record<string, number>; queued: number } } }).__inspector.stats());

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-inspector-'));
  const clock = new RealClock();
  const node = await createNode({ name: 'bench', dataDir: dir, clock, mailbox: { capacity: 100_000 }, inspector: { port: 0 } });
  const inspector = node.inspector!;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const refs: ActorRef[] = [];
    for (let i = 0; i < ACTORS; i++) refs.push(await node.spawn(counterAgent(), { id: `a${i}` }));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(inspector.url!);
    await page.waitForFunction((n) => document.querySelector('[data-testid=actor-count]')?.textContent === String(n), ACTORS, { timeout: 30_000 });
    await page.locator('[data-testid="actor-row-a0"]').click();
    await page.waitForSelector('[data-testid=statechart] svg', { timeout: 10_000 });
    // Trace everything: every actor's messages reach the page (renewed in the page, as its own watch is).
    await page.evaluate(`(() => {
      const watchAll = () => window.__inspector.request({ op: 'watch', node: 'bench', actor: '*' });
      window.__watchAll = setInterval(watchAll, 10000);
      return watchAll();
    })()`);
    if (!inspector.hub.watched().includes('*')) throw new Error('bench: the page did not watch every actor');
    const frames = await recordFrames(page);

    // Baseline: the same page, the node idle.
    await new Promise((r) => setTimeout(r, BASELINE_SECONDS * 1000));
    const idle = await frames.take();
    const before = await pageStats(page);

    // Load: RATE messages/s, round robin over the actors, sent in 10 ms steps that catch up with the wall clock.
    console.log(`bench: ${ACTORS} actors, ${RATE} messages/s for ${SECONDS} s …`);
    let sent = 0;
    processed.n = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - start;
        const due = Math.min(RATE * SECONDS, Math.floor((RATE * elapsed) / 1000));
        while (sent < due) refs[sent++ % refs.length]!.send({ type: 'inc', by: 1 });
        if (elapsed >= SECONDS * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const loadSeconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const load = await frames.take();
    // Let the node work through what it was sent, and the last flushes reach the page; then read what it got.
    const drainStart = performance.now();
    while (processed.n < sent && performance.now() - drainStart < 30_000) await new Promise((r) => setTimeout(r, 20));
    const drainMs = performance.now() - drainStart;
    await new Promise((r) => setTimeout(r, 1000));
    const after = await pageStats(page);
    const received = (after.byKind.event ?? 0) - (before.byKind.event ?? 0);

    const row = (name: string, s: FrameStats): string[] => [name, String(s.frames), s.p50.toFixed(1), s.p95.toFixed(1), s.p99.toFixed(1), s.max.toFixed(1), String(s.long), `${s.longTasks} (${s.longTaskMs.toFixed(0)} ms)`];
    const table = [['page', 'frames', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', `> ${LONG_FRAME_MS} ms`, 'long tasks'], row(`idle node (${BASELINE_SECONDS} s)`, idle), row(`${RATE}/s over ${ACTORS} actors (${SECONDS} s)`, load)];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    console.log('\ninspector page frame times (requestAnimationFrame deltas, headless Chromium 1280×800)');
    for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    console.log(`p95 ratio loaded/idle: ${(load.p95 / idle.p95).toFixed(2)}`);
    console.log(`\nmessages sent: ${sent} in ${loadSeconds.toFixed(1)} s (${(sent / loadSeconds).toFixed(0)}/s); handled ${processed.n} (the last ${drainMs.toFixed(0)} ms after the load ended)`);
    console.log(`node process CPU during the load: ${(((cpu.user + cpu.system) / 1e6 / loadSeconds) * 100).toFixed(0)}% of one core; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`);
    console.log(`message events the page received: ${received} (${((received / sent) * 100).toFixed(1)}% of sent); missed ${after.missed - before.missed}; resyncs ${after.resyncs - before.resyncs}; frames still queued ${after.queued}`);
    const server = inspector.server?.stats().pages[0];
    if (server) console.log(`server side: ${server.overflows} overflows, ${server.sentFrames} frames sent`);
  } finally {
    await browser.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
