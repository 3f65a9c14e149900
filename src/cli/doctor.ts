// `agentos doctor`: can this machine run a node? Node's version, LMDB opening
// and writing in the data dir, the data dir writable, the ports the node would
// listen on free on 127.0.0.1, and — optional, a warning when missing — a
// Chromium for the inspector's browser tests, `chrt` for SCHED_FIFO HRT lanes,
// and an OpenAI-compatible model endpoint when one is named. Exit 1 when a
// required check fails.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { CliIo } from './exit.js';
import { DEFAULT_DATA_DIR } from './options.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface DoctorOptions {
  dataDir: string;
  ports: number[];
  /** An OpenAI-compatible base URL to reach (`…/v1`), checked with GET /models. */
  modelUrl?: string;
  /** How long the model endpoint may take, ms. */
  timeoutMs?: number;
}

export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({ name: 'node', status: major >= 20 ? 'ok' : 'fail', detail: `Node ${process.versions.node}${major >= 20 ? '' : ' (agentos needs 20 or newer)'}` });
  const dir = resolve(o.dataDir);
  let writable = false;
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.doctor-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
    writable = true;
    checks.push({ name: 'data dir', status: 'ok', detail: `${dir} is writable` });
  } catch (err) {
    checks.push({ name: 'data dir', status: 'fail', detail: `${dir}: ${(err as Error).message}` });
  }
  checks.push(await lmdbCheck(writable ? dir : undefined));
  for (const port of o.ports) checks.push(await portCheck(port));
  checks.push(commandCheck('chromium', ['chromium', 'chromium-browser', 'google-chrome'], '--version', 'for the inspector and its browser tests (the test run installs Debian chromium when missing)'));
  checks.push(commandCheck('chrt', ['chrt'], '--version', 'for SCHED_FIFO HRT lanes (needs root or CAP_SYS_NICE as well)'));
  if (o.modelUrl !== undefined) checks.push(await modelCheck(o.modelUrl, o.timeoutMs ?? 2000));
  return checks;
}

async function lmdbCheck(dir: string | undefined): Promise<Check> {
  if (dir === undefined) return { name: 'lmdb', status: 'fail', detail: 'not tried: the data dir is not writable' };
  const scratch = mkdtempSync(join(dir, '.doctor-lmdb-'));
  try {
    const { open } = await import('lmdb');
    const db = open({ path: join(scratch, 'data.mdb'), noSubdir: true });
    await db.put('probe', { at: 1 });
    const back = db.get('probe') as { at?: number } | undefined;
    await db.close();
    return back?.at === 1 ? { name: 'lmdb', status: 'ok', detail: 'opened, wrote and read back a record' } : { name: 'lmdb', status: 'fail', detail: 'a record written was not read back' };
  } catch (err) {
    return { name: 'lmdb', status: 'fail', detail: (err as Error).message };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function portCheck(port: number): Promise<Check> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => done({ name: `port ${port}`, status: 'fail', detail: `127.0.0.1:${port} is not free (${err.code ?? err.message})` }));
    server.listen(port, '127.0.0.1', () => server.close(() => done({ name: `port ${port}`, status: 'ok', detail: `127.0.0.1:${port} is free` })));
  });
}

function commandCheck(name: string, candidates: readonly string[], flag: string, why: string): Check {
  for (const cmd of candidates) {
    try {
      const out = execFileSync(cmd, [flag], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      return { name, status: 'ok', detail: `${cmd}: ${out.trim().split('\n')[0]}` };
    } catch {
      // not installed, or it would not run: try the next name
    }
  }
  return { name, status: 'warn', detail: `not found (optional: ${why})` };
}

async function modelCheck(base: string, timeoutMs: number): Promise<Check> {
  const url = `${base.replace(/\/+$/, '')}/models`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? { name: 'model endpoint', status: 'ok', detail: `${url} answered ${res.status}` } : { name: 'model endpoint', status: 'fail', detail: `${url} answered ${res.status}` };
  } catch (err) {
    return { name: 'model endpoint', status: 'fail', detail: `${url}: ${(err as Error).message}` };
  }
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port number 1-65535');
  return n;
}

export function registerDoctorCommand(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description('check that this machine can run a node: Node, LMDB, the data dir, free ports; optional Chromium, chrt, a model endpoint')
    .option('--data-dir <dir>', 'where the node keeps its data', DEFAULT_DATA_DIR)
    .option('--port <n>', 'a port the node will listen on (repeatable)', (v: string, all: number[]) => [...all, port(v)], [] as number[])
    .option('--model-url <url>', 'an OpenAI-compatible base URL to reach (e.g. http://127.0.0.1:11434/v1)')
    .option('--json', 'print the checks as JSON')
    .addHelpText('after', '\nExamples:\n  $ agentos doctor\n  $ agentos doctor --port 4200 --model-url http://127.0.0.1:11434/v1 --json\n')
    .action(async (opts: { dataDir: string; port: number[]; modelUrl?: string; json?: boolean }) => {
      const checks = await runDoctor({ dataDir: opts.dataDir, ports: opts.port, ...(opts.modelUrl === undefined ? {} : { modelUrl: opts.modelUrl }) });
      if (opts.json) io.out(JSON.stringify(checks, null, 2));
      else for (const c of checks) io.out(`${c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL'}  ${c.name}: ${c.detail}`);
      if (checks.some((c) => c.status === 'fail')) io.fail();
    });
}
