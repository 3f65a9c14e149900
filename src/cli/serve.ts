// `agentos serve`: run a node until SIGINT/SIGTERM, with its local control
// endpoint up, so `agentos ps`, `tree`, `send`, `ask`, `approvals`, `approve`,
// `reject` and `audit verify|head` can talk to it. What runs on it comes from a module (--agents): its exported
// agent definitions and tools are given to the node (so persistent actors
// recover), its `nodeOptions` export adds node options, and its `setup(node)`
// (or default export function) spawns the actors. Prints `ready <port>` once
// everything is up.

import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentDefinition } from '../actors/define.js';
import { AgentOsError, ErrorCodes } from '../base/errors.js';
import { describeExit } from '../base/exit.js';
import type { ControlServer } from '../node/control.js';
import type { AgentOsNode, NodeOptions } from '../node/node.js';
import type { AnyToolDefinition } from '../services/tools/tool.js';
import { DEFAULT_DATA_DIR, DEFAULT_NODE, nodeName } from './audit.js';
import type { CliIo } from './exit.js';
import { loadAgentsModule } from './replay.js';

interface ServeOpts {
  dataDir: string;
  node: string;
  agents?: string;
  port: number;
  listen?: string;
  seed?: string[];
}

/** What a module given to `agentos serve --agents` provides. */
export interface ServeModule {
  agents: AgentDefinition[];
  tools: AnyToolDefinition[];
  /** Extra createNode options (`hrt`, `capacity`, `tenants`, …); name and dataDir come from the command line. */
  nodeOptions: Partial<Omit<NodeOptions, 'name' | 'dataDir'>>;
  /** Spawns what should run; called once the node is up (after recovery: skip actors `node.lookup` finds). */
  setup?: (node: AgentOsNode) => unknown;
}

const USAGE = { exitCode: 2, code: 'agentos.usage' };

/** Parses `--port`: a port number, 0 for any free port. */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('expected a port number (0 for any free port).');
  return n;
}

/** The demo's actors: the counter and auditor under `app`, and the persistent bookkeeper `books` with its tool. */
export async function demoServeModule(): Promise<ServeModule> {
  const [{ supervisor }, { auditor, counter }, { bookkeeper, ledgerBook }] = await Promise.all([import('../node/supervisor.js'), import('./demo.js'), import('./demo-agents.js')]);
  return {
    agents: [bookkeeper, counter, auditor],
    tools: [ledgerBook() as AnyToolDefinition],
    nodeOptions: {},
    setup: async (node) => {
      await node.spawn(
        supervisor({ id: 'app', strategy: 'one_for_one', intensity: 3, periodMs: 5000, children: [{ id: 'audit', start: auditor }, { id: 'counter', start: counter }] }),
        { id: 'app' },
      );
      if (!node.lookup('books')) await node.spawn(bookkeeper, { id: 'books' });
    },
  };
}

export async function loadServeModule(path: string): Promise<ServeModule> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const { agents, tools } = await loadAgentsModule(path);
  const setup = typeof mod.setup === 'function' ? mod.setup : typeof mod.default === 'function' ? mod.default : undefined;
  const options = mod.nodeOptions;
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) throw new Error('its nodeOptions export must be an object of createNode options');
  return { agents, tools: tools as AnyToolDefinition[], nodeOptions: (options ?? {}) as ServeModule['nodeOptions'], ...(setup ? { setup: setup as ServeModule['setup'] } : {}) };
}

/** Resolves on the first SIGINT or SIGTERM after the call; `dispose()` removes the listeners. */
export function stopSignal(): { received: Promise<void>; dispose(): void } {
  let onSignal!: () => void;
  const received = new Promise<void>((resolve) => (onSignal = resolve));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    received,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Until SIGINT/SIGTERM ('signal') or the node stops by itself (its reason). */
export async function untilStop(node: AgentOsNode): Promise<'signal' | { reason: string }> {
  const signal = stopSignal();
  try {
    return await Promise.race([signal.received.then(() => 'signal' as const), node.stopped.then((reason) => ({ reason: describeExit(reason) }))]);
  } finally {
    signal.dispose();
  }
}

/**
 * Serve the node's local control endpoint (so `ps`, `tree`, `send`, … reach it) and say so:
 * `ready <port>` on stdout, where it is and how to stop it on stderr.
 */
export async function announceNode(node: AgentOsNode, io: CliIo, port: number): Promise<ControlServer> {
  const { startControlServer } = await import('../node/control.js');
  const control = await startControlServer(node, { port });
  io.out(`ready ${control.port}`);
  if (node.cluster) io.err(`agentos: node "${node.name}" is in the cluster at ${node.cluster.url}`);
  io.err(`agentos: node "${node.name}" (data dir ${node.dataDir}) is serving its control endpoint on 127.0.0.1:${control.port}; token in ${control.file}; stop with Ctrl-C`);
  return control;
}

export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run a node with its local control endpoint (for ps, tree, send, ask, approvals, …) until SIGINT/SIGTERM')
    .option('--data-dir <dir>', 'where the node keeps its data', DEFAULT_DATA_DIR)
    .option('--node <name>', 'the node to run', nodeName, DEFAULT_NODE)
    .option('--agents <module>', 'JS/TS module: agent definitions and tools it exports go to the node, `nodeOptions` adds createNode options, `setup(node)` spawns actors; default: the demo')
    .option('--port <port>', 'control endpoint port on 127.0.0.1 (0: any free port)', portNumber, 0)
    .option('--listen <host:port>', 'join a cluster: accept cluster links here (the secret comes from AGENTOS_CLUSTER_SECRET)')
    .option('--seed <url>', 'a member to join through (ws://host:port); repeat for more', (v: string, all: string[] = []) => [...all, v])
    .addHelpText(
      'after',
      `
Prints \`ready <port>\` on stdout once the node and its control endpoint are up.
The port and a fresh bearer token are written to <data-dir>/<node>/control.json
(mode 0600, removed on exit); the commands that talk to a running node
(ps, tree, send, ask, approvals, approve, reject, audit) read it.
A module for --agents looks like:

  export const guard = defineAgent({ ... });
  export const nodeOptions = { hrt: { realtime: false } };
  export async function setup(node) { await node.spawn(guard, { id: 'guard' }); }

With --listen the node joins a cluster (AGENTOS_CLUSTER_SECRET, at least 16 bytes, shared by
every node): the first node is started without --seed, the others with --seed pointing at it.

Examples:
  $ agentos serve
  $ agentos serve --agents ./dist/agents.js --node edge-1 --data-dir /var/lib/agentos
  $ AGENTOS_CLUSTER_SECRET=… agentos serve --node n2 --listen 0.0.0.0:7402 --seed ws://10.0.0.11:7401
  $ agentos serve --agents ./agents.ts --port 7070 &  agentos ps`,
    )
    .action(async (opts: ServeOpts, cmd: Command) => {
      let mod: ServeModule;
      try {
        mod = opts.agents === undefined ? await demoServeModule() : await loadServeModule(opts.agents);
      } catch (err) {
        return cmd.error(`error: cannot load --agents ${opts.agents}: ${(err as Error).message}`, USAGE);
      }
      // Loaded here, not at the top: every `agentos` command would pay for the whole node otherwise.
      const { createNode } = await import('../node/node.js');
      let cluster: NodeOptions['cluster'] | undefined;
      if (opts.listen !== undefined || opts.seed !== undefined) {
        const secret = process.env.AGENTOS_CLUSTER_SECRET;
        if (!secret) return cmd.error('error: --listen/--seed need the cluster secret in AGENTOS_CLUSTER_SECRET', USAGE);
        const m = /^(.*):(\d+)$/.exec(opts.listen ?? '127.0.0.1:0');
        if (!m) return cmd.error(`error: --listen takes host:port (got ${JSON.stringify(opts.listen)})`, USAGE);
        cluster = { secret, listen: { host: m[1]!, port: Number(m[2]) }, seeds: opts.seed ?? [] };
      }
      const node = await createNode({
        ...mod.nodeOptions,
        ...(cluster ? { cluster } : {}),
        name: opts.node,
        dataDir: opts.dataDir,
        agents: [...(mod.nodeOptions.agents ?? []), ...mod.agents],
        tools: [...(mod.nodeOptions.tools ?? []), ...mod.tools],
      });
      let control: ControlServer | undefined;
      let ended: 'signal' | { reason: string };
      try {
        await mod.setup?.(node);
        control = await announceNode(node, io, opts.port);
        ended = await untilStop(node);
      } finally {
        await control?.close();
        await node.stop();
      }
      if (ended !== 'signal') throw new AgentOsError(ErrorCodes.nodeStopped, `node "${opts.node}" stopped by itself (${ended.reason})`);
      io.err(`agentos: node "${opts.node}" stopped`);
    });
}
