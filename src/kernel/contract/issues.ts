// Turns validation findings into ContractErrors whose messages name the file,
// line:column and field path (`guard.agent.yaml:7:5: class.slo.period_ms: must be > 0 (got 0)`).
// Every message is built here, so wording and codes stay uniform.
import type { z } from 'zod';
import { ContractError } from '../../base/errors.js';

/** Stable codes of contract errors (all thrown as ContractError). */
export const ContractErrorCodes = {
  /** The contract is well-formed YAML/JSON but violates the schema or a semantic rule. */
  invalid: 'CONTRACT_INVALID',
  /** The text is not acceptable YAML (syntax, duplicate keys, tags, several documents, binary data). */
  yaml: 'CONTRACT_YAML',
  /** A resource limit was hit: file size, string length, nesting depth, node count, alias expansion. */
  tooLarge: 'CONTRACT_TOO_LARGE',
  /** `apiVersion` is missing or not supported. */
  version: 'CONTRACT_VERSION',
  /** A configuration layer tried to loosen a higher-authority `must`, or layers conflict. */
  merge: 'CONTRACT_MERGE',
  /** The contract file could not be read. */
  read: 'CONTRACT_READ',
} as const;
export type ContractErrorCode = (typeof ContractErrorCodes)[keyof typeof ContractErrorCodes];

export type IssuePath = readonly (string | number)[];
export interface ContractIssue {
  path: IssuePath;
  message: string;
}
export interface SourcePosition {
  line: number;
  col: number;
}
export interface IssueContext {
  /** File name, `<inline>` for text, `<object>` for parsed input, or a layer name. */
  source: string;
  /** Maps a field path to a line:column in the source, when there is one. */
  locate?: (path: IssuePath) => SourcePosition | undefined;
  /** Merge layer the issue belongs to (`request`, `tenant`…), when known. */
  layer?: (path: IssuePath) => string | undefined;
}

export function formatPath(path: IssuePath): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** A short, bounded rendering of an input value for messages. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return `${typeof value} ${showValue(value)}`;
}

const EXPECTED: Record<string, string> = {
  object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', int: 'an integer',
  boolean: 'true or false', nonoptional: 'a value',
};

type RawIssue = z.core.$ZodRawIssue;

/** zod per-parse error map: plain-language messages that quote the offending value. */
export function describeZodIssue(iss: RawIssue): string | undefined {
  const input = iss.input;
  switch (iss.code) {
    case 'invalid_type':
      if (input === undefined) return 'is required';
      return `must be ${EXPECTED[iss.expected] ?? iss.expected}, got ${typeName(input)}`;
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at least ${min} item${min === 1 ? '' : 's'}`;
      return `must be ${iss.inclusive ? '>=' : '>'} ${min} (got ${showValue(input)})`;
    }
    case 'too_big': {
      const max = Number(iss.maximum);
      if (iss.origin === 'string') return `must be at most ${max} characters (got ${String((input as string).length)})`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at most ${max} items (got ${String((input as unknown[]).length)})`;
      return `must be ${iss.inclusive ? '<=' : '<'} ${max} (got ${showValue(input)})`;
    }
    case 'invalid_value': {
      const values = iss.values.map((v) => (typeof v === 'string' ? v : String(v)));
      if (input === undefined) return values.length === 1 ? `is required (${JSON.stringify(iss.values[0])})` : `is required; one of ${values.join(', ')}`;
      if (values.length === 1) return `must be ${JSON.stringify(iss.values[0])} (got ${showValue(input)})`;
      return `must be one of ${values.join(', ')} (got ${showValue(input)})`;
    }
    case 'invalid_format':
      return `must match ${iss.pattern ?? iss.format} (got ${showValue(input)})`;
    case 'invalid_union':
      if ('discriminator' in iss && iss.discriminator === 'latency') {
        const value = (input as Record<string, unknown> | undefined)?.latency;
        const valid = (iss as { options?: unknown[] }).options?.join(', ') ?? 'HRT, SRT, DT';
        return value === undefined
          ? `is required; valid latency classes: ${valid}`
          : `unknown latency class ${showValue(value)}; valid latency classes: ${valid}`;
      }
      return `does not match any allowed form (got ${showValue(input)})`;
    case 'invalid_key':
      return `invalid key ${showValue(input)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(iss.divisor)} (got ${showValue(input)})`;
    default:
      return undefined;
  }
}

const KNOWN_FIELDS_HINT_LIMIT = 2;

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = KNOWN_FIELDS_HINT_LIMIT + 1;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** Flattens zod issues to one ContractIssue per offending field. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], knownKeys: (path: IssuePath) => readonly string[]): ContractIssue[] {
  const out: ContractIssue[] = [];
  for (const iss of issues) {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeys(path);
      for (const key of iss.keys) out.push({ path: [...path, key], message: `unknown field${suggestion(key, known)}` });
    } else {
      out.push({ path, message: iss.message });
    }
  }
  return out;
}

const MAX_LISTED = 20;

/** One line per issue, prefixed by source, position and layer where known. */
export function formatIssue(issue: ContractIssue, ctx: IssueContext): string {
  const pos = ctx.locate?.(issue.path);
  const layer = ctx.layer?.(issue.path);
  const where = pos ? `${ctx.source}:${pos.line}:${pos.col}` : ctx.source;
  return `${where}: ${layer ? `${layer}: ` : ''}${formatPath(issue.path)}: ${issue.message}`;
}

/** Builds the ContractError for a non-empty list of issues. */
export function contractError(code: ContractErrorCode, issues: readonly ContractIssue[], ctx: IssueContext, cause?: unknown): ContractError {
  const first = issues[0] ?? { path: [], message: 'invalid contract' };
  const lines = issues.slice(0, MAX_LISTED).map((i) => formatIssue(i, ctx));
  if (issues.length > MAX_LISTED) lines.push(`… and ${issues.length - MAX_LISTED} more`);
  const details = issues.map((i) => {
    const pos = ctx.locate?.(i.path);
    const layer = ctx.layer?.(i.path);
    return { field: formatPath(i.path), message: i.message, ...(pos ?? {}), ...(layer ? { layer } : {}) };
  });
  const firstPos = ctx.locate?.(first.path);
  return new ContractError(code, lines.join('\n'), {
    field: formatPath(first.path),
    cause,
    details: { source: ctx.source, ...(firstPos ?? {}), issues: details },
  });
}
