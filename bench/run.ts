// `npm run bench`: runs the core, kernel, durability and services suites in one process and prints one table
// (our figure, the raw baseline measured in the same run, the ratio, the
// target). A full run also writes bench/RESULTS.md.
//
//   npm run bench                      full run (< 3 min), writes bench/RESULTS.md
//   npm run bench -- --quick           small N smoke run (< 20 s), writes nothing
//   npm run bench -- --only fairness   some suites (comma-separated), writes nothing
//   npm run bench -- --built           measure a tsc build of src instead of src via tsx
//   npm run bench -- --out file.md     write the results there (any mode)
//   npm run bench -- --strict          exit 1 if a target is not met

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, Row } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);

/**
 * Compile src with tsc into a scratch `node_modules/agentos-build` (tsx leaves
 * code under node_modules alone; elsewhere it would re-transform the JS and
 * add esbuild's keepNames wrappers back), linked to our node_modules.
 * Returns the scratch directory and the build's index.js.
 */
function buildSrc(): { dir: string; index: string } {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-build-'));
  const pkg = join(dir, 'node_modules', 'agentos-build');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  console.log(`bench: compiling src with tsc into ${pkg} …`);
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', pkg], { stdio: 'inherit', cwd: root });
  const index = join(pkg, 'index.js');
  if (!existsSync(index)) throw new Error('bench: tsc produced no index.js');
  if (r.status !== 0) console.log('bench: tsc reported errors; measuring what it emitted');
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  return { dir, index };
}

// The memory suite needs gc(), and --built needs a build: re-run this file
// under `node --expose-gc --import tsx`, with AGENTOS_BENCH_BUILD when asked.
const wantBuild = argv.includes('--built') && !process.env.AGENTOS_BENCH_BUILD;
if (typeof gc !== 'function' || wantBuild) {
  if (process.env.AGENTOS_BENCH_CHILD === '1') {
    console.error('bench: gc() is still missing after re-spawning with --expose-gc');
    process.exit(2);
  }
  const build = wantBuild ? buildSrc() : undefined;
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    cwd: root,
    env: {
      ...process.env,
      AGENTOS_BENCH_CHILD: '1',
      ...(build ? { AGENTOS_BENCH_BUILD: build.index } : {}),
    },
  });
  if (build) rmSync(build.dir, { recursive: true, force: true });
  process.exit(child.status ?? 1);
}

// Loaded only in the measuring process (they load agentos).
const { runFairness } = await import('./core-fairness.js');
const { runMemory } = await import('./core-memory.js');
const { runThroughput } = await import('./core-throughput.js');
const { runAudit } = await import('./kernel-audit.js');
const { runSyscall } = await import('./kernel-syscall.js');
const { DURABLE_METHOD, durableReading, runDurable } = await import('./durable.js');
const { SERVICES_METHOD, servicesReading, runServices } = await import('./services.js');
const { HRT_METHOD, hrtReading, runHrtRing } = await import('./hrt-ring.js');
const { runWorkflow } = await import('./workflow.js');
const { runBlackboard } = await import('./blackboard.js');
const { runMarket } = await import('./market.js');
const { runClusterTransport } = await import('./cluster-transport.js');
const { runClusterActors } = await import('./cluster-actors.js');
const { runCluster } = await import('./cluster.js');
const { runClusterCalls } = await import('./cluster-calls.js');
const { runInspectorIsolated } = await import('./inspector.js');
const { agentosSource } = await import('./agentos.js');
const { cleanupScratch, fmt, machineMeta, now, printTable, ratioOf, writeResults } = await import('./lib.js');

const SUITES: Record<string, (opts: BenchOptions, log: (s: string) => void) => Promise<Row[]>> = {
  throughput: runThroughput,
  fairness: runFairness, // before memory: its latencies should not pay for a huge heap
  syscall: runSyscall, // per-call latencies too
  audit: runAudit,
  memory: runMemory,
  durable: runDurable, // persistent actors: checkpoints, the effect journal, recovery (real fsyncs)
  services: runServices, // tools (in process, sandboxed), model TTFT, RAG retrieval and ingest
  hrt: runHrtRing, // the HRT lane's SPSC rings main→worker against postMessage (the lane itself: npm run bench:hrt)
  workflow: runWorkflow, // orchestration overhead per workflow step against raw asks
  blackboard: runBlackboard, // blackboard writes/s, 10 writers, against raw LMDB puts
  market: runMarket, // contract-net rounds/s with 100 bidders
  // node-to-node links and actors across nodes against raw ws; migration (1 MB, under load) and failover after kill -9
  cluster: async (o, log) => [...(await runClusterTransport(o, log)), ...(await runClusterActors(o, log)), ...(await runCluster(o, log)), ...(await runClusterCalls(o, log))],
  inspector: runInspectorIsolated, // a node's messages/s with the inspector attached and a page reading, and with a no-op inspect listener

};

function parseArgs(): { quick: boolean; only: string[] | undefined; out: string | undefined; strict: boolean } {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = value('--only')?.split(',').filter(Boolean);
  for (const name of only ?? []) {
    if (!(name in SUITES)) throw new Error(`bench: unknown suite "${name}" (have: ${Object.keys(SUITES).join(', ')})`);
  }
  return { quick: argv.includes('--quick'), only, out: value('--out'), strict: argv.includes('--strict') };
}

const find = (rows: Row[], suite: string, prefix: string): Row | undefined => rows.find((r) => r.suite === suite && r.name.startsWith(prefix));
const pct = (r: Row | undefined): string => {
  const x = r ? ratioOf(r) : undefined;
  return x === undefined ? '?' : `${(x * 100).toFixed(0)}%`;
};

/** The paragraph of RESULTS.md: what the figures say, built from this run's numbers. */
function reading(rows: Row[], load: string, source: string): string {
  const fairness = (prefix: string, suffix: string): Row | undefined =>
    rows.find((r) => r.suite === 'fairness' && r.name.startsWith(prefix) && r.name.endsWith(suffix));
  const off = find(rows, 'throughput', 'hot actor, validate off');
  const on = find(rows, 'throughput', 'hot actor, validate on');
  const ping = find(rows, 'throughput', 'ping-pong');
  const fan = find(rows, 'throughput', 'fan-out');
  const mem = [...rows].reverse().find((r) => r.suite === 'memory' && r.name.startsWith('heap per idle actor'));
  const spawn = find(rows, 'memory', 'node.spawn');
  const idle = find(rows, 'fairness', 'control');
  const sched1 = fairness('SRT wait p99 (node.stats)', ', 1 DT flooder');
  const srt1 = fairness('probe send→handled p99,', ', 1 DT flooder');
  const clean1 = fairness('probe send→handled p99 w/o GC', ', 1 DT flooder');
  const srtK = fairness('probe send→handled p99,', 'DT flooders');
  const cleanK = fairness('probe send→handled p99 w/o GC', 'DT flooders');
  const many = srtK?.name.split(', ')[1]?.replace(' DT flooders', '') ?? 'many';
  const due1 = fairness('probe due→handled p99,', ', 1 DT flooder');
  const dueShort = find(rows, 'fairness', 'probe due→handled p99, sliceMs 1');
  const parts: string[] = [];
  if (off && on) {
    parts.push(
      `On one hot actor the full path (route, edge checks, envelope, mailbox, class scheduler, then XState) delivers ${pct(off)} of raw \`actor.send\` with validation off and ${pct(on)} with zod on` +
        (off.met && on.met ? ', so both targets are met' : ', so a target is NOT met') +
        (on.ours >= off.ours
          ? '; on and off are within this run\'s noise of each other, so zod is not where the time goes'
          : `; zod costs ${(((off.ours - on.ours) / off.ours) * 100).toFixed(0)}% of our rate`) +
        ', the overhead is the path itself (per message: an envelope and its id string, a payload-size walk, four clock reads, two wait histograms, a ready-queue entry, and a yield to the event loop every slice).',
    );
  }
  if (ping && fan) parts.push(`Ping-pong through \`tell\` runs at ${pct(ping)} of two raw actors calling each other, and fan-out to 1,000 actors at ${pct(fan)} of raw.`);
  if (mem) {
    parts.push(
      `An idle agentos actor costs ${fmt(mem.ours, 'B')} of heap against ${fmt(mem.baseline, 'B')} for a raw started XState actor (${fmt(ratioOf(mem))}×); 100k actors ${mem.met ? 'stay under' : 'do NOT stay under'} 1 GiB. ` +
        'The extra is the admission record, the cell, its mailbox (with its own wait histogram and priority levels), the root supervisor\'s child record and spec, and a few closures per actor' +
        (source.includes('tsx')
          ? "; measured through tsx, esbuild's keepNames also gives each of those per-actor closures (and the two functions XState binds for the cell's subscription) an own `name` property, about 2 KB per actor that a tsc build does not pay (`npm run bench -- --built` measures that)."
          : '.'),
    );
  }
  const used = [...rows].reverse().find((r) => r.suite === 'memory' && r.name.startsWith('heap per actor after 1 message'));
  if (used) {
    const buffers = Number(/\+(\d+) B of ArrayBuffer/.exec(used.note ?? '')?.[1] ?? 0);
    const at = used.name.split('@ ')[1] ?? '?';
    const total = ((used.ours + buffers) * Number(at.replace(/,/g, ''))) / 2 ** 30;
    parts.push(
      `Idle is the flattering case: once each actor has handled a single message it holds ${fmt(used.ours, 'B')} of heap plus ${buffers.toFixed(0)} B of ArrayBuffer outside the heap ` +
        `(the mailbox's own wait histogram, which duplicates the scheduler's per-class one), ${total.toFixed(2)} GiB for ${at} actors` +
        (total >= 1 ? ', past the 1 GiB the target allows idle actors.' : '.'),
    );
  }
  if (spawn?.met === true) {
    parts.push(`Spawning stays flat as the node fills (${spawn.note?.split(';')[0] ?? ''}).`);
  } else if (spawn?.met === false) {
    parts.push(`Spawning slows as the node fills (${spawn.note?.split(';')[0] ?? ''}): some per-spawn work still grows with the number of actors.`);
  }
  if (sched1 && srt1) {
    parts.push(
      `Under a DT flood the SRT probe's p99 wait was ${fmt(sched1.ours, 'ms')} by node.stats and ${fmt(srt1.ours, 'ms')} send→handled (target ≤ 2 ms: ${sched1.met && srt1.met ? 'met' : 'NOT met'})` +
        (clean1
          ? `; without the probes whose wait overlapped a GC pause it was ${fmt(clean1.ours, 'ms')}` +
            (clean1.ours <= 2
              ? ', so the tail is main-thread GC (the flood allocates per message), not the ready-queue order'
              : `: GC pauses explain part of the tail and the OS the rest (the process is preempted hundreds of times per window on this shared VM, see the notes); the ready-queue order is not the cause, the SRT p50 is ${/SRT p50 ([\d.]+ ms)/.exec(srt1.note ?? '')?.[1] ?? '?'}`)
          : '') +
        (srt1.baseline !== undefined && srt1.baseline > 2 * srt1.ours
          ? `. With a single flooder a DT probe's p99 was ${fmt(srt1.baseline, 'ms')}, though with one flooder the DT baseline is mostly noise: DT is round-robin across actors, so one flooder takes only every other delivery`
          : `. With a single flooder class scheduling buys little (a DT probe: ${fmt(srt1.baseline, 'ms')}), because DT is already round-robin across actors`) +
        (srtK
          ? `; with the flood spread over ${many} DT actors a DT probe waited ${fmt(srtK.baseline, 'ms')} at p99 (its backlog grows: round-robin gives it one delivery per pass) while the SRT probe waited ${fmt(srtK.ours, 'ms')}` +
            (cleanK ? ` (${fmt(cleanK.ours, 'ms')} without GC overlaps)` : '') +
            ' — that is what the classes are for.'
          : '.'),
    );
  }
  if (idle) {
    parts.push(
      `For scale, the same probe on an idle node had p99 ${fmt(idle.ours, 'ms')} (load average ${load} at start; other engineers' test runs share the 2 cores).`,
    );
  }
  if (due1) {
    parts.push(
      `Counted from when a probe was due rather than when it was sent, p99 was ${fmt(due1.ours, 'ms')}` +
        (dueShort ? ` (${fmt(dueShort.ours, 'ms')} with sliceMs 1)` : '') +
        ': input from outside the node (a timer, a socket) cannot even be sent while a slice holds the event loop, so sliceMs bounds that figure, and the SRT wait in node.stats cannot see it.',
    );
  }
  parts.push(...kernelReading(rows));
  parts.push(...durableReading(rows));
  parts.push(...servicesReading(rows));
  parts.push(...hrtReading(rows));
  parts.push('Absolute rates are noisy on this shared VM; the ratios, measured side by side and interleaved, are the figures to compare between runs.');
  return parts.join(' ');
}

/** The sentences of the reading about the kernel suites (syscall, audit). */
function kernelReading(rows: Row[]): string[] {
  const parts: string[] = [];
  const us = (r: Row | undefined): string => fmt(r?.ours, 'µs');
  const p50 = find(rows, 'syscall', 'tool call p50');
  const p99 = find(rows, 'syscall', 'tool call p99');
  const over = find(rows, 'syscall', 'tool call overhead');
  const mOver = find(rows, 'syscall', 'model call + tokens overhead');
  const m50 = find(rows, 'syscall', 'model call + tokens p50');
  const control = find(rows, 'syscall', 'control');
  if (p50 && p99 && over) {
    const clean = /overlapped a GC pause: ([\d.]+ µs)/.exec(over.note ?? '')?.[1];
    parts.push(
      `A tool call through \`node.syscall\` (request checks, capability check, argument hash, audit append, zod in and out, execute) takes ${us(p50)} at p50 against ${fmt(p50.baseline, 'µs')} for calling \`execute\` bare; ` +
        `at p99 it takes ${us(p99)}, an overhead of ${us(over)} (target ≤ 50 µs: ${over.met ? 'met' : 'NOT met'}` +
        (clean ? `; ${clean} without the calls that overlapped a GC pause)` : ')') +
        (control
          ? `, while a busy loop as long as its median had p99 ${us(control)} in the same segments` +
            (control.ours < p99.ours / 2 ? ", so the tail is the path's own, not the machine's" : ', so much of that tail is this machine, not the path')
          : '') +
        (mOver && m50 ? `. A model call charging tokens costs ${us(m50)} at p50 and ${us(mOver)} of overhead at p99 (${mOver.met ? 'met' : 'NOT met'})` : '') +
        '. Both paths append one audit record per call; in a CPU profile of the tool path that append (canonical JSON, a leaf and a node SHA-256) was about 40% of the time when it also issued two LMDB puts per record; the store now queues records and hands them to LMDB on the next event-loop turn (refusing to write into a closing environment), which takes the puts off the call path.',
    );
  }
  const append = find(rows, 'audit', 'append');
  const flushed = find(rows, 'audit', 'flushed()');
  const verify = find(rows, 'audit', 'verify()');
  const root = find(rows, 'audit', 'RFC 6962 root');
  if (append) {
    parts.push(
      `The audit log appends ${fmt(append.ours, 'rec/s')}, ${pct(append)} of \`JSON.stringify\` + one LMDB put of the same record` +
        (flushed ? `, and \`flushed()\` after a segment waited ${fmt(flushed.ours, 'ms')} against ${fmt(flushed.baseline, 'ms')} for the raw puts` : '') +
        '.',
    );
  }
  if (verify && root) {
    parts.push(
      `\`verify()\` of ${verify.name.split(', ')[1] ?? 'the log'} took ${fmt(verify.ours, 'ms')} (target 1e5 < 2 s: ${verify.met ? 'met' : 'NOT met'}), ${fmt(ratioOf(verify))}× the pure RFC 6962 root over the same leaves in memory (${fmt(root.ours, 'ms')}); ` +
        `that floor is itself ${fmt(ratioOf(root))}× one SHA-256 per leaf, since every leaf costs a leaf hash and an interior node hash.`,
    );
  }
  return parts;
}

const METHOD = [
  '- **throughput / hot actor**: raw = `createActor(counterMachine).start()` then 1e6 × `actor.send({ type: "inc", by: 1 })`; agentos = the same machine object in `defineAgent`, 1e6 × `ref.send(...)` in chunks of 10,000, waiting (setImmediate) until each chunk is handled; the default mailbox capacity (10,000) is not raised. Validation off is `createNode({ validate: false })`; the size, type and shape checks still run.',
  '- **ping-pong**: two agents answering each other with `tell(id, msg)` (each round trip = two messages routed through the kernel) vs two raw actors whose actions call each other\'s `send`.',
  '- **fan-out**: one `inc` to each of 1,000 actors per round, each round awaited; raw = 1,000 started raw actors.',
  '- **memory**: `heapUsed` after forced GC (4 passes) before and after spawning N idle counters one by one with `node.spawn` on one node (after `node.audit.flushed()`), divided by N; then again after each has handled one `inc`, with ArrayBuffer memory (outside the heap) reported beside it. Raw = N × `createActor(counterMachine).start()`. The 100k fill is timed in tenths for the spawn row.',
  '- **fairness**: DT actors get a backlog of messages that each spin 20 µs; a probe actor gets one message per 1 ms from a real `setInterval` (catching up on late ticks, each probe stamped with its due time) for the window. Measured run: probe is SRT; baseline: probe is DT. "send→handled" is timed in the probe handler from the `ref.send` call; "SRT wait (node.stats)" is `node.stats().scheduler.SRT.waitMs.p99`; "due→handled" also counts the time the event loop was busy before the timer could fire.',
  '- **syscall**: one node on a real LMDB with a tool shaped like the governance tests\' `mail.send` (zod input with an email check, zod output) and a `model` handler `local/echo` returning "x"; the tool caller\'s contract lists the tool (no consent), the model caller\'s has `modelPolicy: { allow: ["local/*"] }` and `budgets: { tokens_per_minute: 1e12 }` and charges 100 tokens per call. Each call is awaited and timed on its own with `performance.now()`; kernel = `node.syscall(actor, request)`, bare = `await tool.execute(args, ctx)` / the model handler called directly. Five series (tool bare, tool kernel, model bare, model kernel, and a busy-loop control as long as the kernel tool call\'s median) run in 10 interleaved, rotated segments of 3,000 calls after 5,000 warm-up calls each; percentiles are over all 30,000 calls of a series. Overhead = kernel p99 − bare p99.',
  '- **audit**: `AuditLog.open` on a real LMDB in a temp dir (fresh Ed25519 keys, real clock, checkpoint every 1,024); the record is the policy record an allowed tool call appends. 10 interleaved segments of 10,000 `append` calls and of 10,000 raw `put(seq, JSON.stringify(record))` (string encoding, same LMDB env), both yielding a microtask every 256 so the checkpoint signature runs as it would between messages; each segment is followed by `await log.flushed()` / awaiting the last raw put and `flushed`, timed separately. Then `verify()` of the whole log (1e5 records) and, from the same leaves in memory, `rootOf(leaves.map(leafHash))` and one `crypto.hash("sha256", leaf)` per leaf, interleaved, median of 3.',
  ...DURABLE_METHOD,
  ...SERVICES_METHOD,
  ...HRT_METHOD,
  '- Throughput figures are the median segment rate over interleaved segments (raw, ours, raw, ours, …) after one warm-up segment each; each memory point is one run (heap deltas repeat within ~1%); each fairness figure is one 2 s window, opened after a forced GC.',
].join('\n');

async function main(): Promise<void> {
  const args = parseArgs();
  const opts: BenchOptions = { quick: args.quick };
  const names = args.only ?? Object.keys(SUITES);
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const log = (s: string): void => console.log(`· ${s}`);
  console.log(`agentos bench (${args.quick ? 'quick' : 'full'}): ${names.join(', ')}; ${agentosSource}; node ${process.version}; load ${load}`);
  const t0 = now();
  const rows: Row[] = [];
  try {
    for (const name of names) {
      const t = now();
      rows.push(...(await SUITES[name]!(opts, log)));
      log(`${name} took ${((now() - t) / 1000).toFixed(1)} s`);
    }
  } finally {
    cleanupScratch();
  }
  const seconds = (now() - t0) / 1000;
  console.log('');
  printTable(rows);
  console.log(`\n${seconds.toFixed(1)} s`);
  const out = args.out ?? (args.quick || args.only ? undefined : join(here, 'RESULTS.md'));
  if (out) {
    const meta = machineMeta(args.quick ? 'quick' : args.only ? `only ${names.join(',')}` : 'full', seconds, load, agentosSource);
    writeResults(out, rows, meta, reading(rows, load, agentosSource), METHOD);
    console.log(`wrote ${out}`);
  }
  if (args.strict && rows.some((r) => r.met === false)) process.exitCode = 1;
}

await main();
