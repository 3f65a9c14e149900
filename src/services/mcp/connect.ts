// Connecting to an external MCP server with the SDK's Client, over stdio (a
// child process) or Streamable HTTP, and listing its tools. The SDK's own
// output-schema checks are switched off: the mount checks results against the
// schemas it pinned, not against whatever the server listed last.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { fromSdkError, McpBridgeError, McpCodes } from './errors.js';

/** How to reach the server: a command to run (stdio), or a Streamable HTTP endpoint. */
export type McpTransportSpec =
  | { stdio: { command: string; args?: string[]; env?: Record<string, string>; cwd?: string; stderr?: 'inherit' | 'ignore' | 'pipe' } }
  | { http: { url: string | URL; headers?: Record<string, string> } };

export interface ConnectOptions {
  /** How long connecting (initialize) may take. */
  timeoutMs: number;
  onListChanged: () => void;
  onClosed: () => void;
  /** A transport error (an HTTP stream cut, a bad message): the mount checks whether the server is still there. */
  onError: (error: Error) => void;
}

/** The most pages of tools/list a mount follows (a server paging forever is refused). */
const MAX_PAGES = 100;

const NO_SDK_OUTPUT_CHECK: jsonSchemaValidator = {
  getValidator: () => (input: unknown) => ({ valid: true, data: input as never, errorMessage: undefined }),
};

/** Checks the shape of a transport spec; throws MCP_INVALID_OPTIONS naming the field. */
export function checkTransportSpec(spec: unknown): McpTransportSpec {
  const bad = (field: string, why: string): never => {
    throw new McpBridgeError(McpCodes.invalidOptions, `mountMcpServer: transport.${field} ${why}`, { field: `transport.${field}` });
  };
  const s = spec as { stdio?: { command?: unknown; args?: unknown }; http?: { url?: unknown } } | null;
  if (typeof s !== 'object' || s === null || (s.stdio === undefined) === (s.http === undefined)) {
    return bad('', 'must be { stdio: { command, args } } or { http: { url } }');
  }
  if (s.stdio !== undefined) {
    if (typeof s.stdio.command !== 'string' || s.stdio.command.length === 0) bad('stdio.command', 'must be a non-empty string');
    if (s.stdio.args !== undefined && !(Array.isArray(s.stdio.args) && s.stdio.args.every((a) => typeof a === 'string'))) bad('stdio.args', 'must be an array of strings');
  } else {
    let url: URL | undefined;
    try {
      url = new URL(String(s.http!.url));
    } catch {
      bad('http.url', `must be an http(s) URL (got ${JSON.stringify(s.http!.url)})`);
    }
    if (url!.protocol !== 'http:' && url!.protocol !== 'https:') bad('http.url', `must be an http(s) URL (got ${url!.protocol})`);
  }
  return spec as McpTransportSpec;
}

/** Where the server is, for audit records and events: the command, or the URL without query or credentials. */
export function describeServer(spec: McpTransportSpec): string {
  if ('stdio' in spec) return [spec.stdio.command, ...(spec.stdio.args ?? [])].join(' ').slice(0, 200);
  const url = new URL(String(spec.http.url));
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export async function connectMcp(spec: McpTransportSpec, options: ConnectOptions): Promise<Client> {
  const transport: Transport =
    'stdio' in spec
      ? new StdioClientTransport({
          command: spec.stdio.command,
          ...(spec.stdio.args ? { args: spec.stdio.args } : {}),
          ...(spec.stdio.env ? { env: spec.stdio.env } : {}),
          ...(spec.stdio.cwd ? { cwd: spec.stdio.cwd } : {}),
          stderr: spec.stdio.stderr ?? 'inherit',
        })
      : new StreamableHTTPClientTransport(new URL(String(spec.http.url)), spec.http.headers ? { requestInit: { headers: spec.http.headers } } : undefined);
  const client = new Client({ name: 'agentos', version: '0.1.0' }, { jsonSchemaValidator: NO_SDK_OUTPUT_CHECK });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => options.onListChanged());
  try {
    await client.connect(transport, { timeout: options.timeoutMs });
  } catch (err) {
    await client.close().catch(() => {});
    throw fromSdkError(err, `connecting to MCP server ${describeServer(spec)}`);
  }
  // Set after connect: a failed connect is reported by the throw above, not as a close.
  client.onclose = options.onClosed;
  client.onerror = options.onError;
  if (!client.getServerCapabilities()?.tools) {
    await client.close().catch(() => {});
    throw new McpBridgeError(McpCodes.protocolError, `MCP server ${describeServer(spec)} offers no tools (its capabilities have no "tools")`, { field: 'transport' });
  }
  return client;
}

/** Every tool the server lists, following `nextCursor`. */
export async function listAllTools(client: Client, what: string, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let result: Awaited<ReturnType<Client['listTools']>>;
    try {
      result = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: timeoutMs });
    } catch (err) {
      throw fromSdkError(err, `listing the tools of ${what}`);
    }
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) return tools;
  }
  throw new McpBridgeError(McpCodes.protocolError, `listing the tools of ${what}: more than ${MAX_PAGES} pages`, { field: 'server' });
}
