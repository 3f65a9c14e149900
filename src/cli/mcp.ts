// `agentos mcp serve`: start a node from --data-dir/--node with a module's tools
// (default: the demo's), and offer them to MCP clients over stdio (default) or
// Streamable HTTP. Clients act as one actor (--as): a running one, or one this
// command starts with the capabilities of --allow or a --contract file, so its
// contract bounds what they may list and call. Over stdio, stdout carries MCP
// only; diagnostics go to stderr. Runs until the client leaves (stdio) or a signal.

import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { createMachine } from 'xstate';
import { z } from 'zod';
import { defineAgent, type AgentDefinition } from '../actors/define.js';
import type { AgentOsNode } from '../node/node.js';
import type { McpServing, ServeMcpOptions } from '../services/mcp/index.js';
import type { ToolDefinition } from '../services/tools/tool.js';
import { DEFAULT_DATA_DIR, DEFAULT_NODE, nodeName } from './audit.js';
import type { CliIo } from './exit.js';
import { loadAgentsModule } from './replay.js';

interface ServeOpts {
  dataDir: string;
  node: string;
  tools?: string;
  as: string;
  allow?: string[];
  consentFor?: string[];
  contract?: string;
  http?: number | true;
  host: string;
  path: string;
  token?: string;
}

const USAGE = { exitCode: 2, code: 'agentos.usage' };


function capabilityList(value: string): string[] {
  const caps = value.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  if (caps.length === 0) throw new InvalidArgumentError('expected capabilities separated by commas, like "notes.*,web.fetch".');
  return caps;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('expected a port number (0 for any free port).');
  return n;
}

/** The idle actor MCP clients act as when --as names no running actor: all it has is its contract. */
function principalAgent(contract: Record<string, unknown> | string): AgentDefinition {
  return defineAgent({ name: 'mcp-principal', messages: z.object({ type: z.literal('noop') }), machine: createMachine({ id: 'mcp-principal' }), contract });
}

export function registerMcpCommands(program: Command, io: CliIo): void {
  const mcp = program.command('mcp').description('Model Context Protocol: offer this node’s tools to MCP clients');
  mcp
    .command('serve')
    .description("serve a node's tools to MCP clients (stdio by default), acting as one actor whose contract bounds them")
    .option('--data-dir <dir>', 'where the node keeps its data', DEFAULT_DATA_DIR)
    .option('--node <name>', 'the node to start', nodeName, DEFAULT_NODE)
    .option('--tools <module>', "JS/TS module whose exports include defineTool results (agents exported are registered too); default: the demo's ledger.book")
    .option('--as <actor>', 'the actor MCP clients act as: a running actor, or one started here with --allow / --contract', 'mcp-client')
    .option('--allow <capabilities>', 'capabilities of the actor started for --as, comma-separated (e.g. "notes.*")', capabilityList)
    .option('--consent-for <capabilities>', 'of those, the ones that wait for a human approval', capabilityList)
    .option('--contract <file>', 'Agent Contract (YAML) of the actor started for --as, instead of --allow')
    .addOption(new Option('--http [port]', 'serve Streamable HTTP instead of stdio (default port 0: any free port)').argParser(portNumber))
    .option('--host <host>', 'HTTP: the address to bind', '127.0.0.1')
    .option('--path <path>', 'HTTP: the endpoint path', '/mcp')
    .addOption(new Option('--token <token>', 'HTTP: require "Authorization: Bearer <token>"').env('AGENTOS_MCP_TOKEN'))
    .addHelpText(
      'after',
      `
Every call goes through the kernel as the --as actor: its contract's capabilities
decide what the client sees and may call, consent_for calls wait for an approval,
and each decision is in the node's audit log. Refusals are MCP error results.

Examples:
  $ agentos mcp serve --tools ./tools.js --as assistant --allow "notes.*"
  $ agentos mcp serve --tools ./tools.js --contract ./assistant.agent.yaml --http 8808
  $ agentos mcp serve --data-dir /var/lib/agentos --node edge-1 --as books   # a persistent actor`,
    )
    .action(async (opts: ServeOpts, cmd: Command) => {
      let tools: ToolDefinition[];
      let agents: AgentDefinition[];
      // Loaded here, not at the top: every `agentos` command would pay for the whole node otherwise.
      const [{ createNode }, { serveMcp }] = await Promise.all([import('../node/node.js'), import('../services/mcp/index.js')]);
      if (opts.tools === undefined) {
        const { bookkeeper, ledgerBook } = await import('./demo-agents.js');
        tools = [ledgerBook()];
        agents = [bookkeeper];
      } else {
        try {
          ({ tools, agents } = await loadAgentsModule(opts.tools));
        } catch (err) {
          return cmd.error(`error: cannot load --tools ${opts.tools}: ${(err as Error).message}`, USAGE);
        }
        if (tools.length === 0) return cmd.error(`error: --tools ${opts.tools} exports no tools (defineTool results)`, USAGE);
      }
      if (opts.contract !== undefined && (opts.allow !== undefined || opts.consentFor !== undefined)) {
        return cmd.error('error: give either --contract or --allow/--consent-for, not both', USAGE);
      }
      const node = await createNode({ name: opts.node, dataDir: opts.dataDir, tools, agents });
      try {
        const started = await ensurePrincipal(node, opts, cmd);
        const transport: ServeMcpOptions['transport'] =
          opts.http === undefined
            ? { stdio: {} }
            : { http: { host: opts.host, port: opts.http === true ? 0 : opts.http, path: opts.path, ...(opts.token === undefined ? {} : { token: opts.token }) } };
        const serving = await serveMcp(node, { as: opts.as, transport });
        const who = `as "${opts.as}"${started ? ' (started for this session)' : ''} on node "${opts.node}"`;
        if (serving.url !== undefined) io.out(`serving MCP at ${serving.url} ${who}`);
        else io.err(`agentos: serving MCP over stdio ${who}`);
        await untilDone(serving);
      } finally {
        await node.stop();
      }
      io.err(`agentos: MCP serving ended; node "${opts.node}" stopped`);
    });
}

/** The --as actor: running already, or started now from --allow / --contract. Returns whether it was started. */
async function ensurePrincipal(node: AgentOsNode, opts: ServeOpts, cmd: Command): Promise<boolean> {
  const given = opts.allow !== undefined || opts.consentFor !== undefined || opts.contract !== undefined;
  if (node.lookup(opts.as)) {
    if (given) cmd.error(`error: actor "${opts.as}" is already running on node "${opts.node}"; --allow, --consent-for and --contract only describe an actor this command starts`, USAGE);
    return false;
  }
  if (!given) cmd.error(`error: no actor "${opts.as}" on node "${opts.node}": name a running actor with --as, or give --allow or --contract to start one`, USAGE);
  const contract =
    opts.contract !== undefined
      ? resolve(opts.contract)
      : { capabilities: [...new Set([...(opts.allow ?? []), ...(opts.consentFor ?? [])])], security: { consent_for: opts.consentFor ?? [] } };
  await node.spawn(principalAgent(contract), { id: opts.as });
  return true;
}

/** Until the stdio client leaves, or SIGINT/SIGTERM ends an HTTP (or stdio) session. */
async function untilDone(serving: McpServing): Promise<void> {
  const stop = (): void => void serving.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await serving.closed;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
