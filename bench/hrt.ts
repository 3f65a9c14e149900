// `npm run bench:hrt`: the HRT lane under a flooded main thread, against the
// same loop on the main thread and an idle probe thread (see hrt-run.ts).
//
//   npm run bench:hrt                          60 s, writes the "## HRT lane" section of bench/RESULTS.md
//   npm run bench:hrt -- --seconds 300         another duration (--minutes 1440 for a 24 h burn-in)
//   npm run bench:hrt -- --gc single|pool1     --single-threaded-gc / --v8-pool-size=1 (for the lane if Node
//                                              takes them in a worker's execArgv, else process-wide, said so)
//   npm run bench:hrt -- --check               burn-in: exit 1 on a lane deadline miss a probe stall does not
//                                              explain (writes RESULTS.md only with --write)
//   --no-realtime (do not ask for SCHED_FIFO), --out <file>, --no-write, --probe-ms <ms> (probe sleep, default 1),
//   --stall-ms <ms> (probe oversleeps kept as stalls, default 0.5),
//   --retain-mib <MiB> (heap the flood keeps reachable, default 128)

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hrtNotes, hrtTable, targetsMet, writeHrtSection, type ReportContext } from './hrt-report.js';
import { runHrt } from './hrt-run.js';
import { cleanupScratch } from './lib.js';

const argv = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};
const number = (flag: string, fallback: number): number => {
  const v = value(flag);
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`bench:hrt: ${flag} must be a positive number (got ${v})`);
  return x;
};

const GC_FLAGS: Record<string, string> = { single: '--single-threaded-gc', pool1: '--v8-pool-size=1' };
const check = argv.includes('--check');
const seconds = value('--minutes') !== undefined ? number('--minutes', 1) * 60 : number('--seconds', 60);
const gcMode = value('--gc');
if (gcMode !== undefined && !(gcMode in GC_FLAGS)) throw new Error(`bench:hrt: --gc must be single or pool1 (got ${gcMode})`);
const gcFlag = gcMode ? GC_FLAGS[gcMode] : undefined;

/** Does Node take `flag` in a worker's execArgv (what hrt.execArgv would pass to a lane)? */
async function workerAccepts(flag: string): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const w = new Worker('', { eval: true, execArgv: [flag] });
    await new Promise((r) => w.once('exit', r));
    return { ok: true };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ok: false, why: `${e.code ?? 'error'}: ${e.message ?? String(err)}` };
  }
}

let execArgv: string[] = [];
let gcNote: string | undefined;
if (gcFlag && process.env.AGENTOS_HRT_GC_CHILD === undefined) {
  const accepted = await workerAccepts(gcFlag);
  if (accepted.ok) {
    execArgv = [gcFlag];
    gcNote = `${gcFlag} for the lane thread (hrt.execArgv)`;
  } else {
    // V8 flags are per process: Node refuses them in a worker. Re-run this bench with the flag on the whole process.
    console.log(`bench:hrt: Node refuses ${gcFlag} in a worker's execArgv (${accepted.why}); hrt.execArgv cannot apply it to the lane alone.`);
    console.log(`bench:hrt: re-running the whole process with ${gcFlag} (main thread and lane alike) to measure its effect.`);
    const child = spawnSync(process.execPath, [gcFlag, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
      stdio: 'inherit',
      env: { ...process.env, AGENTOS_HRT_GC_CHILD: `refused in a worker (${accepted.why.split(':')[0]}), so applied to the whole process: ${gcFlag}` },
    });
    process.exit(child.status ?? 1);
  }
}
if (process.env.AGENTOS_HRT_GC_CHILD) gcNote = process.env.AGENTOS_HRT_GC_CHILD;

const started = performance.now();
const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
console.log(`bench:hrt: ${check ? 'burn-in check' : 'bench'}, ${seconds} s${gcNote ? `; ${gcNote}` : ''}`);
const result = await runHrt({
  seconds,
  realtime: !argv.includes('--no-realtime'),
  execArgv,
  flood: { agents: 4, workUs: 1000, allocKiB: 256, retainMiB: number('--retain-mib', 128), forceGcEveryMs: 5000 },
  probeMs: number('--probe-ms', 1),
  stallMs: number('--stall-ms', 0.5),
  log: (line) => console.log(`bench:hrt: ${line}`),
}).finally(cleanupScratch);

const ctx: ReportContext = {
  key: `${check ? 'burn-in' : 'bench'}-${gcMode ?? 'default'}`,
  title: `${check ? 'Burn-in (--check)' : 'Bench'}, ${seconds} s, ${gcFlag ?? 'default GC'}`,
  gcNote,
  gcExposed,
  wallSeconds: (performance.now() - started) / 1000,
};
const table = hrtTable(result);
const notes = hrtNotes(result, ctx);
console.log('');
console.log(table);
console.log('');
for (const line of notes) console.log(line);

const out = value('--out') ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url));
if (!argv.includes('--no-write') && (!check || argv.includes('--write'))) {
  writeHrtSection(out, ctx, `${table}\n\n${notes.join('\n')}\n`);
  console.log(`\nbench:hrt: wrote "## HRT lane / ${ctx.title}" in ${out}`);
}

if (check) {
  const t = targetsMet(result);
  const unexplained = result.laneExplained.unexplained.length;
  const broken = result.lane.state !== 'active' || result.lane.failed > 0 || result.lane.releases === 0;
  console.log(`\nburn-in: ${result.lane.releases} releases, ${result.lane.misses} deadline misses (${result.laneExplained.explained.length} explained by a probe stall, ${unexplained} not)` +
    `; jitter p99 ${result.lane.jitterMs.p99.toFixed(3)} ms (${t.jitter99 ? 'met' : 'not met'}), p99.9 ${result.lane.jitterMs.p999.toFixed(3)} ms`);
  if (unexplained > 0 || broken) {
    console.log(broken ? `burn-in: FAILED — the guard is ${result.lane.state} with ${result.lane.failed} failed jobs` : `burn-in: FAILED — ${unexplained} deadline misses of the admitted guard are not explained by a VM stall`);
    process.exit(1);
  }
  console.log('burn-in: passed');
}
process.exit(0);
