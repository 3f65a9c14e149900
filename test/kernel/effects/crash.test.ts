// Real crashes: fixture.ts runs in a child process, journaling calls whose side effect
// is a line in a file, and is SIGKILLed at a seeded point (half the time stalled exactly
// there, half the time killed in flight as soon as it reports the point). After each
// kill this process reopens the journal and checks it against the side-effect file.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { RealClock } from '../../../src/base/clock.js';
import { seededRng, type Rng } from '../../../src/base/rng.js';
import { EffectInDoubt, EffectJournal, type Durability } from '../../../src/kernel/effects/index.js';
import { effect, keyOf } from './fixture.js';

const FIXTURE = fileURLToPath(new URL('./fixture.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CALLS = 40;
const KILLS_PER_CHAIN = 6;
const PHASES = ['dispatched', 'effected', 'completed'] as const;
type Mode = 'plain' | 'idempotent';

interface Kill {
  target: string;
  phase: (typeof PHASES)[number];
  stalled: boolean;
}

/** Run the fixture until it prints `<phase> <key>` (then SIGKILL it) or finishes. */
function runFixture(dir: string, mode: Mode, durability: Durability, kill?: Kill & { index: number }): Promise<{ killed: boolean; lines: string[] }> {
  const stall = kill?.stalled ? `${kill.phase}:${kill.index}` : '';
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, mode, durability, String(CALLS), stall], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (kill !== undefined && line === `${kill.phase} ${kill.target}`) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed: true, lines });
      else if (code === 0 && lines.includes('done')) resolve({ killed: false, lines });
      else reject(new Error(`fixture exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

/** Lines of the side-effect file by key: the attempts that really ran. */
function effects(dir: string): Map<string, number[]> {
  const file = path.join(dir, 'effects.log');
  const byKey = new Map<string, number[]>();
  if (!fs.existsSync(file)) return byKey;
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [key, attempt] = line.split(' ');
    byKey.set(key, [...(byKey.get(key) ?? []), Number(attempt)]);
  }
  return byKey;
}

/**
 * Reopen the journal the child left and check every key: nothing ran twice per dispatch,
 * nothing non-idempotent ran twice at all, in-doubt keys stay in doubt (plain) or are
 * re-run here exactly once (idempotent), completed keys replay without running.
 */
async function recoverAndCheck(dir: string, mode: Mode, durability: Durability, kill: Kill | undefined): Promise<{ fresh: number[] }> {
  const db = open({ path: path.join(dir, 'db') });
  try {
    const journal = EffectJournal.open({ db, clock: new RealClock() });
    expect(journal.verify()).toMatchObject({ ok: true });
    const ran = effects(dir);
    if (kill?.stalled) {
      const state = journal.lookup(kill.target).state;
      if (kill.phase !== 'completed') expect(state).toBe('in-doubt');
      else if (durability === 'sync') expect(state).toBe('completed'); // async: the outcome may not have committed
      expect(ran.get(kill.target)?.length ?? 0).toBe(kill.phase === 'dispatched' ? 0 : 1);
    }
    const fresh: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const key = keyOf(i);
      const attempts = ran.get(key) ?? [];
      expect(new Set(attempts).size, `${key} ran twice in one dispatch: ${attempts}`).toBe(attempts.length);
      if (mode === 'plain') expect(attempts.length, `non-idempotent ${key} ran ${attempts.length} times`).toBeLessThanOrEqual(1);
      const state = journal.lookup(key);
      let calls = 0;
      const fn = ({ attempt }: { attempt: number }): { i: number } => {
        calls++;
        effect(dir, key, attempt, 'parent');
        return { i };
      };
      if (state.state === 'new') fresh.push(i);
      else if (state.state === 'completed') {
        expect(await journal.run(key, { args: { i }, idempotent: mode === 'idempotent' }, fn)).toEqual({ i });
        expect(calls).toBe(0);
      } else if (state.state === 'in-doubt' && mode === 'plain') {
        await expect(journal.run(key, { args: { i } }, fn)).rejects.toBeInstanceOf(EffectInDoubt);
        expect(calls).toBe(0);
      } else if (state.state === 'in-doubt') {
        expect(await journal.run(key, { args: { i }, idempotent: true }, fn)).toEqual({ i });
        expect(calls).toBe(1); // re-run exactly once, with the same key
        expect(effects(dir).get(key)).toEqual([...attempts, state.call.attempt + 1]);
      } else expect.unreachable(`${key} is ${state.state}`);
    }
    expect(journal.inDoubt().every((c) => mode === 'plain' && c.idempotent === false)).toBe(true);
    await journal.flushed();
    return { fresh };
  } finally {
    await db.close();
  }
}

/** One directory, one workload: kill, check, restart, kill again… then let it finish. */
async function chain(seed: number, mode: Mode, durability: Durability): Promise<number> {
  const rng: Rng = seededRng(seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentos-effects-crash-'));
  let kills = 0;
  try {
    let { fresh } = await recoverAndCheck(dir, mode, durability, undefined);
    for (let n = 0; n < KILLS_PER_CHAIN && fresh.length > 0; n++) {
      const index = fresh[rng.int(Math.min(3, fresh.length))];
      const kill = { index, target: keyOf(index), phase: PHASES[rng.int(PHASES.length)], stalled: rng.next() < 0.5 };
      const run = await runFixture(dir, mode, durability, kill);
      if (run.killed) kills++;
      ({ fresh } = await recoverAndCheck(dir, mode, durability, run.killed ? kill : undefined));
    }
    const last = await runFixture(dir, mode, durability);
    expect(last.killed).toBe(false);
    expect((await recoverAndCheck(dir, mode, durability, undefined)).fresh).toEqual([]);
    return kills;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the journal across SIGKILL of a real process', () => {
  it('never runs a non-idempotent call twice; an idempotent call in doubt re-runs exactly once (24 seeded kills)', { timeout: 60_000 }, async () => {
    const kills = await Promise.all([
      chain(1, 'plain', 'sync'),
      chain(2, 'plain', 'async'),
      chain(3, 'idempotent', 'sync'),
      chain(4, 'idempotent', 'async'),
    ]);
    expect(kills.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(20);
  });
});
