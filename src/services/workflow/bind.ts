// Binding: where each step input comes from, decided once at load time.
// In order: `from:` (an upstream step's output or the run input), `with:` (a
// constant), the same-named output of the nearest upstream step (a tie is an
// error asking for `from:`), the run input. Each source's type must fit.
import type { JsonSchema, Source } from './types.js';
import { WorkflowCodes } from './errors.js';
import { upstream } from './graph.js';
import type { Issues, IssuePath } from './problems.js';
import { describeType, fieldsOf, fits, objectSchema, valueFits } from './typelang.js';

export interface BindableStep {
  id: string;
  /** The step's path in the document, for messages and positions. */
  path: IssuePath;
  /** How messages name the step (`refine.draft` inside a loop body). */
  label: string;
  needs: readonly string[];
  in: JsonSchema;
  out: JsonSchema;
  from?: Readonly<Record<string, string>>;
  with?: Readonly<Record<string, unknown>>;
}

/** A field of a step's output or the run input, with its schema and whether it is always there. */
interface Offer {
  schema: JsonSchema;
  required: boolean;
  name: string;
}

const offerOf = (object: JsonSchema, field: string, name: string): Offer | undefined => {
  const { properties, required } = fieldsOf(object);
  return Object.hasOwn(properties, field) ? { schema: properties[field] as JsonSchema, required: required.has(field), name } : undefined;
};

/** Resolves `<step>.<field>` / `input.<field>` against the graph; a finding if it does not resolve. */
function resolveReference(
  ref: string, steps: ReadonlyMap<string, BindableStep>, input: JsonSchema, isUpstream: (id: string) => boolean,
): { source: Source; offer: Offer } | { code: typeof WorkflowCodes.unknownStep | typeof WorkflowCodes.unboundInput; message: string } {
  const dot = ref.indexOf('.');
  const [stepId, field] = [ref.slice(0, dot), ref.slice(dot + 1)];
  if (stepId === 'input') {
    const offer = offerOf(input, field, `input.${field}`);
    return offer ? { source: { from: 'input', field }, offer } : { code: WorkflowCodes.unboundInput, message: `the workflow input has no field "${field}"` };
  }
  const step = steps.get(stepId);
  if (!step) return { code: WorkflowCodes.unknownStep, message: `"${ref}" names step "${stepId}", which does not exist` };
  if (!isUpstream(stepId)) return { code: WorkflowCodes.unknownStep, message: `"${ref}" names step "${stepId}", which is not upstream (add it to needs)` };
  const offer = offerOf(step.out, field, ref);
  return offer
    ? { source: { from: 'step', step: stepId, field }, offer }
    : { code: WorkflowCodes.unboundInput, message: `step "${stepId}" has no output "${field}"` };
}

/** Source of every `in` field of every step (steps in list order, the graph acyclic). */
export function bindSteps(steps: readonly BindableStep[], input: JsonSchema, issues: Issues): Map<string, Record<string, Source>> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const needsOf = (id: string) => byId.get(id)?.needs;
  const result = new Map<string, Record<string, Source>>();
  for (const step of steps) {
    const above = upstream(step.id, needsOf);
    const target = fieldsOf(step.in);
    const bind: Record<string, Source> = {};
    for (const where of ['from', 'with'] as const) {
      for (const key of Object.keys(step[where] ?? {})) {
        if (!Object.hasOwn(target.properties, key)) {
          issues.add(WorkflowCodes.invalid, [...step.path, where, key], `step "${step.label}": "${key}" is not among the step's inputs (declare it under in:)`);
        } else if (where === 'with' && Object.hasOwn(step.from ?? {}, key)) {
          issues.add(WorkflowCodes.invalid, [...step.path, 'with', key], `step "${step.label}": input "${key}" is given both from: and with:; keep one`);
        }
      }
    }
    for (const [field, schema] of Object.entries(target.properties)) {
      const needed = target.required.has(field);
      const explicit = step.from?.[field];
      if (explicit !== undefined) {
        const r = resolveReference(explicit, byId, input, (id) => above.has(id));
        const at = [...step.path, 'from', field];
        if ('code' in r) issues.add(r.code, at, `step "${step.label}": input "${field}": ${r.message}`);
        else if (checkFit(step, field, r.offer, schema, needed, at, issues)) bind[field] = r.source;
        continue;
      }
      if (step.with && Object.hasOwn(step.with, field)) {
        const value = step.with[field];
        if (valueFits(value, schema)) bind[field] = { from: 'value', value };
        else issues.add(WorkflowCodes.typeMismatch, [...step.path, 'with', field], `step "${step.label}": input "${field}" expects ${describeType(schema)}; the constant given does not fit`);
        continue;
      }
      const found = nearestOffer(step, field, above, byId);
      const at = [...step.path, 'in', field];
      if (found && 'tie' in found) {
        issues.add(WorkflowCodes.unboundInput, at,
          `step "${step.label}": input "${field}" is offered by ${found.tie.map((id) => `${id}.${field}`).join(' and ')}, equally near; say which with from: { ${field}: ${found.tie[0]}.${field} }`);
      } else if (found) {
        if (checkFit(step, field, found.offer, schema, needed, at, issues)) bind[field] = { from: 'step', step: found.id, field };
      } else {
        const offer = offerOf(input, field, `input.${field}`);
        if (offer) {
          if (checkFit(step, field, offer, schema, needed, at, issues)) bind[field] = { from: 'input', field };
        } else if (needed) {
          issues.add(WorkflowCodes.unboundInput, at,
            `step "${step.label}": input "${field}" has no source: no upstream step outputs it and the workflow input lacks it (add it to input:, or use from: or with:)`);
        }
      }
    }
    result.set(step.id, bind);
  }
  return result;
}

/** The nearest upstream steps whose `out` has `field`: one, or a tie. */
function nearestOffer(step: BindableStep, field: string, above: ReadonlyMap<string, number>, byId: ReadonlyMap<string, BindableStep>):
  { id: string; offer: Offer } | { tie: string[] } | undefined {
  let best = Infinity;
  let found: { id: string; offer: Offer }[] = [];
  for (const [id, distance] of above) {
    const offer = offerOf((byId.get(id) as BindableStep).out, field, `${id}.${field}`);
    if (!offer || distance > best) continue;
    if (distance < best) [best, found] = [distance, []];
    found.push({ id, offer });
  }
  if (found.length > 1) return { tie: found.map((f) => f.id).sort() };
  return found[0];
}

function checkFit(step: BindableStep, field: string, offer: Offer, schema: JsonSchema, needed: boolean, at: IssuePath, issues: Issues): boolean {
  if (needed && !offer.required) {
    issues.add(WorkflowCodes.typeMismatch, at, `step "${step.label}": input "${field}" is required but its source ${offer.name} is optional (may be absent)`);
    return false;
  }
  const why = fits(offer.schema, schema);
  if (why) {
    issues.add(WorkflowCodes.typeMismatch, at, `step "${step.label}": input "${field}" expects ${describeType(schema)} but ${offer.name} is ${describeType(offer.schema)} (${why})`);
    return false;
  }
  return true;
}

/** The run output: each field's source, and the object schema those sources make. */
export function bindOutput(
  output: Readonly<Record<string, string>> | undefined, steps: readonly BindableStep[], input: JsonSchema, path: IssuePath, issues: Issues,
): { output: Record<string, Source>; schema: JsonSchema } {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const sources: Record<string, Source> = {};
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [field, ref] of Object.entries(output ?? {})) {
    const r = resolveReference(ref, byId, input, () => true);
    if ('code' in r) {
      issues.add(r.code, [...path, field], `output "${field}": ${r.message}`);
      continue;
    }
    sources[field] = r.source;
    properties[field] = r.offer.schema;
    if (r.offer.required) required.push(field);
  }
  return { output: sources, schema: objectSchema(properties, required) };
}
