// The shape of a mount as its user sees it (McpMount, tool status, refresh
// report), and what it tracks per remote tool: the listed and approved
// definitions, their pins, the compiled schema checks, the state.

import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDescriptor } from './catalog.js';
import type { PinnedTool, PinPart, ToolPin } from './pin.js';
import type { ToolState, TrackedTool } from './reconcile.js';
import type { CompiledSchema } from './schema.js';

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
}

export interface RefreshReport {
  added: string[];
  suspended: string[];
  restored: string[];
  removed: string[];
  refused: string[];
}

export interface McpMountStats {
  calls: number;
  invalidArgs: number;
  toolErrors: number;
  failures: number;
  suspendedRefusals: number;
}

export interface McpMount {
  readonly prefix: string;
  /** The command or URL of the server (no query string, no credentials). */
  readonly server: string;
  readonly status: 'connected' | 'unavailable' | 'closed';
  tools(): McpToolStatus[];
  tool(name: string): McpToolStatus | undefined;
  /** Approved hashes by registry name: pass back as `pins` to mount the same definitions next time. */
  pins(): Record<string, string>;
  stats(): McpMountStats;
  /** List the server's tools again and suspend, add (pending), restore or remove accordingly. */
  refresh(): Promise<RefreshReport>;
  /** Approve a suspended or pending tool's listed definition (pass `hash` to approve only what was reviewed). */
  approve(name: string, options?: { by?: string; hash?: string }): McpToolStatus;
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
  checks?: { input: CompiledSchema; output?: CompiledSchema };
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
  };
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
