// Every file in examples/ runs here.
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/tmp.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('examples', () => {
  const files = readdirSync(new URL('../examples/', import.meta.url)).filter((f) => f.endsWith('.ts'));

  it('has examples to run', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('quickstart counts to 5', async () => {
    const { main } = await import('../examples/quickstart.js');
    await expect(main(tmp.dir + '/quickstart')).resolves.toBe(5);
  });

  // An example with its own test file (test/examples/<name>.test.ts) is run and checked there.
  const tested = new Set(readdirSync(new URL('./examples/', import.meta.url)).map((f) => f.replace(/\.test\.ts$/, '.ts')));

  it('every example exports a main; those without their own test run to completion here', async () => {
    for (const f of files) {
      const mod = (await import(`../examples/${f}`)) as { main?: (dir: string) => Promise<unknown> };
      expect(typeof mod.main, f).toBe('function');
      if (!tested.has(f)) await mod.main!(`${tmp.dir}/${f}`);
    }
  }, 120_000);
});

describe('npm start demo', () => {
  it('runs the supervision demo: a crash, a restart from initial state, the tree printed', async () => {
    const { runDemo } = await import('../src/cli/demo.js');
    const lines: string[] = [];
    const result = await runDemo((l) => lines.push(l), tmp.dir + '/demo');
    expect(result).toMatchObject({ count: 1, restarts: 1, refused: 'ADMISSION_REFUSED', denied: 'CAPABILITY_DENIED', auditOk: true, booked: 2, recovered: false });
    // The city permit workflow, end to end, its gate approved by the demo reviewer.
    expect(result.permit).toMatchObject({ runId: 'permit-1', status: 'completed', approvalId: 'wf-permit-1-approve', steps: ['plan', 'browse', 'summarise', 'approve', 'notify'] });
    expect(result.permit.traceId).toMatch(/^[0-9a-f]{32}$/);
    const out = lines.join('\n');
    expect(out).toContain('counter after two incs: 5');
    expect(out).toContain('└─ counter (counter, SRT) state={} restarts=1 running');
    expect(out).toContain('audit');
    expect(out).toContain('HRT utilisation would be 1.20 > 1.00');
    expect(out).toMatch(/audit log: \d+ records, root [0-9a-f]{16}…/);
    expect(out).toContain('this run called ledger.book 2 times for 2 new orders');
    expect(out).toMatch(/effect journal: \d+ entries, hash chain ok/);
    expect(out).toContain('approval wf-permit-1-approve waits for a permit officer');
    expect(out).toMatch(/trace of the workflow run [0-9a-f]{32}: \d+ spans \(1 agentos\.workflow\.run, .*5 agentos\.workflow\.step/);
  });

  it('a second run on the same data dir recovers the persistent bookkeeper with what it booked', async () => {
    const { runDemo } = await import('../src/cli/demo.js');
    const lines: string[] = [];
    const result = await runDemo((l) => lines.push(l), tmp.dir + '/demo');
    expect(result).toMatchObject({ recovered: true, booked: 4, count: 1, permit: { runId: 'permit-2', status: 'completed' } });
    expect(lines.join('\n')).toContain('recovered "books" from');
  });
});

describe('local model example', () => {
  it('an agent gets the local rules model answer through the kernel, and a caller streams from local/echo', async () => {
    const { main } = await import('../examples/local-model.js');
    const result = await main(tmp.dir + '/local-model');
    expect(result.answer).toBe('Hello! I am the local rules model.');
    expect(result.streamed).toContain('stream me back');
  });
});
