// Schemas of tool arguments and results, one interface over two libraries: zod
// (native tools) and ajv over plain JSON Schema (tools imported from MCP servers).
// JSON Schema is compiled once and cached by its canonical text. Zod schemas are
// exported as JSON Schema (2020-12) for manifests and MCP.

import AjvDraft7 from 'ajv';
import type { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import { z } from 'zod';
import { canonicalJson } from '../../base/canonical.js';
import { summarizeIssues } from '../../base/issues.js';
import { ToolCodes, ToolError } from './errors.js';

/** A JSON Schema document (an object; the boolean forms are not accepted for tools). */
export type JsonSchema = Record<string, unknown>;

export type SchemaCheck =
  | { ok: true; value: unknown }
  | { ok: false; field: string; summary: string; issues: { path: string[]; message: string }[] };

/** Checks a value; `what` names the root in messages ("arguments" or "output"). */
export interface SchemaValidator {
  check(value: unknown, what: string): SchemaCheck;
}

export function zodValidator(schema: z.ZodType): SchemaValidator {
  return {
    check(value, what) {
      const parsed = schema.safeParse(value);
      if (parsed.success) return { ok: true, value: parsed.data };
      return { ok: false, ...summarizeIssues(parsed.error, what) };
    },
  };
}

/** The JSON Schema of a zod schema: what callers send (`input`) or what the tool returns (`output`). */
export function zodJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
}

// ── ajv ───────────────────────────────────────────────────────────────────

const FORMATS: Record<string, RegExp | ((s: string) => boolean)> = {
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: (s) => /^[a-z][a-z0-9+.-]*:/i.test(s) && URL.canParse(s),
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  ipv4: /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
};

const ajvOptions = { strict: false, allErrors: true, logger: false as const, formats: FORMATS, useDefaults: false, coerceTypes: false };
let engines: { d2020: InstanceType<typeof Ajv2020.default>; d7: InstanceType<typeof AjvDraft7.default> } | undefined;
const compiled = new Map<string, ValidateFunction>();
const MAX_CACHED = 2048;

/** Compile (or reuse) a validator for a JSON Schema. A schema ajv cannot compile is INVALID_TOOL naming `field`. */
export function jsonSchemaValidator(schema: JsonSchema, field: string): SchemaValidator {
  const validate = compile(schema, field);
  return {
    check(value, what) {
      if (validate(value)) return { ok: true, value };
      const issues = (validate.errors ?? []).map((e) => {
        const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        const extra = (e.params as { missingProperty?: string; additionalProperty?: string }) ?? {};
        if (e.keyword === 'required' && extra.missingProperty) path.push(extra.missingProperty);
        if (e.keyword === 'additionalProperties' && extra.additionalProperty) path.push(extra.additionalProperty);
        return { path, message: e.keyword === 'additionalProperties' ? 'is not allowed' : (e.message ?? e.keyword) };
      });
      const first = issues[0];
      return {
        ok: false,
        field: first && first.path.length > 0 ? first.path.join('.') : what,
        summary: issues.slice(0, 3).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; '),
        issues,
      };
    },
  };
}

function compile(schema: JsonSchema, field: string): ValidateFunction {
  let text: string;
  try {
    text = canonicalJson(schema);
  } catch (err) {
    throw new ToolError(ToolCodes.invalidTool, `${field} is not JSON data: ${(err as Error).message}`, { field });
  }
  const draft = typeof schema.$schema === 'string' && /draft-0[467]/.test(schema.$schema) ? 'd7' : 'd2020';
  const key = `${draft}:${text}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  engines ??= { d2020: new Ajv2020.default(ajvOptions), d7: new AjvDraft7.default(ajvOptions) };
  // `$schema` only chose the engine (ajv would look the meta-schema up by URI); a root `$id`
  // would make a second tool with the same id collide in the shared engine.
  const { $schema: _schema, $id: _id, ...body } = JSON.parse(text) as JsonSchema;
  let validate: ValidateFunction;
  try {
    validate = engines[draft].compile(body);
  } catch (err) {
    throw new ToolError(ToolCodes.invalidTool, `${field} is not a valid JSON Schema: ${(err as Error).message}`, { field });
  }
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, validate);
  return validate;
}

/** How many distinct JSON Schemas are compiled and cached (diagnostics). */
export function compiledSchemaCount(): number {
  return compiled.size;
}
