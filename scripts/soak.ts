// The crash campaign at scale: `npm run soak -- --kills 1000 [--seed N] [--agents N]
// [--dir D] [--keep] [--trace] [--burst N] [--gap MS] [--final-timeout S] [--quiet]`.
// Prints progress, the checker's report and the recovery-time percentiles; exits 1 on
// any violation (the data directory and history.json are then kept for a look;
// --trace also logs every call, tell and machine event to trace.jsonl there).

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHistory, summaryLine } from '../test/crash/checker.js';
import { runCrashCampaign } from '../test/crash/harness.js';
import { Progress } from '../src/cli/progress.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    agents: { type: 'string', default: '4' },
    burst: { type: 'string' },
    gap: { type: 'string' },
    dir: { type: 'string' },
    'final-timeout': { type: 'string', default: '300' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
  },
});

const int = (name: string, s: string | undefined, min: number): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`soak: --${name} must be an integer >= ${min} (got ${JSON.stringify(s)})\n`);
    process.exit(2);
  }
  return n;
};

const kills = int('kills', values.kills, 1)!;
const agents = int('agents', values.agents, 1)!;
const seed = int('seed', values.seed, 0) ?? Math.floor(Math.random() * 2 ** 31);
const burst = int('burst', values.burst, 1);
const gapMs = int('gap', values.gap, 0);
const finalTimeoutS = int('final-timeout', values['final-timeout'], 1)!;
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'agentos-soak-'));
// A campaign checks the history it makes: leftovers of another campaign (its node data, its effects file) would read as duplicates.
if (values.dir !== undefined && existsSync(dir) && readdirSync(dir).length > 0) {
  process.stderr.write(`soak: --dir ${dir} is not empty; give a new or empty directory (a campaign's checker reads everything in it)\n`);
  process.exit(2);
}

process.stdout.write(`soak: ${kills} kills, ${agents} agents, seed ${seed}, data in ${dir}\n`);
const started = performance.now();
const progress = new Progress(kills, { unit: 'kills', piped: 'silent' });
const history = await runCrashCampaign({
  seed,
  kills,
  agents,
  dataDir: dir,
  traffic: { ...(burst === undefined ? {} : { burst }), ...(gapMs === undefined ? {} : { gapMs }) },
  finalTimeoutMs: finalTimeoutS * 1000,
  trace: values.trace,
  // On a terminal a bar; piped (CI logs, a file) a line per kill, as before.
  ...(values.quiet ? {} : process.stdout.isTTY ? { onKill: (run: number) => progress.update(run) } : { log: (line: string) => void process.stdout.write(`  ${line}\n`) }),
});
progress.end();
const report = checkHistory(history);
process.stdout.write(`\n${JSON.stringify({ counts: report.counts, recovery: report.recovery }, null, 2)}\n`);
for (const v of report.violations.slice(0, 50)) process.stdout.write(`VIOLATION ${v.kind}: ${v.detail}\n`);
if (report.violations.length > 50) process.stdout.write(`… and ${report.violations.length - 50} more\n`);
process.stdout.write(`${summaryLine(report)} (seed ${seed}, ${Math.round((performance.now() - started) / 1000)} s)\n`);
if (report.ok && !values.keep && values.dir === undefined) rmSync(dir, { recursive: true, force: true });
else {
  writeFileSync(join(dir, 'history.json'), JSON.stringify(history));
  process.stdout.write(`data and history.json kept in ${dir}\n`);
}
process.exit(report.ok ? 0 : 1);
