// kill -9 of a real node process, over and over: two seeded campaigns (run side by
// side, one per core) each start the workload's node in a child process, drive
// orders at it and SIGKILL it at seeded points — inside recovery, right after
// start, under traffic, once idle — then drain and check the whole history: no
// side effect twice, no acknowledged order lost or doubled, nothing stuck, every
// agent back after every restart. `npm run soak -- --kills 1000` is the long run.
import { describe, expect, it } from 'vitest';
import { checkHistory, summaryLine, type CheckReport } from './checker.js';
import { runCrashCampaign } from './harness.js';
import type { CampaignHistory } from './history.js';
import { tempDir } from '../support/tmp.js';

const CAMPAIGNS = [
  { seed: 20261126, kills: 26, agents: 4 },
  { seed: 424242, kills: 26, agents: 3 },
];

/** One summary over the campaigns: the checker's counts of all histories together. */
function merged(histories: CampaignHistory[]): CheckReport {
  const reports = histories.map(checkHistory);
  const all = checkHistory({
    ...histories[0]!,
    starts: histories.flatMap((h) => h.starts),
    kills: histories.flatMap((h) => h.kills),
  });
  const sum = (f: (r: CheckReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
  return {
    ...all,
    ok: reports.every((r) => r.ok),
    violations: reports.flatMap((r, i) => r.violations.map((v) => ({ ...v, detail: `seed ${histories[i]!.seed}: ${v.detail}` }))),
    counts: {
      ...all.counts,
      sent: sum((r) => r.counts.sent),
      acked: sum((r) => r.counts.acked),
      processed: sum((r) => r.counts.processed),
      invocations: { pay: sum((r) => r.counts.invocations.pay), ship: sum((r) => r.counts.invocations.ship) },
      effects: { pay: sum((r) => r.counts.effects.pay), ship: sum((r) => r.counts.effects.ship) },
      payRetries: sum((r) => r.counts.payRetries),
      resolutions: { result: sum((r) => r.counts.resolutions.result), failure: sum((r) => r.counts.resolutions.failure) },
    },
  };
}

describe('persistent agents across kill -9 of a real process', () => {
  it('52 seeded SIGKILLs: no duplicate side effect, no acknowledged order lost, no agent stuck or held', { timeout: 180_000 }, async () => {
    const dirs = CAMPAIGNS.map(() => tempDir('agentos-crash-'));
    try {
      const histories = await Promise.all(CAMPAIGNS.map((c, i) => runCrashCampaign({ ...c, dataDir: dirs[i]!.dir })));
      const report = merged(histories);
      console.log(summaryLine(report));
      expect(report.violations).toEqual([]);
      expect(report.counts.kills).toBeGreaterThanOrEqual(50);
      expect(report.counts.acked).toBeGreaterThan(0);
      expect(report.counts.processed).toBeGreaterThanOrEqual(report.counts.acked);
    } finally {
      for (const d of dirs) d.cleanup();
    }
  });
});
