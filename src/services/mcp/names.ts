// Remote MCP tool names → registry names. A mounted tool is `<prefix>.<tool>`
// and must match the registry's name pattern (it is also the capability a
// contract lists), so names are mapped: camelCase → snake_case, anything outside
// [a-z0-9_-] → `_`, dots kept as segment separators. `strict` refuses instead of
// mapping; a name that maps to nothing, or onto another tool's name, is refused.

import { McpBridgeError, McpCodes } from './errors.js';

/** The registry's tool name pattern (services/tools), and the capability pattern without wildcards. */
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;
/** The kernel refuses syscall names longer than this. */
export const MAX_TOOL_NAME = 256;

export type NamePolicy = 'map' | 'strict';

/** Map one remote name (without the prefix) to a registry-shaped tail, or undefined when nothing is left of it. */
export function mapRemoteName(remote: string): string | undefined {
  let out = '';
  for (let i = 0; i < remote.length; i++) {
    const c = remote[i]!;
    if (c >= 'A' && c <= 'Z') {
      const prev = remote[i - 1];
      // `readFile` → `read_file`, `HTTPGet` → `httpget` (only a lower/digit → upper step splits).
      if (prev !== undefined && /[a-z0-9]/.test(prev)) out += '_';
      out += c.toLowerCase();
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '_' || c === '-' || c === '.') {
      out += c;
    } else {
      out += '_';
    }
  }
  const segments = out.split('.').filter((s) => s.length > 0);
  if (segments.length === 0 || segments.every((s) => /^_+$/.test(s))) return undefined;
  return segments.join('.');
}

/**
 * Registry names for a server's tools, `<prefix>.<mapped>`, in the order given.
 * Throws MCP_INVALID_TOOL_NAME for a name that cannot be mapped (or, in strict
 * mode, needs mapping), and for two remote names that land on one registry name;
 * `rename` overrides the mapping of single tools (values are tails, without the prefix).
 */
export function registryNames(prefix: string, remotes: readonly string[], policy: NamePolicy = 'map', rename: Readonly<Record<string, string>> = {}): Map<string, string> {
  const byRemote = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const remote of remotes) {
    const local = registryName(prefix, remote, policy, rename[remote]);
    const clash = owner.get(local);
    if (clash !== undefined) {
      throw new McpBridgeError(
        McpCodes.invalidToolName,
        `MCP tools "${clash}" and "${remote}" would both be registered as "${local}"; give one of them another name with the rename option`,
        { field: `tools.${remote}`, details: { remote, local, clash } },
      );
    }
    owner.set(local, remote);
    byRemote.set(remote, local);
  }
  return byRemote;
}

/** The registry name of one remote tool (see registryNames). */
export function registryName(prefix: string, remote: string, policy: NamePolicy = 'map', renamed?: string): string {
  const refuse = (why: string): never => {
    throw new McpBridgeError(McpCodes.invalidToolName, `MCP tool ${JSON.stringify(remote)} cannot be mounted under "${prefix}": ${why}`, {
      field: `tools.${remote}`,
      details: { remote, prefix },
    });
  };
  let tail: string | undefined;
  if (renamed !== undefined) {
    tail = renamed;
  } else if (policy === 'strict') {
    tail = remote;
  } else {
    tail = mapRemoteName(remote);
    if (tail === undefined) refuse('nothing of its name is usable in a registry name; give it one with the rename option');
  }
  const local = `${prefix}.${tail}`;
  if (!TOOL_NAME_PATTERN.test(local)) {
    const hint = renamed !== undefined ? 'the rename option gave' : policy === 'strict' ? 'with names: "strict" the name must already fit' : 'the mapped name is';
    refuse(`${hint} "${local}", which does not match ${TOOL_NAME_PATTERN.source}`);
  }
  if (local.length > MAX_TOOL_NAME) refuse(`"${local.slice(0, 40)}…" is longer than ${MAX_TOOL_NAME} characters`);
  return local;
}
