// The entry of a sandbox worker thread (piscina). It imports the tool's module by
// URL, finds the tool (by export name, or the exported definition with the tool's
// name), runs `execute` and answers with plain data: the result, or what went
// wrong (load failure, a throw, a result that is not JSON data). It imports
// nothing of agentos, so a worker starts fast and a tool module's errors stay its own.

import { workerData } from 'node:worker_threads';
import { registerSourceLoader } from '../../base/worker-loader.js';

export interface SandboxTask {
  tool: string;
  /** File URL of the module that exports the tool. */
  module: string;
  export: string | undefined;
  args: unknown;
  context: { actor: string; tenant: string; key?: string; attempt?: number; version: string };
  /** Only the secrets the tool declared. */
  secrets: Record<string, string>;
}

export type SandboxReply =
  | { ok: true; value: unknown }
  | { ok: false; kind: 'load' | 'thrown' | 'output'; name: string; message: string; code?: string; field?: string };

type Run = (args: unknown, context: unknown) => unknown;

let loader: Promise<void> | undefined;
const modules = new Map<string, Promise<Record<string, unknown>>>();

export default async function runTask(task: SandboxTask): Promise<SandboxReply> {
  let run: Run;
  try {
    // Running from TypeScript sources: the parent passes tsx's ESM API so `.ts` tool modules load here too.
    await (loader ??= registerLoader());
    run = await find(task);
  } catch (err) {
    return { ok: false, kind: 'load', ...describe(err) };
  }
  let value: unknown;
  try {
    value = await run(task.args, context(task));
  } catch (err) {
    return { ok: false, kind: 'thrown', ...describe(err) };
  }
  const bad = value === undefined ? undefined : notJson(value, '$', new Set());
  if (bad !== undefined) return { ok: false, kind: 'output', name: 'TypeError', message: bad };
  return { ok: true, value };
}

function registerLoader(): Promise<void> {
  return registerSourceLoader(workerData);
}

async function find(task: SandboxTask): Promise<Run> {
  let mod = modules.get(task.module);
  if (!mod) modules.set(task.module, (mod = import(task.module) as Promise<Record<string, unknown>>));
  const exports = await mod;
  const candidates = task.export !== undefined ? [exports[task.export]] : Object.values(exports).filter((v) => isTool(v) && v.name === task.tool);
  const found = candidates[0];
  if (isTool(found)) return found.execute.bind(found) as Run;
  if (typeof found === 'function') return found as Run;
  const what = task.export !== undefined ? `an export "${task.export}" that is a tool or a function` : `an exported tool definition named "${task.tool}"`;
  throw new Error(`${task.module} has no ${what}`);
}

function isTool(v: unknown): v is { kind: 'tool'; name: string; execute: Run } {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'tool' && typeof (v as { execute?: unknown }).execute === 'function';
}

function context(task: SandboxTask): Record<string, unknown> {
  return {
    ...task.context,
    dryRun: false,
    // The time limit terminates the thread; nothing aborts this signal.
    signal: new AbortController().signal,
    secret: (name: string): string => {
      if (!Object.prototype.hasOwnProperty.call(task.secrets, name)) {
        throw Object.assign(new Error(`tool "${task.tool}" did not declare the secret "${name}", or the node has none by that name`), {
          code: 'UNKNOWN_SECRET',
          field: 'secret',
          details: undefined,
        });
      }
      return task.secrets[name]!;
    },
  };
}

function describe(err: unknown): { name: string; message: string; code?: string; field?: string } {
  const e = err as { name?: unknown; message?: unknown; code?: unknown; field?: unknown } | null;
  const isError = typeof e === 'object' && e !== null;
  return {
    name: isError && typeof e.name === 'string' ? e.name : 'Error',
    message: isError && typeof e.message === 'string' ? e.message : String(err),
    // Only AgentOsError-shaped errors (a code like ABC_DEF and a `field` property) keep their code.
    ...(isError && typeof e.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.code) && 'field' in e ? { code: e.code } : {}),
    ...(isError && typeof e.field === 'string' ? { field: e.field } : {}),
  };
}

/** Why a result is not JSON data, or undefined when it is. */
function notJson(value: unknown, path: string, open: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, not a finite number`;
    case 'object': {
      if (value === null) return undefined;
      if (open.has(value)) return `${path} contains a cycle`;
      const proto: unknown = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return `${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}, not JSON data`;
      open.add(value);
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined && !Array.isArray(value)) continue;
        const bad = notJson(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, open);
        if (bad !== undefined) return bad;
      }
      open.delete(value);
      return undefined;
    }
    default:
      return `${path} is a ${typeof value}, not JSON data`;
  }
}
