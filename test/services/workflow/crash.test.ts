import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/tmp.js';

// SIGKILL a real node process in the middle of a workflow, start it again on the
// same data dir, and check from the agents' own log that no completed step ran
// again and the run finished.
const NODE = fileURLToPath(new URL('./support/crash-node.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function lines(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
}

function run(dir: string, log: string, killAfterLines?: number): Promise<'killed' | 'exited'> {
  return new Promise((resolve, reject) => {
    const child = fork(NODE, [dir, log, 'c1'], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let timer: NodeJS.Timeout | undefined;
    if (killAfterLines !== undefined) {
      timer = setInterval(() => {
        if (lines(log).length >= killAfterLines) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 5);
    }
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0) resolve('exited');
      else reject(new Error(`node exited with ${code}`));
    });
  });
}

describe('a workflow node killed with SIGKILL mid-run', () => {
  it('resumes where it stopped: completed steps are not run again, the step in flight is asked again under its key', async () => {
    const t = tempDir('agentos-wf-crash-');
    cleanups.push(t.cleanup);
    const log = join(t.dir, 'steps.log');
    const data = join(t.dir, 'data');
    expect(await run(data, log, 3)).toBe('killed');
    const before = lines(log);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(6);
    expect(await run(data, log)).toBe('exited');
    const all = lines(log);
    const done = all.at(-1)!;
    expect(done).toBe('done completed {"n":6}');
    const steps = all.slice(0, -1).map((l) => l.split(' '));
    // Each step answered; a step answered before the kill may only appear again if its answer was not yet recorded
    // (it was in flight): then with the same key and a later attempt — never a completed step run again from scratch.
    const byStep = new Map<string, string[][]>();
    for (const s of steps) byStep.set(s[0]!, [...(byStep.get(s[0]!) ?? []), s]);
    expect([...byStep.keys()]).toEqual(['s1', 's2', 's3', 's4', 's5', 's6']);
    let repeats = 0;
    for (const [step, runs] of byStep) {
      expect(runs.every((r) => r[1] === `wf/c1/${step}`)).toBe(true);
      if (runs.length > 1) {
        repeats++;
        expect(runs.map((r) => Number(r[2]))).toEqual(runs.map((_, i) => i + 1));
      }
    }
    // At most the one step in flight at the kill ran twice.
    expect(repeats).toBeLessThanOrEqual(1);
    expect(steps.length).toBeLessThanOrEqual(7);
  }, 60_000);
});
