// JSON Schema checks for mounted MCP tools: each pinned input/output schema is
// compiled once with ajv (draft-07 by default, 2019-09 and 2020-12 when the
// schema says so), and a failed check becomes the same typed error a native
// tool gives (INVALID_TOOL_ARGS / INVALID_TOOL_OUTPUT, `field` = the path).

import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ValidationError } from '../../base/errors.js';
import { McpBridgeError, McpCodes } from './errors.js';

type Draft = 'draft-07' | '2019-09' | '2020-12';
type AnyAjv = Ajv | Ajv2019 | Ajv2020;

/** A compiled check; `release` frees what ajv keeps for it (schemas with an `$id` would clash on re-pin otherwise). */
export interface CompiledSchema {
  check(value: unknown): ErrorObject[] | undefined;
  release(): void;
}

// Formats are annotations unless a vocabulary says otherwise; servers use many ajv does not ship.
const OPTIONS: Options = { strict: false, allErrors: true, validateFormats: false, logger: false };

/** One ajv instance per draft, made on first use. */
export class SchemaCompiler {
  private readonly instances = new Map<Draft, AnyAjv>();

  /** Compile `schema` (a tool's `inputSchema` or `outputSchema`); throws MCP_INVALID_SCHEMA naming the tool. */
  compile(schema: Record<string, unknown>, where: { tool: string; part: 'inputSchema' | 'outputSchema' }): CompiledSchema {
    const fail = (why: string, cause?: unknown): never => {
      throw new McpBridgeError(McpCodes.invalidSchema, `MCP tool "${where.tool}": its ${where.part} is not a JSON Schema this node can compile: ${why}`, {
        field: `tools.${where.tool}.${where.part}`,
        cause,
      });
    };
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) fail('expected an object');
    const { draft, body } = draftOf(schema);
    const ajv = this.instance(draft);
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(body);
    } catch (err) {
      return fail((err as Error).message, err);
    }
    return {
      check: (value) => (validate(value) ? undefined : (validate.errors ?? [])),
      release: () => {
        try {
          ajv.removeSchema(body);
        } catch {
          // already gone
        }
      },
    };
  }

  private instance(draft: Draft): AnyAjv {
    let ajv = this.instances.get(draft);
    if (!ajv) {
      ajv = draft === '2020-12' ? new Ajv2020(OPTIONS) : draft === '2019-09' ? new Ajv2019(OPTIONS) : new Ajv(OPTIONS);
      this.instances.set(draft, ajv);
    }
    return ajv;
  }
}

/**
 * The draft a schema declares. Draft-04/06 schemas (and unknown `$schema` URIs) are
 * checked with draft-07 rules after dropping `$schema`: close enough for argument
 * shapes, and better than refusing a server's tool outright.
 */
function draftOf(schema: Record<string, unknown>): { draft: Draft; body: Record<string, unknown> } {
  const uri = schema.$schema;
  if (uri === undefined) return { draft: 'draft-07', body: schema };
  if (typeof uri === 'string') {
    if (uri.includes('2020-12')) return { draft: '2020-12', body: schema };
    if (uri.includes('2019-09')) return { draft: '2019-09', body: schema };
    if (uri.includes('draft-07')) return { draft: 'draft-07', body: schema };
  }
  const { $schema: _ignored, ...rest } = schema;
  return { draft: 'draft-07', body: rest };
}

/** ajv's errors as the typed error a native tool gives for the same mistake. */
export function schemaError(tool: string, what: 'arguments' | 'output', errors: ErrorObject[]): ValidationError {
  const issues = errors.map((e) => ({ path: pathOf(e), message: e.message ?? e.keyword }));
  const first = issues[0];
  const summary = issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  return new ValidationError(what === 'arguments' ? 'INVALID_TOOL_ARGS' : 'INVALID_TOOL_OUTPUT', `tool "${tool}" ${what} invalid: ${summary || 'rejected by its schema'}`, {
    field: first && first.path.length > 0 ? first.path.join('.') : what,
    details: { issues },
  });
}

/** `/a/0/b` plus the missing or extra property, as path segments. */
function pathOf(e: ErrorObject): string[] {
  const path = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  if (e.keyword === 'required' && params.missingProperty !== undefined) path.push(params.missingProperty);
  if (e.keyword === 'additionalProperties' && params.additionalProperty !== undefined) path.push(params.additionalProperty);
  return path;
}
