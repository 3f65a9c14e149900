// serveMcp: this node's tools, offered to any MCP client over stdio or
// Streamable HTTP. The client acts as one admitted actor (the principal): it
// sees only the tools that actor's contract lets it call, and every call goes
// through `kernel.syscall(principal, …)`, so capabilities, consent, budgets and
// audit apply exactly as for the actor itself. Refusals come back as MCP error
// results (`isError: true`, text `CODE: message`, `_meta["agentos/error"]`).

import type { Readable, Writable } from 'node:stream';
// The low-level Server, not McpServer: tools here are listed per principal from
// the kernel's table with JSON Schemas, which is the advanced use the SDK keeps it for.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { AgentOsError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import { allows } from '../../kernel/policy/index.js';
import { kernelOf, mountOf, watchMounts, type ToolDescriptor } from './catalog.js';
import { describeNative, open, type ToolSource } from './describe.js';
import { McpBridgeError, McpCodes } from './errors.js';
import { startHttpHost, type HttpHost, type HttpServeOptions } from './serve-http.js';

export type { HttpServeOptions } from './serve-http.js';
export type { ToolSource } from './describe.js';

export interface ServeMcpOptions {
  /** The admitted actor MCP clients act as: its contract bounds what they may list and call. */
  as: string;
  transport: { stdio: { stdin?: Readable; stdout?: Writable } } | { http: HttpServeOptions };
  /** Server name and version in the MCP handshake (default `agentos`, `0.1.0`). */
  name?: string;
  version?: string;
}

export interface McpServing {
  /** The endpoint, for Streamable HTTP. */
  readonly url: string | undefined;
  /** Connected sessions (stdio: 1 until the client goes). */
  sessions(): number;
  /** Tell connected clients to list the tools again (done by itself for registry and MCP-mount changes). */
  toolsChanged(): void;
  /** Resolves when serving has ended (stdio: the client closed its end; HTTP: `close()`). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** A node (its `kernel` and `tools` registry), or a bare kernel. */
export type ServeHost = Kernel | { kernel: Kernel; tools?: ToolSource };

/** Tell sessions about changes to the registry (when it reports them) and to MCP mounts; returns the unsubscribe. */
function watch(kernel: Kernel, registry: ToolSource | undefined, changed: () => void): () => void {
  const stops = [watchMounts(kernel, changed)];
  const onChange = (registry as { onChange?: (listener: () => void) => () => void } | undefined)?.onChange;
  if (typeof onChange === 'function') stops.push(onChange.call(registry, changed));
  return () => stops.forEach((stop) => stop());
}

const ERROR_META = 'agentos/error';

export async function serveMcp(target: ServeHost, options: ServeMcpOptions): Promise<McpServing> {
  const kernel = kernelOf(target);
  const registry = (target as { tools?: ToolSource }).tools;
  const { as } = options;
  if (typeof as !== 'string' || kernel.governance.admittedActor(as) === undefined) {
    throw new McpBridgeError(McpCodes.unknownPrincipal, `serveMcp: "as" must name an actor admitted on this node (got ${JSON.stringify(as)}); spawn the agent MCP clients act as first`, { field: 'as' });
  }
  const t = options.transport as { stdio?: { stdin?: Readable; stdout?: Writable }; http?: HttpServeOptions };
  if (typeof t !== 'object' || t === null || (t.stdio === undefined) === (t.http === undefined)) {
    throw new McpBridgeError(McpCodes.invalidOptions, 'serveMcp: transport must be { stdio: {} } or { http: { host?, port?, path? } }', { field: 'transport' });
  }
  const info = { name: options.name ?? 'agentos', version: options.version ?? '0.1.0' };
  const offered = (): Tool[] => listFor(kernel, registry, as);
  const make = (session: () => string | undefined): Server => sessionServer(kernel, registry, as, info, session, offered);

  if (t.http) {
    const host: HttpHost = await startHttpHost(make, t.http);
    let ended!: () => void;
    const closed = new Promise<void>((resolve) => (ended = resolve));
    let closing: Promise<void> | undefined;
    const toolsChanged = (): void => {
      for (const s of host.servers()) s.sendToolListChanged().catch(() => {});
    };
    const unwatch = watch(kernel, registry, toolsChanged);
    return {
      url: host.url,
      sessions: () => host.sessions(),
      toolsChanged,
      closed,
      close: () => {
        unwatch();
        return (closing ??= host.close().then(ended));
      },
    };
  }
  const stdin = t.stdio!.stdin ?? process.stdin;
  const stdout = t.stdio!.stdout ?? process.stdout;
  const server = make(() => undefined);
  const transport = new StdioServerTransport(stdin, stdout);
  let open = true;
  const toolsChanged = (): void => {
    if (open) server.sendToolListChanged().catch(() => {});
  };
  const unwatch = watch(kernel, registry, toolsChanged);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => {
      open = false;
      unwatch();
      stdin.off('end', onEnd);
      resolve();
    };
  });
  const onEnd = (): void => void server.close();
  stdin.once('end', onEnd);
  await server.connect(transport);
  return {
    url: undefined,
    sessions: () => (open ? 1 : 0),
    toolsChanged,
    closed,
    close: async () => {
      if (open) await server.close();
      await closed;
    },
  };
}

function sessionServer(kernel: Kernel, registry: ToolSource | undefined, as: string, info: { name: string; version: string }, session: () => string | undefined, offered: () => Tool[]): Server {
  const server = new Server(info, { capabilities: { tools: { listChanged: true } } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: offered() }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const client = server.getClientVersion();
    const sid = session();
    const reason = `MCP client "${client?.name ?? 'unknown'}"${sid === undefined ? '' : ` (session ${sid.slice(0, 8)})`} acting as "${as}"`;
    try {
      const value = await kernel.syscall(as, { kind: 'tool', name, args: request.params.arguments ?? {}, reason }, extra.signal);
      return resultOf(value, describe(kernel, registry, name));
    } catch (err) {
      return errorResult(err);
    }
  });
  return server;
}

/** The tools the principal may call, described for MCP (mounted tools with their approved definitions). */
function listFor(kernel: Kernel, registry: ToolSource | undefined, as: string): Tool[] {
  const caps = kernel.governance.policy.effectiveCapabilities(as);
  const tools: Tool[] = [];
  for (const { kind, name } of kernel.syscalls.list()) {
    if (kind !== 'tool' || !allows(caps, name)) continue;
    const d = describe(kernel, registry, name);
    if (d) tools.push(toolOf(d));
  }
  return tools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function describe(kernel: Kernel, registry: ToolSource | undefined, name: string): ToolDescriptor | undefined {
  const mount = mountOf(kernel, name);
  if (mount) return mount.describe(name); // suspended and pending tools are not offered
  const listed = registry?.list().find((t) => t.name === name);
  if (listed) {
    // A tool the registry suspended is refused when called; it is not offered either.
    const status = (registry as { status?: (n: string) => { suspended?: string } }).status;
    if (typeof status === 'function' && status.call(registry, name)?.suspended !== undefined) return undefined;
    return describeNative(name, registry!.get(name), listed.description);
  }
  return open(name);
}

function toolOf(d: ToolDescriptor): Tool {
  return {
    name: d.name,
    description: d.description,
    inputSchema: d.inputSchema as Tool['inputSchema'],
    ...(d.title === undefined ? {} : { title: d.title }),
    ...(d.outputSchema === undefined ? {} : { outputSchema: d.outputSchema as Tool['outputSchema'] }),
    ...(d.annotations === undefined ? {} : { annotations: d.annotations as Tool['annotations'] }),
  };
}

function resultOf(value: unknown, d: ToolDescriptor | undefined): CallToolResult {
  if (d?.mcpResult) return value as CallToolResult;
  const structured = isPlainObject(value) ? value : undefined;
  return {
    content: [{ type: 'text', text: typeof value === 'string' ? value : jsonText(value) }],
    ...(structured ? { structuredContent: structured } : {}),
  };
}

function errorResult(err: unknown): CallToolResult {
  const e = err instanceof AgentOsError ? err : undefined;
  const code = e?.code ?? 'TOOL_FAILED';
  const message = err instanceof Error ? err.message : String(err);
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    _meta: { [ERROR_META]: { code, ...(e?.field === undefined ? {} : { field: e.field }) } },
  };
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
