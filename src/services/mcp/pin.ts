// Tool pins: what a mounted MCP tool looked like when a person (or the mount)
// approved it, as SHA-256 hashes of RFC 8785 canonical JSON. A server that later
// changes a tool's description, title, annotations or schemas produces another
// pin; the mount compares pins part by part and says which parts moved.

import { canonicalJson, CanonicalJsonError, sha256Hex } from '../../base/canonical.js';
import { McpBridgeError, McpCodes } from './errors.js';

/** The parts of a listed MCP tool that a pin covers (what a model reads, and what it may send). */
export interface PinnedTool {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | undefined;
  annotations?: Record<string, unknown> | undefined;
}

export const PIN_PARTS = ['description', 'title', 'annotations', 'inputSchema', 'outputSchema'] as const;
export type PinPart = (typeof PIN_PARTS)[number];

export interface ToolPin {
  /** Hash of the whole definition: what `approve({ hash })` names. */
  hash: string;
  /** Hash of each part, so a change can be told apart (`description` vs `inputSchema`). */
  parts: Record<PinPart, string>;
}

/** Pin a listed tool. Throws MCP_INVALID_SCHEMA when the definition is not plain JSON data. */
export function pinTool(tool: PinnedTool): ToolPin {
  try {
    const parts = {} as Record<PinPart, string>;
    for (const part of PIN_PARTS) parts[part] = sha256Hex(canonicalJson(tool[part] ?? null));
    const hash = sha256Hex(canonicalJson({ name: tool.name, ...pick(tool) }));
    return { hash, parts };
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    throw new McpBridgeError(McpCodes.invalidSchema, `MCP tool "${tool.name}" cannot be pinned: ${err.message}`, { field: `tools.${tool.name}`, cause: err });
  }
}

/** The parts that differ between two pins, in PIN_PARTS order (empty when equal). */
export function changedParts(before: ToolPin, after: ToolPin): PinPart[] {
  return PIN_PARTS.filter((p) => before.parts[p] !== after.parts[p]);
}

function pick(tool: PinnedTool): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of PIN_PARTS) if (tool[part] !== undefined) out[part] = tool[part];
  return out;
}
