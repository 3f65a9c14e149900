// Shared bench helpers: a timer, median of runs, event-loop waits, heap
// measurement, and the results table (printed, and written as Markdown).
// Every row pairs our figure with a raw baseline measured in the same run.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchOptions {
  /** Small N, for the CI smoke test (the whole run finishes in < 20 s). */
  quick: boolean;
}

export interface Row {
  suite: string;
  name: string;
  /** Our figure (agentos), in `unit`. */
  ours: number;
  /** The raw baseline measured in the same run, in `unit`. */
  baseline: number | undefined;
  unit: string;
  /** Higher is better (throughput) or lower is better (latency, bytes). */
  better: 'higher' | 'lower';
  /** Human-readable target, e.g. "≥ 40% of raw". */
  target: string;
  /** undefined: informational row with no target. */
  met: boolean | undefined;
  /** What the ratio column shows: ours/baseline (default) or a label. */
  ratio?: number;
  note?: string;
}

// ── timing ───────────────────────────────────────────────────────────────

export const now = (): number => performance.now();

/** Milliseconds taken by `fn` (awaited). */
export async function timed(fn: () => unknown): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/**
 * Run each named measurement `runs` times, interleaved and rotated (a b c, b c a,
 * c a b, …) so machine drift and the garbage one leaves for the next hit every
 * side alike; a GC (when exposed) precedes each call. Returns every sample, by
 * round: samples[k][r] ran in round r.
 */
export async function interleaved<K extends string>(runs: number, fns: Record<K, () => Promise<number>>): Promise<Record<K, number[]>> {
  const keys = Object.keys(fns) as K[];
  const results = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(r + i) % keys.length]!;
      if (typeof gc === 'function') gc();
      results[k].push(await fns[k]());
    }
  }
  return results;
}

/** "a–b%": the range of per-round ratios ours[r] / base[r]. */
export function ratioRange(ours: readonly number[], base: readonly number[]): string {
  const ratios = ours.map((x, i) => x / base[i]!);
  return `${(Math.min(...ratios) * 100).toFixed(0)}–${(Math.max(...ratios) * 100).toFixed(0)}%`;
}

/** Busy-wait `us` microseconds (simulated CPU work inside a handler). */
export function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // burn
  }
}

// ── event loop ───────────────────────────────────────────────────────────

export const immediate = (): Promise<void> => new Promise<void>((r) => setImmediate(r));
export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/** Yield to the event loop until `done()` holds; throws after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const t0 = now();
  while (!done()) {
    await immediate();
    if (now() - t0 > timeoutMs) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

// ── memory ───────────────────────────────────────────────────────────────

/** Full GC, several times (weak maps and finalizers settle over passes). */
export async function fullGc(): Promise<void> {
  if (typeof gc !== 'function') throw new Error('bench: run with --expose-gc (bench/run.ts re-spawns itself with it)');
  for (let i = 0; i < 4; i++) {
    gc();
    await immediate();
  }
}

export async function heapUsed(): Promise<number> {
  return (await memory()).heap;
}

/**
 * After a full GC: heapUsed, and the ArrayBuffer storage outside the JS heap
 * (large typed arrays live there and are not in heapUsed).
 */
export async function memory(): Promise<{ heap: number; buffers: number }> {
  await fullGc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

// ── scratch directories ──────────────────────────────────────────────────

const scratch: string[] = [];

/** A fresh data directory for a node; removed by `cleanupScratch`. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-'));
  scratch.push(dir);
  return dir;
}

export function cleanupScratch(): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}

// ── formatting ───────────────────────────────────────────────────────────

export function fmt(n: number | undefined, unit = ''): string {
  if (n === undefined || Number.isNaN(n)) return '–';
  const abs = Math.abs(n);
  let s: string;
  if (abs >= 1e6) s = `${(n / 1e6).toFixed(2)} M`;
  else if (abs >= 1e4) s = `${(n / 1e3).toFixed(1)} k`;
  else if (abs >= 100) s = n.toFixed(0);
  else if (abs >= 10) s = n.toFixed(1);
  else s = n.toFixed(2);
  return unit ? `${s} ${unit}`.replace('  ', ' ') : s;
}

export function ratioOf(row: Row): number | undefined {
  if (row.ratio !== undefined) return row.ratio;
  if (row.baseline === undefined || row.baseline === 0) return undefined;
  const r = row.ours / row.baseline;
  return Number.isFinite(r) ? r : undefined;
}

function fmtRatio(r: number | undefined): string {
  if (r === undefined) return '–';
  return r >= 10 ? `${r.toFixed(0)}×` : r >= 0.995 ? `${r.toFixed(2)}×` : `${(r * 100).toFixed(0)}%`;
}

const metText = (m: boolean | undefined): string => (m === undefined ? '–' : m ? 'met' : 'NOT met');

const HEADERS = ['suite', 'name', 'agentos', 'raw baseline', 'ratio', 'target', 'result'];

function cells(row: Row): string[] {
  return [row.suite, row.name, fmt(row.ours, row.unit), fmt(row.baseline, row.unit), fmtRatio(ratioOf(row)), row.target, metText(row.met)];
}

export function printTable(rows: readonly Row[]): void {
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(line(HEADERS));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table.slice(1)) console.log(line(r));
  const notes = rows.filter((r) => r.note);
  if (notes.length > 0) {
    console.log('');
    for (const r of notes) console.log(`  ${r.suite} / ${r.name}: ${r.note}`);
  }
}

export function markdownTable(rows: readonly Row[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`| ${HEADERS.join(' | ')} |`, `| ${HEADERS.map((_, i) => (i >= 2 && i <= 4 ? '---:' : '---')).join(' | ')} |`];
  for (const r of rows) out.push(`| ${cells(r).map(esc).join(' | ')} |`);
  return out.join('\n');
}

export interface RunMeta {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  mode: string;
  seconds: number;
  load: string;
  /** What was measured: src via tsx, or a tsc build. */
  source: string;
}

export function machineMeta(mode: string, seconds: number, load: string, source: string): RunMeta {
  const cpu = cpus();
  return { date: new Date().toISOString(), node: process.version, cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, mode, seconds, load, source };
}

export function writeResults(path: string, rows: readonly Row[], meta: RunMeta, reading: string, method: string): void {
  const notes = rows.filter((r) => r.note).map((r) => `- **${r.suite} / ${r.name}**: ${r.note}`);
  const text = [
    '# agentos benchmark results',
    '',
    `Generated by \`npm run bench\` (${meta.mode}) on ${meta.date}.`,
    '',
    `- Node ${meta.node}, ${meta.cores} × ${meta.cpu}; agentos measured as ${meta.source}`,
    `- load average at start: ${meta.load}; whole run took ${meta.seconds.toFixed(0)} s`,
    '- figures are medians of interleaved runs; every raw baseline ran in the same process, right beside ours',
    '',
    markdownTable(rows),
    '',
    ...(notes.length > 0 ? ['Notes on rows:', '', ...notes, ''] : []),
    '## Reading',
    '',
    reading,
    '',
    '## Method',
    '',
    method,
    '',
  ].join('\n');
  // The HRT lane section is written by `npm run bench:hrt` (bench/hrt.ts), not by this runner: keep it.
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const hrt = previous.indexOf('\n## HRT lane\n');
  writeFileSync(path, hrt >= 0 ? `${text}${previous.slice(hrt)}` : text);
}
