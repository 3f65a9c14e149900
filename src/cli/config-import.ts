// How `agentos start` and `agentos dev` import a project's modules. A
// TypeScript config on a Node that cannot load TypeScript by itself is loaded
// through the project's `tsx` (registered on first need). For `agentos dev`,
// `importModule(file, generation)` gives a fresh copy of the config *and* of
// every project module it imports: a module-resolution hook carries the
// config's `?agentos-dev=<generation>` query down to each file under the
// project directory (never into node_modules), so an edited agent file is read
// again even though ESM has no cache to clear. Old copies stay in memory until
// the process exits: fine for a development loop, not for production.

import { register } from 'node:module';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const GENERATION = 'agentos-dev';
const UNKNOWN_TS = /Unknown file extension "\.[cm]?tsx?"/;

// The hooks run in Node's loader thread, so they are plain JavaScript handed over as a data: URL
// (the same text whether the CLI runs from dist/ or from sources).
const FRESH_IMPORT_HOOKS = `
let root = '';
export function initialize(data) { root = data.root; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const parent = context.parentURL;
  if (parent === undefined || !result.url.startsWith(root) || result.url.includes('/node_modules/')) return result;
  const generation = new URL(parent).searchParams.get(${JSON.stringify(GENERATION)});
  if (generation === null) return result;
  const url = new URL(result.url);
  url.searchParams.set(${JSON.stringify(GENERATION)}, generation);
  return { ...result, url: url.href };
}`;

let tsxRegistered = false;
let freshRoot: string | undefined;

/** Import `file` (with `generation`: a fresh copy of it and its project imports; see enableFreshImports). */
export async function importModule(file: string, generation?: number): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file);
  if (generation !== undefined) url.searchParams.set(GENERATION, String(generation));
  try {
    return (await import(url.href)) as Record<string, unknown>;
  } catch (err) {
    if (tsxRegistered || (err as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !UNKNOWN_TS.test(String((err as Error).message))) throw err;
    await registerTsx(file);
    // Another URL: Node keeps the failed attempt for the first one.
    url.searchParams.set('agentos-ts', '1');
    return (await import(url.href)) as Record<string, unknown>;
  }
}

/**
 * From now on, a module imported with `?agentos-dev=N` passes N on to the
 * project modules it imports (files under `root`, outside node_modules).
 */
export function enableFreshImports(root: string): void {
  freshRoot = pathToFileURL(root.endsWith(sep) ? root : root + sep).href;
  register(`data:text/javascript,${encodeURIComponent(FRESH_IMPORT_HOOKS)}`, { data: { root: freshRoot } });
}

async function registerTsx(file: string): Promise<void> {
  let api: { register: () => unknown };
  try {
    api = (await import('tsx/esm/api')) as { register: () => unknown };
  } catch (cause) {
    throw new Error(`${file} is TypeScript, which Node ${process.version} cannot load by itself: add tsx to the project (npm install -D tsx) or run with node --import tsx`, { cause });
  }
  api.register();
  tsxRegistered = true;
  // Hooks registered later run first: the fresh-import hook must see what tsx resolved, so it goes on top again.
  if (freshRoot !== undefined) register(`data:text/javascript,${encodeURIComponent(FRESH_IMPORT_HOOKS)}`, { data: { root: freshRoot } });
}
