// The project config that `agentos start` and `agentos dev` run: a module
// (`agentos.config.ts`) whose default export — or named export `config` — says
// which node to run (`node`: its name and createNode options), what it hosts
// (`agents`, `tools`, `workflows`), which actors to start (`spawn`, default one
// per agent) and what else to do once it is up (`setup(node)`). Everything is
// checked here, before a node is touched, with CONFIG_INVALID naming the field.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import { AgentOsError, isAgentOsError } from '../base/errors.js';
import { contractOf } from '../kernel/agent-contract.js';
import type { SpawnOptions } from '../kernel/kernel.js';
import type { NodeOptions } from '../node/node.js';
import { validateNodeOptions } from '../node/options.js';
import type { AnyToolDefinition } from '../services/tools/tool.js';
import type { WorkflowDefinition } from '../services/workflow/types.js';
import { importModule } from './config-import.js';
import type { AgentOsConfig } from './define-config.js';
import { displayPath } from './start.js';

export { defineConfig, type AgentOsConfig, type SpawnSpec } from './define-config.js';

export const ConfigCodes = {
  /** No config file where one was looked for. */
  notFound: 'CONFIG_NOT_FOUND',
  /** The module could not be imported (a syntax error, a missing import, a throw while it ran). */
  loadFailed: 'CONFIG_LOAD_FAILED',
  /** The module loaded, but what it exports is not a valid config: `field` names the offending part. */
  invalid: 'CONFIG_INVALID',
} as const;

export class ConfigError extends AgentOsError {}

/** What `agentos dev` watches, recursively, when the config says nothing (those of them that exist). */
export const DEFAULT_WATCH = ['agents', 'tools'] as const;

/** The file names `agentos start` looks for in the current directory, in this order. */
export const CONFIG_FILES = ['agentos.config.ts', 'agentos.config.mts', 'agentos.config.js', 'agentos.config.mjs'] as const;

/** A config as loaded and checked: where it came from and what to start. */
export interface LoadedConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Its directory: relative paths in the config are resolved against it. */
  dir: string;
  config: AgentOsConfig;
  /** `spawn`, with defaults filled in: what to start, in order. */
  starts: { agent: AgentDefinition<any, any>; options: SpawnOptions }[];
  /** Absolute directories `agentos dev` watches (those that exist). */
  watch: string[];
}

/** Overrides from the command line. */
export interface NodeOverrides {
  name?: string;
  dataDir?: string;
  /** The inspector (`--inspect`): its port on 127.0.0.1, over the config's own `inspector` settings; false turns it off. */
  inspector?: { port: number } | false;
}

const TOP_LEVEL = ['node', 'agents', 'tools', 'workflows', 'spawn', 'setup', 'watch'] as const;
const NOT_NODE_OPTIONS: Record<string, string> = {
  agents: 'belongs at the top level of the config (agents: [...])',
  tools: 'belongs at the top level of the config (tools: [...])',
  workflows: 'belongs at the top level of the config (workflows: [...])',
  control: 'is set by `agentos start`/`agentos dev`, which serve the control endpoint (use --port)',
};
const SPAWN_KEYS = ['agent', 'id', 'input', 'tenant', 'restart'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}

/** The config file to use: `--config` as given, else the first of CONFIG_FILES in `cwd`. */
export function findConfig(cwd: string, given?: string): string {
  if (given !== undefined) {
    const file = resolve(cwd, given);
    if (!existsSync(file)) throw new ConfigError(ConfigCodes.notFound, `config file ${given} does not exist`, { field: 'config' });
    return file;
  }
  for (const name of CONFIG_FILES) {
    const file = join(cwd, name);
    if (existsSync(file)) return file;
  }
  throw new ConfigError(ConfigCodes.notFound, `no ${CONFIG_FILES.join(', ')} in ${cwd}: pass --config <file>, or create a project with \`agentos init\``, { field: 'config' });
}

/**
 * Import the config module (`generation`: a fresh copy of it and of the project
 * modules it imports, for `agentos dev`) and check it. A module that fails to
 * import is CONFIG_LOAD_FAILED — or the AgentOsError it threw (a contract that
 * does not parse, a bad defineAgent) as it is, since that one names its input.
 */
export async function loadConfig(file: string, generation?: number): Promise<LoadedConfig> {
  const label = displayPath(file);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file, generation);
  } catch (err) {
    if (isAgentOsError(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigError(ConfigCodes.loadFailed, `cannot load ${label}: ${message}`, { field: 'config', cause: err });
  }
  const value = mod.default ?? mod.config;
  if (value === undefined) {
    throw new ConfigError(ConfigCodes.invalid, `${label}: exports no config (export default { node: { name }, agents, tools })`, { field: 'default' });
  }
  return checkConfig(value, file);
}

/** Check a config value; `file` is where it came from (relative paths resolve against its directory). */
export function checkConfig(value: unknown, file: string): LoadedConfig {
  const label = displayPath(file);
  const dir = dirname(file);
  const fail = (field: string, why: string, cause?: unknown): never => {
    throw new ConfigError(ConfigCodes.invalid, `${label}: ${field} ${why}`, { field, ...(cause === undefined ? {} : { cause }) });
  };
  if (!isObject(value)) fail('default', `must be an object { node, agents, tools, … } (got ${show(value)})`);
  const c = value as Record<string, unknown>;
  for (const key of Object.keys(c)) if (!(TOP_LEVEL as readonly string[]).includes(key)) fail(key, `is not a config field (known: ${TOP_LEVEL.join(', ')})`);

  if (!isObject(c.node)) fail('node', `must be an object { name, …createNode options } (got ${show(c.node)})`);
  const node = c.node as Record<string, unknown>;
  for (const key of Object.keys(NOT_NODE_OPTIONS)) if (key in node) fail(`node.${key}`, NOT_NODE_OPTIONS[key]!);

  const agents = list(c.agents, 'agents', fail);
  const names = new Map<string, AgentDefinition<any, any>>();
  agents.forEach((a, i) => {
    if (!isAgentDefinition(a)) fail(`agents[${i}]`, `must be a defineAgent(...) definition (got ${show(a)})`);
    const def = a as AgentDefinition<any, any>;
    if (names.has(def.name)) fail(`agents[${i}]`, `repeats the agent name "${def.name}"`);
    names.set(def.name, def);
    // Contracts are parsed now, so a bad one is reported before any node stops or starts.
    try {
      contractOf(def);
    } catch (err) {
      fail(`agents[${i}].contract`, `of "${def.name}" is invalid: ${(err as Error).message}`, err);
    }
  });

  const tools = list(c.tools, 'tools', fail);
  const toolNames = new Set<string>();
  tools.forEach((t, i) => {
    if (!isObject(t) || t.kind !== 'tool') fail(`tools[${i}]`, `must be a defineTool(...) definition (got ${show(t)})`);
    const name = (t as { name: string }).name;
    if (toolNames.has(name)) fail(`tools[${i}]`, `repeats the tool name "${name}"`);
    toolNames.add(name);
  });

  const workflows = list(c.workflows, 'workflows', fail).map((w, i) => {
    if (typeof w === 'string') return w.length > 0 ? resolve(dir, w) : fail(`workflows[${i}]`, 'must not be an empty path');
    if (!isObject(w)) fail(`workflows[${i}]`, `must be a workflow definition or a *.workflow.yaml path (got ${show(w)})`);
    return w as unknown as WorkflowDefinition;
  });

  if (c.setup !== undefined && typeof c.setup !== 'function') fail('setup', `must be a function (node) => … (got ${show(c.setup)})`);

  const starts = c.spawn === undefined ? [...names.values()].map((agent) => ({ agent, options: { id: agent.name } })) : spawnList(c.spawn, names, fail);

  const watch = list(c.watch ?? [...DEFAULT_WATCH], 'watch', fail).map((w, i) => {
    if (typeof w !== 'string' || w.length === 0) fail(`watch[${i}]`, `must be a directory path (got ${show(w)})`);
    return isAbsolute(w as string) ? (w as string) : resolve(dir, w as string);
  });

  // The node's own options, checked by createNode's validator now, with the field named as in the config.
  const options = { ...node, agents, tools, workflows };
  try {
    validateNodeOptions(options);
  } catch (err) {
    if (!isAgentOsError(err)) throw err;
    const field = err.field ?? 'options';
    const why = err.message.replace(/^createNode: /, '').replace(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')} `), '');
    fail(['agents', 'tools', 'workflows'].some((k) => field.startsWith(k)) ? field : `node.${field}`, why, err);
  }
  const config: AgentOsConfig = { ...(c as unknown as AgentOsConfig), agents: agents as AgentDefinition[], tools: tools as AnyToolDefinition[], workflows };
  return { file, dir, config, starts, watch: watch.filter((w) => existsSync(w)) };
}

function list(value: unknown, field: string, fail: (field: string, why: string) => never): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(field, `must be an array (got ${show(value)})`);
  return value as unknown[];
}

function spawnList(value: unknown, names: Map<string, AgentDefinition<any, any>>, fail: (field: string, why: string) => never): LoadedConfig['starts'] {
  const ids = new Set<string>();
  return list(value, 'spawn', fail).map((s, i) => {
    const field = `spawn[${i}]`;
    if (!isObject(s)) fail(field, `must be { agent, id?, input?, tenant?, restart? } (got ${show(s)})`);
    const spec = s as Record<string, unknown>;
    for (const key of Object.keys(spec)) if (!SPAWN_KEYS.includes(key)) fail(`${field}.${key}`, `is not a spawn field (known: ${SPAWN_KEYS.join(', ')})`);
    let agent: AgentDefinition<any, any> | undefined;
    if (typeof spec.agent === 'string') {
      agent = names.get(spec.agent);
      if (!agent) fail(`${field}.agent`, `names no agent of this config (agents: ${[...names.keys()].join(', ') || 'none'})`);
    } else if (isAgentDefinition(spec.agent)) {
      agent = spec.agent;
    } else {
      fail(`${field}.agent`, `must be an agent name or a defineAgent(...) definition (got ${show(spec.agent)})`);
    }
    const id = spec.id ?? agent!.name;
    if (typeof id !== 'string' || id.length === 0) fail(`${field}.id`, `must be a non-empty string (got ${show(spec.id)})`);
    if (ids.has(id as string)) fail(`${field}.id`, `repeats the actor id "${id as string}"`);
    ids.add(id as string);
    if (spec.tenant !== undefined && (typeof spec.tenant !== 'string' || spec.tenant.length === 0)) fail(`${field}.tenant`, `must be a non-empty string (got ${show(spec.tenant)})`);
    if (spec.restart !== undefined && !['permanent', 'transient', 'temporary'].includes(spec.restart as string)) {
      fail(`${field}.restart`, `must be permanent, transient or temporary (got ${show(spec.restart)})`);
    }
    const options: SpawnOptions = {
      id: id as string,
      ...(spec.input === undefined ? {} : { input: spec.input }),
      ...(spec.tenant === undefined ? {} : { tenant: spec.tenant as string }),
      ...(spec.restart === undefined ? {} : { restart: spec.restart as SpawnOptions['restart'] }),
    };
    return { agent: agent!, options };
  });
}

/** createNode's options for a loaded config: the node's own, what it hosts, and the data dir resolved against the config file. */
export function nodeOptionsOf(loaded: LoadedConfig, overrides: NodeOverrides = {}): NodeOptions {
  const { node, agents = [], tools = [], workflows = [] } = loaded.config;
  const dataDir = overrides.dataDir !== undefined ? resolve(overrides.dataDir) : resolve(loaded.dir, node.dataDir ?? '.agentos');
  const own = (node as { inspector?: unknown }).inspector;
  const inspector =
    overrides.inspector === undefined ? own : overrides.inspector === false ? false : { ...(typeof own === 'object' && own !== null ? own : {}), port: overrides.inspector.port };
  return { ...node, name: overrides.name ?? node.name, dataDir, agents, tools, workflows, ...(inspector === undefined ? {} : { inspector: inspector as NodeOptions['inspector'] }) };
}
