// Which deadline misses does the machine explain? An idle probe thread sleeps in
// a loop and records every oversleep (a stall: the OS or the hypervisor did not
// run it when it was due). A miss of the HRT lane is explained by the VM when,
// during the miss's window (its release to the moment it finished or was
// abandoned), the probe was stalled at least as long as the miss was late. The
// burn-in fails on the misses that are left: those the lane itself caused.
// Times are absolute ms (performance.timeOrigin + performance.now()).

/** A probe oversleep: due to wake at `from`, woke at `to`; `overMs` = to − from. */
export interface Stall {
  from: number;
  to: number;
  overMs: number;
  /** The CPU the probe that saw it is pinned to. */
  cpu?: number;
}

/** One deadline miss: a job that finished late, or was abandoned because its deadline had passed. */
export interface MissRecord {
  index: number;
  releaseAt: number;
  /** When it finished (late) or was abandoned. */
  end: number;
  latenessMs: number;
  kind: 'late' | 'abandoned';
}

export interface Explanation {
  explained: MissRecord[];
  unexplained: MissRecord[];
}

/** The lane's miss events (`@agentos.hrt.miss`, and skipped/degraded/stopped for a passed deadline) as records, in lane time. */
export function missRecord(event: { type: string; cause?: string; release?: { index: number; releaseAt: number; deadline: number }; finishedAt?: number; latenessMs?: number }): MissRecord | undefined {
  const r = event.release;
  if (!r || typeof event.latenessMs !== 'number') return undefined;
  const kind = event.type.replace(/^@agentos\.hrt\./, '');
  if (kind === 'miss') return { index: r.index, releaseAt: r.releaseAt, end: event.finishedAt ?? r.deadline + event.latenessMs, latenessMs: event.latenessMs, kind: 'late' };
  if ((kind === 'skipped' || kind === 'degraded' || kind === 'stopped') && event.cause === 'deadline-passed') {
    return { index: r.index, releaseAt: r.releaseAt, end: r.deadline + event.latenessMs, latenessMs: event.latenessMs, kind: 'abandoned' };
  }
  return undefined;
}

/** Shift a lane-time record to absolute time (subtract the lane's clock offset). */
export function shifted(m: MissRecord, offsetMs: number): MissRecord {
  return { ...m, releaseAt: m.releaseAt - offsetMs, end: m.end - offsetMs };
}

/**
 * Split misses into those a stall explains — a stall overlapping [releaseAt, end] with
 * overMs ≥ latenessMs − toleranceMs — and the rest. Stalls in any order; O((m + s) log s).
 */
export function explainMisses(misses: readonly MissRecord[], stalls: readonly Stall[], toleranceMs = 0): Explanation {
  const byFrom = [...stalls].sort((a, b) => a.from - b.from);
  // Stalls are short next to a window; the longest one bounds how far back an overlapping stall may start.
  let longest = 0;
  for (const s of byFrom) longest = Math.max(longest, s.to - s.from);
  const out: Explanation = { explained: [], unexplained: [] };
  for (const m of misses) {
    let i = lowerBound(byFrom, m.releaseAt - longest);
    let hit = false;
    for (; i < byFrom.length && byFrom[i]!.from <= m.end; i++) {
      const s = byFrom[i]!;
      if (s.to >= m.releaseAt && s.overMs >= m.latenessMs - toleranceMs) {
        hit = true;
        break;
      }
    }
    (hit ? out.explained : out.unexplained).push(m);
  }
  return out;
}

/** First index whose `from` ≥ t. */
function lowerBound(stalls: readonly Stall[], t: number): number {
  let lo = 0;
  let hi = stalls.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stalls[mid]!.from < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
