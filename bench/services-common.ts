// Pieces the services suites share: per-call timing in interleaved segments,
// percentile rows, and the suite name.

import { PerformanceObserver } from 'node:perf_hooks';
import { immediate, interleaved, now, percentile, type Row } from './lib.js';

export const SUITE = 'services';

/**
 * Series of calls, each call timed on its own (in `unit`), run in interleaved,
 * rotated segments after `warmup` calls each. The figure of a call is its
 * duration, or with `figure: 'returned'` the number of ms it returns (e.g. the
 * time to a first token, which it measures itself).
 */
export async function timeSeries<K extends string>(
  fns: Record<K, () => unknown>,
  o: { segments: number; perSegment: number | Record<K, number>; warmup: number | Record<K, number>; unit: 'µs' | 'ms'; figure?: 'duration' | 'returned' },
): Promise<{ samples: Record<K, number[]>; gcPauses: number; gcMs: number }> {
  const keys = Object.keys(fns) as K[];
  const scale = o.unit === 'µs' ? 1000 : 1;
  const per = (v: number | Record<K, number>, k: K): number => (typeof v === 'number' ? v : v[k]);
  const run = async (k: K, n: number, into: number[] | undefined): Promise<void> => {
    await immediate();
    for (let i = 0; i < n; i++) {
      const t0 = now();
      const r = await fns[k]();
      const ms = o.figure === 'returned' ? (r as number) : now() - t0;
      into?.push(ms * scale);
    }
  };
  for (const k of keys) await run(k, per(o.warmup, k), undefined);
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  let gcPauses = 0;
  let gcMs = 0;
  const watch = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcPauses++;
      gcMs += e.duration;
    }
  });
  watch.observe({ entryTypes: ['gc'] });
  await interleaved(
    o.segments,
    Object.fromEntries(
      keys.map((k) => [
        k,
        async () => {
          await run(k, per(o.perSegment, k), samples[k]);
          return 0;
        },
      ]),
    ) as Record<K, () => Promise<number>>,
  );
  await new Promise<void>((r) => setTimeout(r, 10)); // the observer delivers late
  watch.disconnect();
  return { samples, gcPauses, gcMs };
}

export const p = (xs: readonly number[], q: number): number => percentile(xs, q);

const digits = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
export const fmtU = (x: number, unit: string): string => `${digits(x)} ${unit}`;

/** Rows at the given percentiles of `ours` against `base` (same unit), informational unless `target` says otherwise. */
export function percentileRows(
  label: string,
  ours: readonly number[],
  base: readonly number[],
  unit: string,
  qs: readonly number[],
  notes: Partial<Record<number, string>> = {},
  target?: { q: number; text: string; met: (ours: number, base: number) => boolean },
): Row[] {
  return qs.map((q) => {
    const o = p(ours, q);
    const b = p(base, q);
    const t = target && target.q === q ? target : undefined;
    return {
      suite: SUITE,
      name: `${label} p${Math.round(q * 100)}`,
      ours: o,
      baseline: b,
      unit,
      better: 'lower' as const,
      target: t ? t.text : '–',
      met: t ? t.met(o, b) : undefined,
      ...(notes[q] ? { note: notes[q] } : {}),
    };
  });
}
