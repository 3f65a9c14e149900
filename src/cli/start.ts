// `agentos start`: run the node a project's config describes (see config.ts)
// until SIGINT/SIGTERM, with its local control endpoint up like `agentos
// serve`, so `ps`, `tree`, `send`, `ask`, `approvals`, … reach it. Prints
// `ready <port>` once the node is up and its actors started. `agentos dev`
// boots nodes the same way (bootNode).

import { isAbsolute, relative } from 'node:path';
import type { Command } from 'commander';
import { AgentOsError, ErrorCodes, isAgentOsError } from '../base/errors.js';
import type { ControlServer } from '../node/control.js';
import type { AgentOsNode } from '../node/node.js';
import type { LoadedConfig, NodeOverrides } from './config.js';
import type { CliIo } from './exit.js';
import { nodeName } from './options.js';
import { announceNode, portNumber, untilStop } from './serve.js';

export interface StartOpts {
  config?: string;
  dataDir?: string;
  node?: string;
  port: number;
  /** `--inspect [port]` (start: off unless given; dev: on at 4200 unless `--no-inspect`). */
  inspect?: number | boolean;
}

export const INSPECTOR_PORT = 4200;

/** The inspector override of `--inspect [port]` / `--no-inspect`; undefined leaves the config's setting. */
export function inspectOverride(inspect: number | boolean | undefined): NodeOverrides['inspector'] {
  if (inspect === undefined) return undefined;
  if (inspect === false) return false;
  return { port: inspect === true ? INSPECTOR_PORT : inspect };
}

/** The line that says where the inspector is, when it runs. */
export function inspectorLine(node: AgentOsNode): string | undefined {
  return node.inspector ? `agentos: inspector at ${node.inspector.url}` : undefined;
}

/** A path as a user wants to read it: relative when under the current directory, else absolute. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** `setup(node)` of the config threw something that is not an AgentOsError. */
export const CONFIG_SETUP_FAILED = 'CONFIG_SETUP_FAILED';

/**
 * Create the node of a loaded config, start the actors of its `spawn` list (an
 * id that already runs — a recovered persistent actor — is left alone), then
 * run its `setup`. If any of it fails, the node is stopped again and the error
 * says which step. Returns the node and the ids it started.
 */
export async function bootNode(loaded: LoadedConfig, overrides: NodeOverrides = {}): Promise<{ node: AgentOsNode; started: string[] }> {
  // Loaded on use, like the node itself: every other `agentos` command would pay for them otherwise.
  const [{ createNode }, { ConfigError, nodeOptionsOf }] = await Promise.all([import('../node/node.js'), import('./config.js')]);
  const label = displayPath(loaded.file);
  const node = await createNode(nodeOptionsOf(loaded, overrides));
  try {
    const started: string[] = [];
    for (const [i, { agent, options }] of loaded.starts.entries()) {
      if (node.lookup(options.id)) continue;
      try {
        await node.spawn(agent, options);
      } catch (err) {
        if (!isAgentOsError(err)) throw err;
        throw new AgentOsError(err.code, `${label}: spawn[${i}] ("${options.id}", agent ${agent.name}): ${err.message}`, { field: `spawn[${i}]`, cause: err, ...(err.details ? { details: err.details } : {}) });
      }
      started.push(options.id);
    }
    try {
      await loaded.config.setup?.(node);
    } catch (err) {
      if (isAgentOsError(err)) throw err;
      throw new ConfigError(CONFIG_SETUP_FAILED, `${label}: setup(node) failed: ${err instanceof Error ? err.message : String(err)}`, { field: 'setup', cause: err });
    }
    return { node, started };
  } catch (err) {
    await node.stop().catch(() => undefined);
    throw err;
  }
}

/** The command lines that reach this node, as a hint on stderr. */
export function reachHint(node: AgentOsNode): string {
  const dataDir = displayPath(node.dataDir);
  const target = `--node ${node.name}${dataDir === '.agentos' ? '' : ` --data-dir ${dataDir}`}`;
  return `agentos: try \`agentos ps ${target}\` or \`agentos ask <actor> '{"type":…}' ${target}\``;
}

export function startedLine(node: AgentOsNode, started: readonly string[]): string {
  const running = node.tree().children?.length ?? 0;
  return `agentos: node "${node.name}" is up with ${running} actor${running === 1 ? '' : 's'}${started.length > 0 ? ` (started ${started.join(', ')})` : ''}`;
}

async function runStart(opts: StartOpts, io: CliIo): Promise<void> {
  const { findConfig, loadConfig } = await import('./config.js');
  const loaded = await loadConfig(findConfig(process.cwd(), opts.config));
  const inspector = inspectOverride(opts.inspect);
  const overrides: NodeOverrides = { ...(opts.node === undefined ? {} : { name: opts.node }), ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }), ...(inspector === undefined ? {} : { inspector }) };
  const { node, started } = await bootNode(loaded, overrides);
  let control: ControlServer | undefined;
  let ended: 'signal' | { reason: string };
  try {
    io.err(startedLine(node, started));
    const seeIt = inspectorLine(node);
    if (seeIt) io.err(seeIt);
    control = await announceNode(node, io, opts.port);
    io.err(reachHint(node));
    ended = await untilStop(node);
  } finally {
    await control?.close();
    await node.stop();
  }
  if (ended !== 'signal') throw new AgentOsError(ErrorCodes.nodeStopped, `node "${node.name}" stopped by itself (${ended.reason})`);
  io.err(`agentos: node "${node.name}" stopped`);
}

/** The options `start` and `dev` share. */
export function withStartOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'the project config (default: agentos.config.ts, .mts, .js or .mjs in the current directory)')
    .option('--data-dir <dir>', "where the node keeps its data (default: the config's node.dataDir, else .agentos next to the config)")
    .option('--node <name>', "run the node under this name instead of the config's node.name", nodeName)
    .option('--port <port>', 'control endpoint port on 127.0.0.1 (0: any free port)', portNumber, 0);
}

export const CONFIG_HELP = `
The config module's default export (or its export \`config\`):

  export default {
    node: { name: 'hello' },              // + any createNode option (modelGateway, capacity, tenants, …)
    agents: [hello],                      // agent definitions the node hosts
    tools: [greetingCompose],             // tools they may call
    // workflows: ['flows/intake.workflow.yaml'],
    // spawn: [{ agent: 'hello', id: 'hello' }],   // default: one actor per agent, named after it
    // async setup(node) { … },                    // anything else, once the node is up
  };

Prints \`ready <port>\` on stdout once the node is up; the port and a bearer token
are in <data-dir>/<node>/control.json (mode 0600) for ps, tree, send, ask, approvals.
Exit status: 0 after SIGINT/SIGTERM, 1 when the config is invalid (CONFIG_INVALID
naming the field, CONFIG_LOAD_FAILED, CONFIG_NOT_FOUND) or the node fails, 2 on a usage error.`;

export function registerStartCommand(program: Command, io: CliIo): void {
  withStartOptions(program.command('start'))
    .option('--inspect [port]', `serve the inspector web UI on 127.0.0.1 (default port ${INSPECTOR_PORT})`, portNumber)
    .description("run the project's node from agentos.config.ts, with its control endpoint, until SIGINT/SIGTERM")
    .addHelpText('after', `${CONFIG_HELP}\n\nExamples:\n  $ agentos start\n  $ agentos start --config examples/topologies/hybrid.config.ts --port 7070\n  $ agentos start --node edge-2 --data-dir /var/lib/agentos`)
    .action((opts: StartOpts) => runStart(opts, io));
}
