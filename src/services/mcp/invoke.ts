// One call of a mounted MCP tool: `tools/call` over the SDK client, and the
// answer turned into a value (`{ content, structuredContent? }`) or a typed error:
// MCP_TOOL_ERROR for `isError`, MCP_UNAVAILABLE / MCP_TIMEOUT / MCP_PROTOCOL_ERROR
// for what the SDK throws, CALL_ABORTED when the caller gave up. The tool registry
// checked the arguments before and checks the result after, against the approved schemas.

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ContentBlock } from '@modelcontextprotocol/sdk/types.js';
import { PolicyCodes } from '../../kernel/policy/index.js';
import { fromSdkError, McpBridgeError, McpCodes } from './errors.js';

/** What a mounted tool returns to its caller. */
export interface McpToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
}

/** Which counter a failed call moves. */
export type CallFailure = 'toolErrors' | 'failures';

/**
 * Call the tool. `signal` (the caller stopped or gave up) cancels the request: the
 * SDK sends notifications/cancelled to the server, and the call fails CALL_ABORTED.
 */
export async function invokeTool(
  client: Client,
  e: { remote: string; local: string },
  args: Record<string, unknown>,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
  count: (what: CallFailure) => void,
): Promise<McpToolResult> {
  let result: Awaited<ReturnType<Client['callTool']>>;
  try {
    result = await client.callTool({ name: e.remote, arguments: args }, undefined, { timeout: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    count('failures');
    if (options.signal?.aborted) throw new McpBridgeError(PolicyCodes.callAborted, `MCP tool "${e.local}": the caller withdrew the call; the server was told to cancel it`, { field: 'signal', cause: err });
    throw fromSdkError(err, `MCP tool "${e.local}"`);
  }
  const content = (Array.isArray(result.content) ? result.content : []) as ContentBlock[];
  if (result.isError === true) {
    count('toolErrors');
    throw new McpBridgeError(McpCodes.toolError, `MCP tool "${e.local}" failed: ${textOf(content) || '(no message)'}`, { field: 'tool', details: { tool: e.local, content } });
  }
  const structured = result.structuredContent as Record<string, unknown> | undefined;
  return { content, ...(structured === undefined ? {} : { structuredContent: structured }) };
}

/** The text blocks of a result, joined and cut to a readable length. */
export function textOf(content: readonly unknown[]): string {
  const text = content
    .filter((c): c is { type: 'text'; text: string } => (c as { type?: unknown }).type === 'text' && typeof (c as { text?: unknown }).text === 'string')
    .map((c) => c.text)
    .join(' ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
