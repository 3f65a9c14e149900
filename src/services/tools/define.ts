// Tool definitions: `defineTool` (zod schemas) and `defineJsonSchemaTool` (plain
// JSON Schema, e.g. a tool imported from an MCP server). Both check every field
// when written and return a frozen definition the registry compiles; a bad
// field is a ToolError INVALID_TOOL naming it.

import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { z } from 'zod';
import type { TraceSpan } from '../../kernel/trace.js';
import { ToolCodes, ToolError } from './errors.js';
import type { JsonSchema } from './schema.js';
import { SECRET_NAME } from './secrets.js';

export interface ToolContext {
  /** The actor the call is made for. */
  actor: string;
  tenant: string;
  /** Idempotency key, for a call made by a persistent actor: the same on every retry of this call, across crashes. */
  key?: string;
  /** 1 on first dispatch; more when a call whose outcome was lost is retried (idempotent tools only). */
  attempt?: number;
  /** Reads a secret this tool declared in `secrets`. Always set when the registry runs the tool. */
  secret?: (name: string) => string;
  /** Aborted when the call's time limit passes or its caller gives up; a long in-process tool should stop. Always set by the registry. */
  signal?: AbortSignal;
  /** The call's `agentos.tool` span, when traced (in-process tools only): add attributes or events to it. */
  span?: TraceSpan;
  /** True while `simulate` runs for a dry run. */
  dryRun?: boolean;
  /** The version of the tool being run. */
  version?: string;
}

/** How much harm a call can do; exported in the manifest and as MCP annotations. */
export const TOOL_RISKS = ['low', 'medium', 'high'] as const;
export type ToolRisk = (typeof TOOL_RISKS)[number];

/**
 * Where a worker tool is loaded from. A worker thread cannot receive a closure,
 * so it imports `module` (a file URL or absolute path) and runs the export
 * named `export` (default: the exported tool definition with this tool's name).
 */
export interface WorkerSandboxSpec {
  module: string | URL;
  export?: string;
  /** Old-generation heap limit of the worker, MiB (resourceLimits.maxOldGenerationSizeMb). */
  memoryMb?: number;
  /** Young-generation limit, MiB. */
  youngMb?: number;
  /** Thread stack size, MiB. */
  stackMb?: number;
}

/**
 * `'none'` (default): runs in the node's thread. `'worker'`: runs in a worker
 * thread, loaded from the module that called defineTool (found from the call
 * stack; the module must be importable without side effects). An object says
 * the module and export explicitly, with limits.
 */
export type SandboxOption = 'none' | 'worker' | WorkerSandboxSpec;

/** A sandbox as the registry uses it: the module as a file URL. */
export interface ResolvedSandbox {
  kind: 'worker';
  module: string;
  export: string | undefined;
  memoryMb: number | undefined;
  youngMb: number | undefined;
  stackMb: number | undefined;
}

/** Fields every tool may have beside its schemas and `execute`. */
interface ToolOptions<A> {
  /** Also the capability name a contract lists to use it, e.g. `web.fetch`. */
  name: string;
  description: string;
  /**
   * Whether a call whose outcome was lost in a crash may run again: `false` (default)
   * sends it to compensation or to a person; `true` means running it twice is harmless;
   * `'key'` means the tool deduplicates on `context.key` itself.
   */
  idempotent?: boolean | 'key';
  /** Undo a non-idempotent call left in doubt by a crash (must itself be safe to repeat). */
  compensate?: (call: { key: string; actor: string; attempt: number }, args: A) => unknown;
  /** Default `'low'`. */
  risk?: ToolRisk;
  sandbox?: SandboxOption;
  /** Dry runs call this instead of `execute` (no side effects); without it a dry run only records the intended call. */
  simulate?: (args: A, context: ToolContext) => unknown;
  /** `1`, `v2`, `2.1.0`. Default: 1 for a new name, the next whole number for a changed definition. */
  version?: string;
  /** Time limit of one call, ms. In-process tools get `context.signal` aborted and the call fails; worker tools are terminated. */
  timeoutMs?: number;
  /** Names of node secrets the tool may read through `context.secret(name)`. */
  secrets?: readonly string[];
}

export interface ToolConfig<I extends z.ZodType, O extends z.ZodType> extends ToolOptions<z.output<I>> {
  input: I;
  output?: O;
  execute: (args: z.output<I>, context: ToolContext) => Promise<z.input<O>> | z.input<O>;
  simulate?: (args: z.output<I>, context: ToolContext) => Promise<z.input<O>> | z.input<O>;
}

export interface ToolDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> extends Readonly<Omit<ToolConfig<I, O>, 'sandbox' | 'secrets'>> {
  readonly kind: 'tool';
  readonly schema: 'zod';
  readonly sandbox: ResolvedSandbox | undefined;
  readonly secrets: readonly string[];
}

export interface JsonSchemaToolConfig extends ToolOptions<any> {
  /** JSON Schema (2020-12 unless `$schema` says draft-07/06/04) of the arguments. */
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  execute: (args: any, context: ToolContext) => unknown;
}

export interface JsonSchemaToolDefinition extends Readonly<Omit<JsonSchemaToolConfig, 'sandbox' | 'secrets'>> {
  readonly kind: 'tool';
  readonly schema: 'json-schema';
  readonly sandbox: ResolvedSandbox | undefined;
  readonly secrets: readonly string[];
}

export type AnyToolDefinition = ToolDefinition<any, any> | JsonSchemaToolDefinition;

const TOOL_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;
const VERSION = /^v?\d{1,6}(\.\d{1,6}){0,3}$/;
const EXPORT_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function defineTool<I extends z.ZodType, O extends z.ZodType = z.ZodType>(config: ToolConfig<I, O>): ToolDefinition<I, O> {
  const bad = badField('defineTool');
  checkCommon(config, bad);
  if (!isZod(config.input)) bad('input', 'must be a zod schema');
  if (config.output !== undefined && !isZod(config.output)) bad('output', 'must be a zod schema');
  const sandbox = resolveSandbox(config.sandbox, bad);
  return Object.freeze({ ...config, kind: 'tool' as const, schema: 'zod' as const, sandbox, secrets: Object.freeze([...(config.secrets ?? [])]) });
}

/** A tool described by JSON Schema only (validated with ajv, compiled once when registered). */
export function defineJsonSchemaTool(config: JsonSchemaToolConfig): JsonSchemaToolDefinition {
  const bad = badField('defineJsonSchemaTool');
  checkCommon(config, bad);
  if (!isSchemaObject(config.inputSchema)) bad('inputSchema', 'must be a JSON Schema object');
  if (config.outputSchema !== undefined && !isSchemaObject(config.outputSchema)) bad('outputSchema', 'must be a JSON Schema object');
  const sandbox = resolveSandbox(config.sandbox, bad);
  return Object.freeze({ ...config, kind: 'tool' as const, schema: 'json-schema' as const, sandbox, secrets: Object.freeze([...(config.secrets ?? [])]) });
}

export function isToolDefinition(value: unknown): value is AnyToolDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'tool';
}

type Bad = (field: string, why: string) => never;

function badField(where: string): Bad {
  return (field, why) => {
    throw new ToolError(ToolCodes.invalidTool, `${where}: ${field} ${why}`, { field });
  };
}

function checkCommon(config: ToolOptions<any> & { execute?: unknown }, bad: Bad): void {
  if (typeof config?.name !== 'string' || !TOOL_NAME.test(config.name)) bad('name', `must look like "web.fetch" (got ${JSON.stringify(config?.name)})`);
  if (typeof config.description !== 'string' || config.description.length === 0) bad('description', 'must be a non-empty string');
  if (typeof config.execute !== 'function') bad('execute', 'must be a function');
  if (config.idempotent !== undefined && typeof config.idempotent !== 'boolean' && config.idempotent !== 'key') bad('idempotent', "must be true, false or 'key'");
  if (config.compensate !== undefined && typeof config.compensate !== 'function') bad('compensate', 'must be a function');
  if (config.simulate !== undefined && typeof config.simulate !== 'function') bad('simulate', 'must be a function');
  if (config.risk !== undefined && !TOOL_RISKS.includes(config.risk)) bad('risk', `must be one of ${TOOL_RISKS.join(', ')} (got ${JSON.stringify(config.risk)})`);
  if (config.version !== undefined && (typeof config.version !== 'string' || !VERSION.test(config.version))) {
    bad('version', `must look like "1", "v2" or "2.1.0" (got ${JSON.stringify(config.version)})`);
  }
  if (config.timeoutMs !== undefined && !(typeof config.timeoutMs === 'number' && config.timeoutMs > 0 && config.timeoutMs <= MAX_TIMEOUT_MS)) {
    bad('timeoutMs', `must be a positive number of ms (got ${String(config.timeoutMs)})`);
  }
  if (config.secrets !== undefined) {
    if (!Array.isArray(config.secrets)) bad('secrets', 'must be an array of secret names');
    config.secrets.forEach((s, i) => {
      if (typeof s !== 'string' || !SECRET_NAME.test(s)) bad(`secrets[${i}]`, `must be a secret name like "github.token" (got ${JSON.stringify(s)})`);
      if (config.secrets!.indexOf(s) !== i) bad(`secrets[${i}]`, `repeats "${s}"`);
    });
  }
}

function resolveSandbox(option: SandboxOption | undefined, bad: Bad): ResolvedSandbox | undefined {
  if (option === undefined || option === 'none') return undefined;
  if (option === 'worker') {
    const module = callerModule();
    if (module === undefined) bad('sandbox', "cannot tell which module defines this tool; write sandbox: { module: import.meta.url, export: '<name>' }");
    return { kind: 'worker', module: module!, export: undefined, memoryMb: undefined, youngMb: undefined, stackMb: undefined };
  }
  if (typeof option !== 'object' || option === null) bad('sandbox', `must be 'none', 'worker' or { module, export? } (got ${JSON.stringify(option)})`);
  const spec = option as WorkerSandboxSpec;
  const module = moduleUrl(spec.module);
  if (module === undefined) bad('sandbox.module', `must be a file: URL or an absolute path (got ${JSON.stringify(String(spec.module))})`);
  if (spec.export !== undefined && (typeof spec.export !== 'string' || !EXPORT_NAME.test(spec.export))) bad('sandbox.export', `must be an export name (got ${JSON.stringify(spec.export)})`);
  const limit = (key: 'memoryMb' | 'youngMb' | 'stackMb', max: number): number | undefined => {
    const v = spec[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= max)) bad(`sandbox.${key}`, `must be a whole number of MiB from 1 to ${max} (got ${String(v)})`);
    return v;
  };
  return { kind: 'worker', module: module!, export: spec.export, memoryMb: limit('memoryMb', 65_536), youngMb: limit('youngMb', 4096), stackMb: limit('stackMb', 256) };
}

function moduleUrl(module: unknown): string | undefined {
  if (module instanceof URL) return module.protocol === 'file:' ? module.href : undefined;
  if (typeof module !== 'string' || module.length === 0) return undefined;
  if (module.startsWith('file:')) {
    try {
      return pathToFileURL(fileURLToPath(module)).href;
    } catch {
      return undefined;
    }
  }
  return isAbsolute(module) ? pathToFileURL(module).href : undefined;
}

const FRAME_FILE = /(?:\(|at )((?:file:\/\/)?\/[^():\s]+|[A-Za-z]:\\[^():]+):\d+:\d+\)?$/;
const HERE = /\/services\/tools\/(define|tool)\.(ts|js)$/;

/** The file of the first stack frame outside this folder's define/tool modules: the module that called defineTool. */
function callerModule(): string | undefined {
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    const m = FRAME_FILE.exec(line.trim());
    if (!m) continue;
    const url = moduleUrl(m[1]);
    if (url !== undefined && !HERE.test(url)) return url;
  }
  return undefined;
}

function isZod(value: unknown): boolean {
  return typeof (value as { safeParse?: unknown } | null)?.safeParse === 'function';
}

function isSchemaObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
