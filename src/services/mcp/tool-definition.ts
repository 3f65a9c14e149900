// A mounted MCP tool as the tool registry sees it: a JSON-Schema tool (checked
// with ajv by the registry, like any `defineJsonSchemaTool`) whose manifest is
// the server's description and schemas, so a changed description or schema is
// a new registry version with a new hash. The result a caller gets is the MCP
// result `{ content, structuredContent? }`; a declared output schema applies to
// `structuredContent`, embedded as its own schema resource so the server's
// `#/…` references still resolve.

import { canonicalJson, sha256Hex } from '../../base/canonical.js';
import { AgentOsError } from '../../base/errors.js';
import { defineJsonSchemaTool, type JsonSchemaToolDefinition, type ToolContext, type ToolRisk } from '../tools/define.js';
import type { JsonSchema } from '../tools/schema.js';
import { McpBridgeError, McpCodes } from './errors.js';
import type { McpToolResult } from './invoke.js';
import type { PinnedTool } from './pin.js';

export type McpRun = (args: Record<string, unknown>, context: ToolContext) => Promise<McpToolResult>;

/** The registry definition of a tool's listed (or approved) definition, registered as `local`. */
export function mcpToolDefinition(local: string, def: PinnedTool, run: McpRun, version?: string): JsonSchemaToolDefinition {
  const outputSchema = def.outputSchema === undefined ? undefined : resultSchema(def.outputSchema);
  try {
    return defineJsonSchemaTool({
      name: local,
      description: nonEmpty(def.description) ?? nonEmpty(def.title) ?? `MCP tool "${def.name}"`,
      inputSchema: def.inputSchema,
      ...(outputSchema === undefined ? {} : { outputSchema }),
      risk: riskOf(def.annotations),
      // The server's idempotentHint is a hint from an untrusted party: a call lost in a crash is never re-run on its word.
      idempotent: false,
      ...(version === undefined ? {} : { version }),
      execute: (args: Record<string, unknown>, context: ToolContext) => run(args, context),
    });
  } catch (err) {
    throw asSchemaError(local, err);
  }
}

/** A registry refusal of a tool's schemas (INVALID_TOOL) as the MCP bridge's MCP_INVALID_SCHEMA, naming the tool and part. */
export function asSchemaError(local: string, err: unknown): unknown {
  if (!(err instanceof AgentOsError) || err.code !== 'INVALID_TOOL') return err;
  const part = err.field === 'outputSchema' ? 'outputSchema' : 'inputSchema';
  return new McpBridgeError(McpCodes.invalidSchema, `MCP tool "${local}": its ${part} is not a JSON Schema this node can compile: ${err.message}`, {
    field: `tools.${local}.${part}`,
    cause: err,
  });
}

/** `{ content, structuredContent }` with the tool's output schema as `structuredContent`'s own resource. */
function resultSchema(output: Record<string, unknown>): JsonSchema {
  const { $schema, $id: _id, ...inner } = output;
  return {
    ...(typeof $schema === 'string' ? { $schema } : {}),
    type: 'object',
    properties: {
      content: { type: 'array' },
      structuredContent: { $id: `urn:agentos:mcp-output:${sha256Hex(canonicalJson(inner))}`, ...inner },
    },
    required: ['content', 'structuredContent'],
  };
}

/** Read-only tools are low risk, ones the server calls destructive high, the rest medium. */
function riskOf(annotations: Record<string, unknown> | undefined): ToolRisk {
  if (annotations?.readOnlyHint === true) return 'low';
  if (annotations?.destructiveHint === true) return 'high';
  return 'medium';
}

function nonEmpty(s: string | undefined): string | undefined {
  return typeof s === 'string' && s.trim().length > 0 ? s : undefined;
}
