// Native tools as MCP clients see them: name, description and JSON Schemas
// derived from the tool's zod schemas (draft-07: what a caller may send, what it gets back), or taken as
// is from a tool that carries JSON Schema already. A tool whose input is not an
// object cannot take MCP's named arguments and is not offered.

import { z } from 'zod';
import type { ToolDescriptor } from './catalog.js';

/** What serveMcp needs from a tool registry (the node's `tools`): names, and definitions to describe. */
export interface ToolSource {
  list(): { name: string; description?: string }[];
  get(name: string): unknown;
}

/** MCP tool names: 1-128 characters of A-Z a-z 0-9 _ - . (SEP-986). */
const MCP_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

const cache = new WeakMap<object, ToolDescriptor | null>();

/** The descriptor of a registry tool, or undefined when it cannot be offered over MCP. */
export function describeNative(name: string, definition: unknown, fallbackDescription?: string): ToolDescriptor | undefined {
  if (!MCP_NAME.test(name)) return undefined;
  if (typeof definition !== 'object' || definition === null) return open(name, fallbackDescription);
  let found = cache.get(definition);
  if (found === undefined) {
    found = build(name, definition as Record<string, unknown>) ?? null;
    cache.set(definition, found);
  }
  return found ?? undefined;
}

/** A tool known only by name: any named arguments, the kernel validates them. */
export function open(name: string, description?: string): ToolDescriptor | undefined {
  if (!MCP_NAME.test(name)) return undefined;
  return { name, description: description ?? `agentos tool ${name}`, inputSchema: { type: 'object' } };
}

function build(name: string, def: Record<string, unknown>): ToolDescriptor | undefined {
  const input = jsonSchemaOf(def.inputSchema ?? def.input, 'input');
  if (!input || input.type !== 'object') return undefined;
  const output = jsonSchemaOf(def.outputSchema ?? def.output, 'output');
  return {
    name,
    description: typeof def.description === 'string' ? def.description : `agentos tool ${name}`,
    inputSchema: input,
    ...(output && output.type === 'object' ? { outputSchema: output } : {}),
  };
}

function jsonSchemaOf(schema: unknown, io: 'input' | 'output'): Record<string, unknown> | undefined {
  if (schema === undefined || schema === null) return undefined;
  if (typeof (schema as { safeParse?: unknown }).safeParse === 'function') {
    try {
      return z.toJSONSchema(schema as z.ZodType, { io, target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
  if (typeof schema === 'object' && !Array.isArray(schema)) return schema as Record<string, unknown>;
  return undefined;
}
