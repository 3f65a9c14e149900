// A project made by `agentos init`, set up as `npm install` would set it up —
// except that node_modules/agentos is this repository (its package.json points
// `exports` at src/index.ts, so the sources under test are what the project
// runs, not a possibly stale dist/) and the other packages are links to the
// repository's. Plus the `agentos` command run inside such a project, the way a
// user runs it from the project directory (real child processes).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './run.js';

const TSX = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = join(repoRoot, 'src/cli/main.ts');

/** Make `dir/node_modules` hold what the scaffold's package.json asks for. */
export function linkDependencies(dir: string): void {
  const pkg = join(dir, 'node_modules/agentos');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'agentos', version: '0.1.0', type: 'module', exports: { '.': './src/index.ts', './lane': './src/lane.ts' } }));
  symlinkSync(join(repoRoot, 'src'), join(pkg, 'src'));
  symlinkSync(join(repoRoot, 'schemas'), join(pkg, 'schemas'));
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  for (const name of ['xstate', 'zod', 'vitest', 'tsx', '@types/node']) symlinkSync(join(repoRoot, 'node_modules', name), join(dir, 'node_modules', name));
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `agentos <args>` in `cwd`, to completion. */
export function agentosIn(cwd: string, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running `agentos start` or `agentos dev`: its output as it comes. */
export interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the port of the `n`th `ready <port>` line (1-based), once printed. */
  ready(n?: number, ms?: number): Promise<number>;
  /** Resolves once stderr contains `text` (counting from `from` characters in). */
  saidOnStderr(text: string | RegExp, from?: number, ms?: number): Promise<void>;
}

export function agentosInBackground(cwd: string, ...args: string[]): Running {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const stdout: string[] = [];
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const l of listeners) l();
  };
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    changed();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    changed();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (what: string, met: () => boolean, ms: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!met()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what} not seen within ${ms} ms; stdout: ${stdout.join(' | ')}; stderr: ${stderr}`));
      }, ms);
      const gone = (code: number | null): void => {
        done();
        reject(new Error(`agentos exited (${code}) before ${what}; stderr: ${stderr}`));
      };
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', gone);
      };
      listeners.add(check);
      child.once('exit', gone);
      check();
    });
  const readyLines = (): string[] => stdout.filter((l) => /^ready \d+$/.test(l));
  return {
    child,
    exited,
    stdout,
    stderr: () => stderr,
    async ready(n = 1, ms = 30_000) {
      await waitFor(`ready line #${n}`, () => readyLines().length >= n, ms);
      return Number(readyLines()[n - 1]!.slice('ready '.length));
    },
    saidOnStderr(text, from = 0, ms = 20_000) {
      const has = (): boolean => (typeof text === 'string' ? stderr.slice(from).includes(text) : text.test(stderr.slice(from)));
      return waitFor(`stderr ${String(text)}`, has, ms);
    },
  };
}

/** SIGKILL it if it still runs (a test that failed half way). */
export async function kill(running: Running | undefined): Promise<void> {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
}
