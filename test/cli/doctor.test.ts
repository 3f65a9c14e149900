// agentos doctor: the checks in-process (a busy port and an unreachable model
// endpoint fail, a data dir that cannot be written fails LMDB too), and the
// command as a child process (exit codes, --json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import { tempDir } from '../support/tmp.js';
import { agentos } from './run.js';

let tmp: ReturnType<typeof tempDir>;
let busy: Server | undefined;
afterEach(async () => {
  if (busy) await new Promise((r) => busy!.close(r));
  busy = undefined;
  tmp?.cleanup();
});

const byName = (checks: { name: string; status: string; detail: string }[], name: string) => checks.find((c) => c.name === name)!;

describe('agentos doctor', () => {
  it('passes on a writable data dir with LMDB, and fails a busy port and an unreachable model endpoint by name', async () => {
    tmp = tempDir();
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as { port: number }).port;
    const checks = await runDoctor({ dataDir: join(tmp.dir, 'data'), ports: [taken], modelUrl: 'http://127.0.0.1:9/v1', timeoutMs: 500 });
    expect(byName(checks, 'node').status).toBe('ok');
    expect(byName(checks, 'data dir').status).toBe('ok');
    expect(byName(checks, 'lmdb')).toMatchObject({ status: 'ok' });
    expect(byName(checks, `port ${taken}`)).toMatchObject({ status: 'fail', detail: expect.stringContaining('not free') });
    expect(byName(checks, 'model endpoint')).toMatchObject({ status: 'fail', detail: expect.stringContaining('127.0.0.1:9/v1/models') });
    expect(['ok', 'warn']).toContain(byName(checks, 'chromium').status);
  });

  it('fails the data dir (and LMDB, not tried) when the path is a file', async () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const checks = await runDoctor({ dataDir: join(file, 'sub'), ports: [] });
    expect(byName(checks, 'data dir').status).toBe('fail');
    expect(byName(checks, 'lmdb')).toMatchObject({ status: 'fail', detail: expect.stringContaining('not tried') });
  });

  it('as a command: exit 0 with --json on a good machine, exit 1 naming a failed check, exit 2 on a bad port', () => {
    tmp = tempDir();
    mkdirSync(join(tmp.dir, 'd'));
    const ok = agentos('doctor', '--data-dir', join(tmp.dir, 'd'), '--json');
    expect(ok.status).toBe(0);
    expect((JSON.parse(ok.stdout) as { name: string }[]).map((c) => c.name)).toEqual(expect.arrayContaining(['node', 'data dir', 'lmdb', 'chromium', 'chrt']));
    const bad = agentos('doctor', '--data-dir', join(tmp.dir, 'd'), '--model-url', 'http://127.0.0.1:9/v1');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}model endpoint: /);
    expect(agentos('doctor', '--port', '70000').status).toBe(2);
  });
});
