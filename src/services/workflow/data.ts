// Data flow of a run: a step's inputs bound from the run's input and upstream
// outputs, its conditions, and schema checks at run time (the loader has already
// checked that the types fit; these catch what an agent actually answers).

import { hashArgs } from '../../kernel/policy/canonical.js';
import { jsonSchemaValidator, type SchemaValidator } from '../tools/schema.js';
import { WorkflowError, type WorkflowCodes } from './errors.js';
import type { RunRecord } from './records.js';
import type { Condition, JsonSchema, Source } from './types.js';

/** The value of each bound field; fields whose source is missing (a skipped step) are left out. */
export function bindInputs(bind: Record<string, Source>, run: Pick<RunRecord, 'input' | 'steps'>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, source] of Object.entries(bind)) {
    const value = sourceValue(source, run);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

function sourceValue(source: Source, run: Pick<RunRecord, 'input' | 'steps'>): unknown {
  if (source.from === 'value') return source.value;
  if (source.from === 'input') return run.input[source.field];
  const output = run.steps[source.step]?.output as Record<string, unknown> | undefined;
  return output?.[source.field];
}

/** A missing field reads as null (so `x == null` holds when `x` is absent); only own fields are read. */
export function holds(condition: Condition, data: Record<string, unknown>): boolean {
  const v = Object.hasOwn(data, condition.field) ? (data[condition.field] ?? null) : null;
  const w = condition.value;
  switch (condition.op) {
    case '==':
      return v === w;
    case '!=':
      return v !== w;
    default: {
      if (typeof v !== typeof w || (typeof v !== 'number' && typeof v !== 'string')) return false;
      const a = v as number | string;
      const b = w as number | string;
      return condition.op === '<' ? a < b : condition.op === '<=' ? a <= b : condition.op === '>' ? a > b : a >= b;
    }
  }
}

/** Checks `value` against `schema`; `code` says whose fault a mismatch is (input or output). */
const validators = new WeakMap<JsonSchema, SchemaValidator>();

export function check(schema: JsonSchema, value: unknown, what: string, code: typeof WorkflowCodes.badInput | typeof WorkflowCodes.badOutput): void {
  // Definitions are immutable once loaded: one compiled validator per schema object.
  let validator = validators.get(schema);
  if (!validator) validators.set(schema, (validator = jsonSchemaValidator(schema, what)));
  const verdict = validator.check(value, what);
  if (!verdict.ok) throw new WorkflowError(code, `${what}: ${verdict.summary}`, { field: `${what}.${verdict.field}` });
}

export function digest(value: unknown): string {
  return hashArgs(value ?? null);
}
