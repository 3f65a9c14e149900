// The small type language of `in`/`out`/`input` fields, compiled to JSON
// Schema, and the structural "does a source of type S fit a field of type T"
// check the binder uses. Named types are inlined (tagged with `title`) so the
// IR's schemas stand alone.
import Ajv2020 from 'ajv/dist/2020.js';
import { canonicalJson } from '../../base/canonical.js';
import type { JsonSchema } from './types.js';
import type { FieldsSpec, TypeSpec } from './spec.js';
import { WorkflowCodes } from './errors.js';
import type { Issues, IssuePath } from './problems.js';

export const PRIMITIVE_TYPES: Readonly<Record<string, JsonSchema>> = {
  string: { type: 'string' },
  number: { type: 'number' },
  integer: { type: 'integer' },
  boolean: { type: 'boolean' },
  object: { type: 'object' },
  any: {},
};

/** `Name`, `Name[]`, `Name[][]`…, with an optional trailing `?` (fields only). */
const EXPRESSION = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\])*)(\?)?$/;

let ajv: InstanceType<typeof Ajv2020.default> | undefined;
const engine = () => (ajv ??= new Ajv2020.default({ strict: false, allErrors: false, logger: false, validateFormats: false }));

/** The object schema of a field map, as the IR holds `in`, `out` and `input`. */
export function objectSchema(properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: true };
}

export const EMPTY_OBJECT: JsonSchema = objectSchema({}, []);

/**
 * Compiles `types:`. A named type is a JSON Schema mapping or an expression over
 * other named types (`Ids: "Id[]"`); `inherited` are the enclosing workflow's.
 */
export function compileNamedTypes(
  raw: Record<string, TypeSpec> | undefined, inherited: Readonly<Record<string, JsonSchema>>, issues: Issues, path: IssuePath,
): Record<string, JsonSchema> {
  const own = raw ?? {};
  const out: Record<string, JsonSchema> = { ...inherited };
  const done = new Set<string>();
  const resolving = new Set<string>();
  // A type that fails to compile becomes `any`, so one mistake is reported once, not at every use.
  const resolve = (name: string): JsonSchema | undefined => {
    if (!Object.hasOwn(own, name)) return Object.hasOwn(inherited, name) ? inherited[name] : undefined;
    if (done.has(name)) return out[name];
    const at = [...path, name];
    if (resolving.has(name)) {
      issues.add(WorkflowCodes.invalid, at, `type "${name}" is defined in terms of itself`);
      return {};
    }
    let schema: JsonSchema = {};
    if (Object.hasOwn(PRIMITIVE_TYPES, name)) {
      issues.add(WorkflowCodes.invalid, at, `"${name}" is a built-in type and cannot be redefined`);
    } else {
      resolving.add(name);
      const compiled = compileType(own[name] as TypeSpec, resolve, issues, at, false, `type "${name}": `);
      resolving.delete(name);
      if (compiled) schema = typeof compiled.schema.title === 'string' ? compiled.schema : { title: name, ...compiled.schema };
    }
    done.add(name);
    out[name] = schema;
    return schema;
  };
  for (const name of Object.keys(own)) resolve(name);
  return out;
}

export interface CompiledType {
  schema: JsonSchema;
  optional: boolean;
}

/**
 * One type: an expression (`Citation[]`, `string?`) or an inline JSON Schema
 * (checked against the 2020-12 meta-schema). Problems go to `issues`.
 */
export function compileType(
  spec: TypeSpec, lookup: (name: string) => JsonSchema | undefined, issues: Issues, path: IssuePath, allowOptional: boolean, prefix = '',
): CompiledType | undefined {
  if (typeof spec !== 'string') {
    const why = schemaProblem(spec);
    if (why) {
      issues.add(WorkflowCodes.invalid, path, `${prefix}is not a valid JSON Schema: ${why}`);
      return undefined;
    }
    return { schema: spec, optional: false };
  }
  const m = EXPRESSION.exec(spec.trim());
  if (!m) {
    issues.add(WorkflowCodes.invalid, path, `${prefix}cannot read the type ${JSON.stringify(spec)}; write a name (string, number, integer, boolean, object, any or a named type), then [] for a list, then ? for an optional field`);
    return undefined;
  }
  const [, name, brackets, question] = m as unknown as [string, string, string, string | undefined];
  if (question && !allowOptional) {
    issues.add(WorkflowCodes.invalid, path, `${prefix}"?" marks an optional field; it cannot be used in ${JSON.stringify(spec)} here`);
    return undefined;
  }
  let schema = Object.hasOwn(PRIMITIVE_TYPES, name) ? PRIMITIVE_TYPES[name] : lookup(name);
  if (!schema) {
    issues.add(WorkflowCodes.unknownType, path, `${prefix}unknown type "${name}"; use string, number, integer, boolean, object, any or a name defined under types:`);
    return undefined;
  }
  for (let i = 0; i < brackets.length / 2; i++) schema = { type: 'array', items: schema };
  return { schema, optional: question !== undefined };
}

/**
 * Why an inline schema would not compile: the 2020-12 meta-schema, bad regular
 * expressions, `$ref`s that do not resolve within it (a `$schema` naming another draft is ignored).
 */
function schemaProblem(schema: JsonSchema): string | undefined {
  const { $schema: _draft, $id: _id, ...body } = schema;
  try {
    engine().compile(body);
    engine().removeSchema(body);
    return undefined;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).slice(0, 300);
  }
}

/** `in`/`out`/`input`: field → type, compiled to one object schema. `owner` starts messages (`step "plan": `). */
export function compileFields(
  fields: FieldsSpec | undefined, types: Readonly<Record<string, JsonSchema>>, issues: Issues, path: IssuePath, owner = '',
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [field, spec] of Object.entries(fields ?? {})) {
    const compiled = compileType(spec, (n) => (Object.hasOwn(types, n) ? types[n] : undefined), issues, [...path, field], true, `${owner}field "${field}": `);
    properties[field] = compiled?.schema ?? {};
    if (!compiled?.optional) required.push(field);
  }
  return objectSchema(properties, required);
}

/** The properties and required list of an object schema from compileFields. */
export function fieldsOf(schema: JsonSchema): { properties: Record<string, JsonSchema>; required: Set<string> } {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return { properties, required: new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []) };
}

/** Whether a constant satisfies a schema (for `with:` literals). */
export function valueFits(value: unknown, schema: JsonSchema): boolean {
  const { $id: _id, $schema: _s, ...body } = schema;
  try {
    const validate = engine().compile(body);
    const ok = validate(value);
    engine().removeSchema(body);
    return ok;
  } catch {
    return true; // a schema ajv cannot compile was already reported where it was declared
  }
}

// ── fitting ────────────────────────────────────────────────────────────────

const MAX_DEPTH = 32;
const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

function same(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The JSON types a schema allows (`integer` as its own), or undefined when it does not say. */
export function typesOf(s: JsonSchema): string[] | undefined {
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type as string[];
  const values = enumOf(s);
  if (values) return [...new Set(values.map(jsonType))];
  if (isObject(s.properties)) return ['object'];
  if (isObject(s.items)) return ['array'];
  return undefined;
}

function enumOf(s: JsonSchema): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum;
  if ('const' in s) return [s.const];
  return undefined;
}

const branches = (s: JsonSchema): JsonSchema[] | undefined =>
  Array.isArray(s.anyOf) ? (s.anyOf as JsonSchema[]) : Array.isArray(s.oneOf) ? (s.oneOf as JsonSchema[]) : undefined;

/** No constraint we can compare: `any` (and schemas built only of keywords we do not model). */
const isAny = (s: JsonSchema) => typesOf(s) === undefined && branches(s) === undefined && enumOf(s) === undefined;

const typeFits = (src: string, dst: readonly string[]) => dst.includes(src) || (src === 'integer' && dst.includes('number'));

/**
 * Whether a value of schema `src` always fits schema `dst`; a reason if not.
 * `any` fits everything both ways, integer fits number, `T[]` fits `U[]` when T
 * fits U, an object fits when it has every property `dst` requires (each
 * fitting), an enum fits a wider enum. Keywords beyond these (patterns,
 * bounds, `$ref`) are left to the run-time schema check.
 */
export function fits(src: JsonSchema, dst: JsonSchema, depth = 0): string | undefined {
  if (depth > MAX_DEPTH || isAny(dst) || isAny(src) || same(src, dst)) return undefined;
  const srcBranches = branches(src);
  if (srcBranches) {
    for (const b of srcBranches) if (isObject(b) && fits(b, dst, depth + 1)) return `${describeType(src)} does not fit ${describeType(dst)}`;
    return undefined;
  }
  const dstBranches = branches(dst);
  if (dstBranches) {
    return dstBranches.some((b) => isObject(b) && !fits(src, b, depth + 1)) ? undefined : `${describeType(src)} does not fit ${describeType(dst)}`;
  }
  const dstEnum = enumOf(dst);
  if (dstEnum) {
    const srcEnum = enumOf(src);
    const extra = srcEnum === undefined ? undefined : srcEnum.find((v) => !dstEnum.some((d) => same(v, d)));
    if (srcEnum === undefined || extra !== undefined) {
      return `${describeType(src)} does not fit ${describeType(dst)}${extra === undefined ? '' : ` (${JSON.stringify(extra)} is not allowed)`}`;
    }
    return undefined;
  }
  const srcTypes = typesOf(src);
  const dstTypes = typesOf(dst);
  if (srcTypes && dstTypes && !srcTypes.every((t) => typeFits(t, dstTypes))) return `${describeType(src)} does not fit ${describeType(dst)}`;
  if (srcTypes?.includes('array') && dstTypes?.includes('array')) {
    const why = fits(isObject(src.items) ? src.items : {}, isObject(dst.items) ? dst.items : {}, depth + 1);
    if (why) return `${describeType(src)} does not fit ${describeType(dst)}: items: ${why}`;
  }
  if (srcTypes?.includes('object') && dstTypes?.includes('object')) return objectFits(src, dst, depth);
  return undefined;
}

function objectFits(src: JsonSchema, dst: JsonSchema, depth: number): string | undefined {
  const s = fieldsOf(src);
  const d = fieldsOf(dst);
  for (const [name, schema] of Object.entries(d.properties)) {
    const has = Object.hasOwn(s.properties, name);
    if (d.required.has(name) && !(has && s.required.has(name))) {
      return `${describeType(src)} does not fit ${describeType(dst)}: property "${name}" is required but ${has ? 'may be absent' : 'missing'}`;
    }
    if (has && isObject(schema)) {
      const why = fits(s.properties[name] as JsonSchema, schema, depth + 1);
      if (why) return `${describeType(src)} does not fit ${describeType(dst)}: ${name}: ${why}`;
    }
  }
  return undefined;
}

/** A short rendering in the type language: `string[]`, `Citation`, `{url: string, quote?: string}`. */
export function describeType(s: JsonSchema, depth = 0): string {
  if (typeof s.title === 'string') return s.title;
  if (depth > 3) return '…';
  const values = enumOf(s);
  if (values) return values.slice(0, 5).map((v) => JSON.stringify(v)).join(' | ') + (values.length > 5 ? ' | …' : '');
  const alts = branches(s);
  if (alts) return alts.slice(0, 4).map((b) => (isObject(b) ? describeType(b, depth + 1) : '?')).join(' | ');
  const types = typesOf(s);
  if (!types) return 'any';
  if (types.length > 1) return types.join(' | ');
  if (types[0] === 'array') return `${isObject(s.items) ? describeType(s.items, depth + 1) : 'any'}[]`;
  if (types[0] === 'object' && isObject(s.properties) && Object.keys(s.properties).length > 0) {
    const { properties, required } = fieldsOf(s);
    const names = Object.keys(properties);
    const parts = names.slice(0, 4).map((n) => `${n}${required.has(n) ? '' : '?'}: ${describeType(properties[n] as JsonSchema, depth + 1)}`);
    return `{${parts.join(', ')}${names.length > 4 ? ', …' : ''}}`;
  }
  return types[0] as string;
}
