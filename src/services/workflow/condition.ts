// Conditions (`when`, `until`): `<field> <op> <literal>`, nothing more, so a
// definition stays data and evaluation cannot run code. A hand-written scanner
// (no backtracking regex over user text) turns the text into a Condition or a
// WorkflowError naming the column.
import type { Condition, JsonSchema } from './types.js';
import { WorkflowCodes, WorkflowError, type WorkflowCode } from './errors.js';
import { typesOf, valueFits } from './typelang.js';

export const CONDITION_OPS = ['==', '!=', '<', '<=', '>', '>='] as const;
export const MAX_CONDITION_LENGTH = 1024;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const FIELD = /[A-Za-z_][A-Za-z0-9_]{0,63}/y;
const WORD_END = /[A-Za-z0-9_.]/;
// eslint-disable-next-line no-control-regex -- raw control characters are refused in 'single-quoted' literals
const CONTROL = /[\u0000-\u001f]/;
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Parses `text`; the reason (with its 1-based column) if it is not a condition. */
export function readCondition(text: string): Condition | { error: string } {
  if (typeof text !== 'string') return { error: 'must be a string like "score >= 0.8"' };
  if (text.length > MAX_CONDITION_LENGTH) return { error: `is ${text.length} characters; the limit is ${MAX_CONDITION_LENGTH}` };
  let i = 0;
  const skip = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const bad = (what: string) => ({ error: `${what} at column ${i + 1} of ${JSON.stringify(text)}; write <field> <op> <literal>, like "score >= 0.8" or "status == 'done'"` });
  skip();
  FIELD.lastIndex = i;
  const field = FIELD.exec(text)?.[0];
  if (!field) return bad('expected a field name');
  i += field.length;
  skip();
  const two = text.slice(i, i + 2);
  const op = (['==', '!=', '<=', '>='] as const).find((o) => o === two) ?? (text[i] === '<' || text[i] === '>' ? (text[i] as '<' | '>') : undefined);
  if (!op) return bad('expected one of == != < <= > >=');
  i += op.length;
  skip();
  const literal = readLiteral(text, i);
  if ('error' in literal) {
    i = literal.at;
    return bad(literal.error);
  }
  i = literal.end;
  skip();
  if (i < text.length) return bad('unexpected text after the literal');
  return { field, op, value: literal.value, text: text.trim() };
}

type Literal = { value: string | number | boolean | null; end: number } | { error: string; at: number };

function readLiteral(text: string, at: number): Literal {
  const c = text[at];
  if (c === '"' || c === "'") return readString(text, at, c);
  NUMBER.lastIndex = at;
  const num = NUMBER.exec(text)?.[0];
  if (num && !WORD_END.test(text[at + num.length] ?? '')) {
    const value = Number(num);
    if (!Number.isFinite(value)) return { error: `the number ${num} is out of range`, at };
    return { value: value === 0 ? 0 : value, end: at + num.length }; // -0 reads as 0
  }
  for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
    if (text.startsWith(word, at) && !WORD_END.test(text[at + word.length] ?? '')) return { value, end: at + word.length };
  }
  return { error: "expected a literal (a number, 'text', \"text\", true, false or null)", at };
}

/** 'single-quoted' (escapes: \' and \\) or "double-quoted" (JSON escapes). */
function readString(text: string, at: number, quote: string): Literal {
  let j = at + 1;
  while (j < text.length && text[j] !== quote) j += text[j] === '\\' ? 2 : 1;
  if (j >= text.length) return { error: 'unterminated string', at };
  const raw = text.slice(at + 1, j);
  let value: string;
  if (quote === '"') {
    try {
      value = JSON.parse(text.slice(at, j + 1)) as string;
    } catch {
      return { error: 'not a valid "double-quoted" string (JSON escapes only, no raw control characters)', at };
    }
  } else {
    value = '';
    for (let k = 0; k < raw.length; k++) {
      if (raw[k] !== '\\') {
        value += raw[k];
        continue;
      }
      const next = raw[++k];
      if (next !== "'" && next !== '\\') return { error: "only \\' and \\\\ are escapes in a 'single-quoted' string", at: at + k };
      value += next;
    }
    if (CONTROL.test(value)) return { error: 'control characters must be escaped; write them in a "double-quoted" string (\\t, \\n, \\u0000)', at };
  }
  if (LONE_SURROGATE.test(value)) return { error: 'the string is not valid Unicode (a lone surrogate)', at };
  return { value, end: j + 1 };
}

/** Parses a condition or throws WORKFLOW_INVALID naming `field`. */
export function parseCondition(text: string, field = 'condition'): Condition {
  const read = readCondition(text);
  if ('error' in read) throw new WorkflowError(WorkflowCodes.invalid, `${field}: ${read.error}`, { field });
  return read;
}

/** Canonical text: `field op literal`, strings double-quoted. parseCondition(formatCondition(c)) equals c but for `text`. */
export function formatCondition(c: Pick<Condition, 'field' | 'op' | 'value'>): string {
  return `${c.field} ${c.op} ${typeof c.value === 'string' ? JSON.stringify(c.value) : String(c.value)}`;
}

/**
 * Checks a condition against the fields it reads (`in` for when, the body's
 * output for until): the field exists and the literal can match its type.
 */
export function checkCondition(c: Condition, fields: JsonSchema, what: string): { code: WorkflowCode; message: string } | undefined {
  const properties = (fields.properties ?? {}) as Record<string, JsonSchema>;
  if (!Object.hasOwn(properties, c.field)) {
    const known = Object.keys(properties);
    return {
      code: WorkflowCodes.invalid,
      message: `"${c.text}" reads "${c.field}", which is not among ${what} (${known.length > 0 ? known.join(', ') : 'none'})`,
    };
  }
  const schema = properties[c.field] as JsonSchema;
  if (c.value === null) {
    return c.op === '==' || c.op === '!=' ? undefined : { code: WorkflowCodes.typeMismatch, message: `"${c.text}" orders against null` };
  }
  if (c.op === '==' || c.op === '!=') {
    return valueFits(c.value, schema) ? undefined : { code: WorkflowCodes.typeMismatch, message: `"${c.text}" compares "${c.field}" with a value its type can never hold` };
  }
  const kinds = typesOf(schema);
  const want = typeof c.value === 'number' ? ['number', 'integer'] : typeof c.value === 'string' ? ['string'] : [];
  if (want.length === 0 || (kinds && !kinds.every((k) => want.includes(k)))) {
    return { code: WorkflowCodes.typeMismatch, message: `"${c.text}" orders "${c.field}" (${kinds?.join(' | ') ?? 'any'}) against ${typeof c.value === 'boolean' ? 'a boolean' : `a ${typeof c.value}`}` };
  }
  return undefined;
}
