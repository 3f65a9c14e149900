// `npm start -- --interactive`: the showcase waits at the workflow's approval gate
// until a person approves it with `agentos approve` from another process.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { agentos, repoRoot } from './run.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

describe('agentos demo --interactive', () => {
  it('waits at the approval gate for `agentos approve` from another process, then completes and exits 0', async () => {
    tmp = tempDir('agentos-showcase-');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--interactive', '--data-dir', tmp.dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const waiting = new Promise<string>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        lines.push(l);
        if (l.includes('npx agentos approve')) resolve(l);
      });
    });
    const hint = await Promise.race([waiting, exited.then((c) => Promise.reject(new Error(`demo exited ${c}: ${lines.join('\n')}`)))]);
    expect(hint).toContain('npx agentos approve wf-permit-1-approve --by <you>');
    // Nothing moves until a person decides: the gate is listed by the running node.
    const listed = agentos('approvals', '--data-dir', tmp.dir, '--node', 'demo', '--json');
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout).approvals.map((a: { id: string }) => a.id)).toEqual(['wf-permit-1-approve']);
    const approved = agentos('approve', 'wf-permit-1-approve', '--by', 'officer-kim', '--data-dir', tmp.dir, '--node', 'demo');
    expect(approved.status).toBe(0);
    expect(await exited).toBe(0);
    expect(lines.join('\n')).toMatch(/run permit-1: completed; steps plan → browse → summarise → approve → notify/);
  }, 90_000);
});
