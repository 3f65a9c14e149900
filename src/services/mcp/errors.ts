// Typed errors of the MCP bridge, and the mapping from what the SDK throws
// (JSON-RPC errors, a closed transport, a timeout) to them, so an agent calling
// a mounted tool sees the same `code`/`field` shape as for any native tool.

import { ErrorCode, McpError as SdkMcpError } from '@modelcontextprotocol/sdk/types.js';
import { AgentOsError } from '../../base/errors.js';

/** Stable codes of the MCP bridge. */
export const McpCodes = {
  /** The server ran the tool and reported failure (`isError: true`). */
  toolError: 'MCP_TOOL_ERROR',
  /** The server cannot be reached: not connected, its process died, the connection closed. */
  unavailable: 'MCP_UNAVAILABLE',
  /** The server did not answer within the call timeout. */
  timeout: 'MCP_TIMEOUT',
  /** The server answered with a JSON-RPC error, or an answer that breaks the protocol. */
  protocolError: 'MCP_PROTOCOL_ERROR',
  /** The tool changed (description or schema) since it was approved, or is new: calls are refused until `approve`. */
  toolSuspended: 'MCP_TOOL_SUSPENDED',
  /** A remote tool name that cannot become a registry name (or two that map to one). */
  invalidToolName: 'MCP_INVALID_TOOL_NAME',
  /** A tool's input or output schema is not a JSON Schema this node can compile. */
  invalidSchema: 'MCP_INVALID_SCHEMA',
  /** A registry name (or the prefix) is already taken on this node. */
  nameConflict: 'MCP_NAME_CONFLICT',
  /** Options of mountMcpServer / serveMcp are malformed. */
  invalidOptions: 'MCP_INVALID_OPTIONS',
  /** `approve` named a tool that has nothing to approve, or the definition moved on since it was reviewed. */
  approvalMismatch: 'MCP_APPROVAL_MISMATCH',
  /** serveMcp was asked to act as an actor that is not admitted on this node. */
  unknownPrincipal: 'MCP_UNKNOWN_PRINCIPAL',
} as const;

export type McpCode = (typeof McpCodes)[keyof typeof McpCodes];

/** Any failure of the MCP bridge; `code` is one of McpCodes (or INVALID_TOOL_ARGS / INVALID_TOOL_OUTPUT as for native tools). */
export class McpBridgeError extends AgentOsError {}

/** What a call (or a listing) that threw inside the SDK means for the caller of tool `tool`. */
export function fromSdkError(err: unknown, what: string): AgentOsError {
  if (err instanceof AgentOsError) return err;
  if (err instanceof SdkMcpError) {
    if (err.code === ErrorCode.ConnectionClosed) {
      return new McpBridgeError(McpCodes.unavailable, `${what}: the MCP server closed the connection (${err.message})`, { field: 'server', cause: err });
    }
    if (err.code === ErrorCode.RequestTimeout) {
      return new McpBridgeError(McpCodes.timeout, `${what}: the MCP server did not answer in time (${err.message})`, { field: 'server', cause: err });
    }
    return new McpBridgeError(McpCodes.protocolError, `${what}: the MCP server answered with error ${err.code}: ${err.message}`, {
      field: 'server',
      cause: err,
      details: { rpcCode: err.code },
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  // The SDK says "Not connected" after the transport closed; fetch and spawn failures land here too.
  return new McpBridgeError(McpCodes.unavailable, `${what}: the MCP server is unavailable (${message})`, { field: 'server', cause: err });
}
