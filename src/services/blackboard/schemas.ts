// Typed topics: `defineTopic(name, schema)` gives a topic (or every topic a glob
// selects) a schema — a zod schema or a JSON Schema (ajv, draft 2020-12) — and a
// write whose value fails it is refused with BLACKBOARD_INVALID_VALUE naming the
// failing path (`value.items.2`). An exact name wins over patterns; patterns are
// tried in the order they were defined. Untyped topics take any JSON data.

import type { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import type { z } from 'zod';
import { BlackboardCodes, BlackboardError } from './errors.js';
import { checkPattern, checkTopic, topicMatches } from './names.js';

/** A zod schema, or a JSON Schema object. */
export type TopicSchema = z.ZodType | Record<string, unknown>;

interface Compiled {
  name: string;
  check(value: unknown): { path: string[]; message: string } | undefined;
}

let ajv: InstanceType<typeof Ajv2020.default> | undefined;

export class TopicSchemas {
  private readonly exact = new Map<string, Compiled>();
  private readonly patterns: Compiled[] = [];

  /** Type a topic, or (a name with `*` or `?`) every topic the glob selects. A name is typed once. */
  define(name: string, schema: TopicSchema): void {
    const glob = /[*?]/.test(name);
    if (glob) checkPattern(name, 'name');
    else checkTopic(name, 'name');
    if (this.exact.has(name) || this.patterns.some((p) => p.name === name)) {
      throw new BlackboardError(BlackboardCodes.invalidOptions, `topic "${name}" already has a schema`, { field: 'name' });
    }
    const compiled = compile(name, schema);
    if (glob) this.patterns.push(compiled);
    else this.exact.set(name, compiled);
  }

  /** Names (topics and patterns) that have a schema. */
  list(): string[] {
    return [...this.exact.keys(), ...this.patterns.map((p) => p.name)];
  }

  /** Throws BLACKBOARD_INVALID_VALUE naming the failing path when the topic's schema refuses `value`. */
  check(topic: string, value: unknown): void {
    const schema = this.exact.get(topic) ?? this.patterns.find((p) => topicMatches(p.name, topic));
    if (!schema) return;
    const issue = schema.check(value);
    if (!issue) return;
    const field = ['value', ...issue.path].join('.');
    throw new BlackboardError(BlackboardCodes.invalidValue, `${field}: ${issue.message} (schema of topic "${schema.name}")`, {
      field,
      details: { topic, schema: schema.name },
    });
  }
}

function compile(name: string, schema: TopicSchema): Compiled {
  if (typeof (schema as { safeParse?: unknown }).safeParse === 'function') {
    const zod = schema as z.ZodType;
    return {
      name,
      check(value) {
        const r = zod.safeParse(value);
        if (r.success) return undefined;
        const issue = r.error.issues[0];
        return { path: (issue?.path ?? []).map(String), message: issue?.message ?? 'invalid' };
      },
    };
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new BlackboardError(BlackboardCodes.invalidOptions, `schema of topic "${name}" must be a zod schema or a JSON Schema object`, { field: 'schema' });
  }
  let validate: ValidateFunction;
  try {
    // `$schema` / `$id` would make ajv look up or register by URI; the schema is used as given.
    const { $schema: _s, $id: _i, ...body } = schema as Record<string, unknown>;
    ajv ??= new Ajv2020.default({ allErrors: false, strict: false });
    validate = ajv.compile(body);
  } catch (err) {
    throw new BlackboardError(BlackboardCodes.invalidOptions, `schema of topic "${name}" is not a valid JSON Schema: ${(err as Error).message}`, { field: 'schema', cause: err });
  }
  return {
    name,
    check(value) {
      if (validate(value)) return undefined;
      const e = validate.errors?.[0];
      if (!e) return { path: [], message: 'invalid' };
      const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      const missing = (e.params as { missingProperty?: string }).missingProperty;
      if (e.keyword === 'required' && missing) path.push(missing);
      return { path, message: e.message ?? e.keyword };
    },
  };
}
