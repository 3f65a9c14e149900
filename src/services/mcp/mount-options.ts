// Options of mountMcpServer, checked once with errors that name the field.

import { McpBridgeError, McpCodes } from './errors.js';
import type { McpTransportSpec } from './connect.js';
import { TOOL_NAME_PATTERN, type NamePolicy } from './names.js';

export interface MountOptions {
  /** Registry prefix: the server's tool `read` becomes `<prefix>.read` (and the capability a contract lists). */
  prefix: string;
  transport: McpTransportSpec;
  /** `map` (default): fit remote names to the registry pattern (`readFile` → `read_file`); `strict`: refuse any that does not fit as is. */
  names?: NamePolicy;
  /** Registry names for single remote tools (remote name → name after the prefix). */
  rename?: Record<string, string>;
  /**
   * Hashes approved in an earlier review (registry or remote name → hash, as `mount.pins()` returns).
   * Given, a tool mounts active only if its definition hashes the same; one that differs starts
   * suspended and one not named starts pending. Absent, the pins the tool registry keeps for this
   * prefix (in the node's LMDB: approvals of earlier mounts, across restarts) are used the same way;
   * with none kept either, every tool listed at mount is approved (and kept from then on).
   */
  pins?: Record<string, string>;
  /** A tool whose name or schema cannot be mounted: `throw` (default) fails the mount, `skip` mounts the rest. */
  onInvalid?: 'throw' | 'skip';
  /** Per-call timeout, ms (default 60 000, the SDK's). */
  callTimeoutMs?: number;
  /** How long connecting may take, ms (default 30 000). */
  connectTimeoutMs?: number;
  /** Re-list the tools this often (on the kernel's clock), besides on `notifications/tools/list_changed`. */
  refreshEveryMs?: number;
}

export interface CheckedMountOptions {
  prefix: string;
  transport: McpTransportSpec;
  names: NamePolicy;
  rename: Record<string, string>;
  pins: Record<string, string> | undefined;
  onInvalid: 'throw' | 'skip';
  callTimeoutMs: number;
  connectTimeoutMs: number;
  refreshEveryMs: number | undefined;
}

export function mountOptionsOf(options: MountOptions): CheckedMountOptions {
  const bad = (field: string, why: string): never => {
    throw new McpBridgeError(McpCodes.invalidOptions, `mountMcpServer: ${field} ${why}`, { field });
  };
  if (typeof options !== 'object' || options === null) bad('options', 'must be an object { prefix, transport }');
  if (typeof options.prefix !== 'string' || !TOOL_NAME_PATTERN.test(options.prefix)) bad('prefix', `must look like "files" or "acme.files" (got ${JSON.stringify(options.prefix)})`);
  if (options.names !== undefined && options.names !== 'map' && options.names !== 'strict') bad('names', 'must be "map" or "strict"');
  const record = (field: string, value: unknown): Record<string, string> | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) bad(field, 'must map names to strings');
    return value as Record<string, string>;
  };
  const positive = (field: string, value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) bad(field, 'must be a positive number of milliseconds');
    return value as number;
  };
  if (options.onInvalid !== undefined && options.onInvalid !== 'throw' && options.onInvalid !== 'skip') bad('onInvalid', 'must be "throw" or "skip"');
  return {
    prefix: options.prefix,
    transport: options.transport,
    names: options.names ?? 'map',
    rename: record('rename', options.rename) ?? {},
    pins: record('pins', options.pins),
    onInvalid: options.onInvalid ?? 'throw',
    callTimeoutMs: positive('callTimeoutMs', options.callTimeoutMs) ?? 60_000,
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs) ?? 30_000,
    refreshEveryMs: positive('refreshEveryMs', options.refreshEveryMs),
  };
}
