// Starting worker threads from TypeScript sources (vitest, tsx) as well as
// from the built JavaScript. From sources a worker's entry is a `.ts` file:
// the thread is started with tsx's loader (`--import tsx`), and gets tsx's
// ESM API to register so `.ts` modules it imports later load too. The
// process's own flags are not passed on: Node refuses per-process ones
// (--expose-gc, --max-old-space-size) in a worker's execArgv.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** tsx's loader (for `--import`) and ESM API (registered in the thread); undefined if tsx is not installed. */
export function tsxLoader(from: string): { cjs: string; esm: string } | undefined {
  try {
    const require = createRequire(from);
    const manifest = require.resolve('tsx/package.json');
    // The `import` target of tsx's `./esm/api` export (require.resolve would give the CommonJS one).
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
    const api = pkg.exports['./esm/api']?.import?.default;
    if (api === undefined) return undefined;
    return { cjs: pathToFileURL(require.resolve('tsx')).href, esm: pathToFileURL(join(dirname(manifest), api)).href };
  } catch {
    return undefined;
  }
}

/** Flags a worker may be given: module loaders and conditions (what tsx and test runners use), nothing per-process. */
export function workerSafeFlag(flag: string, i: number, all: readonly string[]): boolean {
  const isLoaderFlag = (f: string): boolean => /^--(import|require|loader|experimental-loader|conditions|enable-source-maps|no-warnings)(=|$)/.test(f);
  if (isLoaderFlag(flag)) return true;
  // the value of a preceding loader flag given as a separate argument
  const prev = all[i - 1];
  return prev !== undefined && !flag.startsWith('-') && /^--(import|require|loader|experimental-loader|conditions)$/.test(prev);
}

/**
 * How to start the worker whose entry is `name` (without extension) next to
 * the module at `here` (its import.meta.url): the file, and for sources the
 * loader flags and the `tsx` ESM API in workerData (see `registerSourceLoader`).
 */
export function workerEntry(here: string, name: string, extra: readonly string[] = []): { filename: string; execArgv: string[]; workerData: { tsx?: string } } {
  const fromSource = here.endsWith('.ts');
  const filename = fileURLToPath(new URL(`./${name}${fromSource ? '.ts' : '.js'}`, here));
  const loader = fromSource ? tsxLoader(here) : undefined;
  if (!loader) return { filename, execArgv: [...extra], workerData: {} };
  return { filename, execArgv: [...process.execArgv.filter(workerSafeFlag), '--import', loader.cjs, ...extra], workerData: { tsx: loader.esm } };
}

/** In a worker started by `workerEntry`: register tsx so `.ts` modules imported later load too. */
export async function registerSourceLoader(data: unknown): Promise<void> {
  const tsx = (data as { tsx?: unknown } | undefined)?.tsx;
  if (typeof tsx === 'string') ((await import(tsx)) as { register: () => unknown }).register();
}
