// MCP interoperability: mount an external MCP server's tools into a node
// (governed and pinned like native tools), and serve a node's tools to MCP clients
// as one of its actors.

export { mountMcpServer } from './mount.js';
export type { ApproveOptions, McpMount, McpMountStats, McpToolStatus, MountOptions, RefreshReport } from './mount.js';
export { APPROVE_TOOL_PERMISSION } from './mount-approve.js';
export { mcpBindingEntries } from './bindings.js';
export { serveMcp } from './serve.js';
export type { HttpServeOptions, McpServing, ServeHost, ServeMcpOptions, ToolSource } from './serve.js';
export type { McpTransportSpec } from './connect.js';
export type { McpToolResult } from './invoke.js';
export type { KernelHost } from './catalog.js';
export { McpBridgeError, McpCodes, type McpCode } from './errors.js';
export { mapRemoteName, registryNames, TOOL_NAME_PATTERN, type NamePolicy } from './names.js';
export { changedParts, pinTool, PIN_PARTS, type PinnedTool, type PinPart, type ToolPin } from './pin.js';
export type { ToolState } from './reconcile.js';
