// The shape of a mount as its user sees it (McpMount, tool status, refresh
// report), and what it tracks per remote tool: the listed and approved
// definitions, their pins, the registry version of the approved one, the state.

import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDescriptor } from './catalog.js';
import type { PinnedTool, PinPart, ToolPin } from './pin.js';
import type { ToolState, TrackedTool } from './reconcile.js';

/** One mounted tool, as `mount.tools()` reports it. */
export interface McpToolStatus {
  /** Registry name (`files.read_file`): the syscall name and the capability a contract lists. Empty for a refused tool. */
  name: string;
  /** The server's name for it (`readFile`). */
  remote: string;
  state: ToolState;
  /** Hash of the approved definition (absent for a tool never approved). */
  hash?: string;
  /** Hash of the definition listed last, when it awaits approval (suspended, pending). */
  listedHash?: string;
  /** What changed since approval (suspended tools; empty when only a hash was pinned). */
  changed?: PinPart[];
  reason?: string;
  /** The definition listed last, for review before `approve`. */
  listed?: PinnedTool;
  /** The approved definition. */
  approved?: PinnedTool;
  /** The tool registry's version of the approved definition (a contract's binding may pin its manifest hash). */
  version?: string;
}

export interface RefreshReport {
  added: string[];
  suspended: string[];
  restored: string[];
  removed: string[];
  refused: string[];
}

/** Counted by the tool registry for this mount's tools (see `node.tools.stats()`), plus the server's own error results. */
export interface McpMountStats {
  /** Calls whose arguments were checked. */
  calls: number;
  invalidArgs: number;
  /** The server answered `isError: true`. */
  toolErrors: number;
  /** Other failures: unavailable, timeouts, protocol errors, results off their output schema. */
  failures: number;
  /** Refused while suspended or pending. */
  suspendedRefusals: number;
}

export interface ApproveOptions {
  /** Who approves: checked against the node's RBAC (permission `approve-tool:<tool name>`) and recorded in the audit log. */
  by: string;
  /** Approve only this definition (the `listedHash` that was reviewed). */
  hash?: string;
  /** Act under these roles only. */
  roles?: readonly string[];
  /** RBAC scope of the approver. Default tenant `default`. */
  tenant?: string;
  team?: string;
}

export interface McpMount {
  readonly prefix: string;
  /** The command or URL of the server (no query string, no credentials). */
  readonly server: string;
  readonly status: 'connected' | 'unavailable' | 'closed';
  tools(): McpToolStatus[];
  tool(name: string): McpToolStatus | undefined;
  /** Approved hashes by registry name. The registry's store keeps them (in the node's LMDB) for the next mount; passing them as `pins` overrides it. */
  pins(): Record<string, string>;
  stats(): McpMountStats;
  /** List the server's tools again and suspend, add (pending), restore or remove accordingly. */
  refresh(): Promise<RefreshReport>;
  /**
   * Approve a suspended or pending tool's listed definition (pass `hash` to approve only what was reviewed).
   * `by` needs the permission `approve-tool:<name>` when the node has RBAC (APPROVER_NOT_AUTHORIZED otherwise);
   * the approval is audited and, with the node's LMDB, kept across restarts.
   */
  approve(name: string, options: ApproveOptions): McpToolStatus;
  /** Connect again (after the server went away), then refresh. */
  reconnect(): Promise<RefreshReport>;
  /** Unregister every tool and disconnect. */
  close(): Promise<void>;
}

export interface Entry extends TrackedTool {
  remote: string;
  local: string;
  listed?: PinnedTool;
  approvedDef?: PinnedTool;
  /** Registry version of `approvedDef`. */
  version?: string;
  /** Whether the tool registry has it (it does unless refused or removed). */
  registered: boolean;
  changed?: PinPart[];
  reason?: string;
}

/** The parts of a listed tool a pin covers. */
export function pinnedOf(tool: Tool): PinnedTool {
  return {
    name: tool.name,
    inputSchema: tool.inputSchema as Record<string, unknown>,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    ...(tool.description === undefined ? {} : { description: tool.description }),
    ...(tool.outputSchema === undefined ? {} : { outputSchema: tool.outputSchema as Record<string, unknown> }),
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations as Record<string, unknown> }),
  };
}

/** The hashes an audit record carries for a pin. */
export function pinHashes(pin: ToolPin): Record<string, string> {
  return { tool: pin.hash, description: pin.parts.description, inputSchema: pin.parts.inputSchema, outputSchema: pin.parts.outputSchema };
}

export function statusOf(e: Entry): McpToolStatus {
  const awaiting = e.state === 'suspended' || e.state === 'pending';
  return {
    name: e.local,
    remote: e.remote,
    state: e.state,
    ...(e.approved ? { hash: e.approved.hash } : {}),
    ...(awaiting && e.seen ? { listedHash: e.seen.hash } : {}),
    ...(e.changed ? { changed: [...e.changed] } : {}),
    ...(e.reason === undefined ? {} : { reason: e.reason }),
    ...(e.listed ? { listed: e.listed } : {}),
    ...(e.approvedDef ? { approved: e.approvedDef } : {}),
    ...(e.version === undefined ? {} : { version: e.version }),
  };
}

/** Why calls of a suspended or pending tool are refused (the registry's refusal reason). */
export function refusalReason(e: Entry): string {
  const why = e.state === 'pending' ? 'it is new since the server was mounted' : `its ${e.changed?.length ? e.changed.join(', ') : 'definition'} changed since it was approved`;
  return `${why}; a person must review it and call approve("${e.local}")`;
}

/** What serveMcp offers for an active mounted tool: its approved definition. */
export function descriptorOf(e: Entry): ToolDescriptor | undefined {
  const d = e.approvedDef;
  if (e.state !== 'active' || !d) return undefined;
  return {
    name: e.local,
    description: d.description ?? '',
    inputSchema: d.inputSchema,
    mcpResult: true,
    ...(d.title === undefined ? {} : { title: d.title }),
    ...(d.outputSchema === undefined ? {} : { outputSchema: d.outputSchema }),
    ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
  };
}
