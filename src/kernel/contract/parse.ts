// Entry points that turn YAML text, a file or a JS value into a validated
// Contract. Every failure, including unexpected ones, leaves as a ContractError
// with a stable code; nothing is returned that has not passed every check.
import { AgentOsError, ContractError, ErrorCodes } from '../../base/errors.js';
import { DEFAULT_LIMITS, guardTree, type ContractLimits } from './guard.js';
import {
  ContractErrorCodes, contractError, describeZodIssue, fromZodIssues, showValue, type IssueContext, type IssuePath,
} from './issues.js';
import { contractSemanticIssues } from './semantics.js';
import { ContractSchema, SUPPORTED_API_VERSIONS, type Contract } from './schema.js';
import { parseContractYaml, readContractSource } from './yaml.js';

export interface ContractOptions extends Partial<ContractLimits> {
  /** Name to report for inline text (default `<inline>`) or instead of the path. */
  filename?: string;
}

/** Limits from options, each a positive integer (a programmer error otherwise). */
export function resolveLimits(opts: ContractOptions = {}): ContractLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ContractLimits)[]) {
    const v = opts[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < (key === 'maxAliasCount' ? -1 : 1)) {
      throw new AgentOsError(ErrorCodes.invalidOptions, `contract option ${key} must be a positive integer (got ${showValue(v)})`, { field: key });
    }
    limits[key] = v;
  }
  return limits;
}

/** Candidate sub-schemas along a path (unions fan out), for "did you mean" hints. */
function knownKeysAt(path: IssuePath): string[] {
  let current: any[] = [ContractSchema];
  const unwrap = (s: any): any[] => {
    const def = s?._zod?.def;
    if (!def) return [];
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') return unwrap(def.innerType);
    if (def.type === 'union') return def.options.flatMap(unwrap);
    if (def.type === 'pipe') return unwrap(def.in);
    return [s];
  };
  for (const seg of path) {
    current = current.flatMap(unwrap).flatMap((s) => {
      const def = s._zod.def;
      if (def.type === 'object') return def.shape[seg] ? [def.shape[seg]] : [];
      if (def.type === 'array' && typeof seg === 'number') return [def.element];
      if (def.type === 'record') return [def.valueType];
      return [];
    });
  }
  const keys = current.flatMap(unwrap).flatMap((s) => (s._zod.def.type === 'object' ? Object.keys(s._zod.def.shape) : []));
  return [...new Set(keys)];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The whole validation pipeline over already-parsed data. Throws ContractError. */
export function validateContractData(data: unknown, ctx: IssueContext, limits: ContractLimits): Contract {
  const finding = guardTree(data, limits);
  if (finding) {
    throw contractError(finding.kind === 'limit' ? ContractErrorCodes.tooLarge : ContractErrorCodes.invalid, [finding.issue], ctx);
  }
  if (!isPlainObject(data)) {
    throw contractError(ContractErrorCodes.invalid, [{ path: [], message: `the contract must be a mapping, got ${showValue(data)}` }], ctx);
  }
  const version = data.apiVersion;
  if (version === undefined || !(SUPPORTED_API_VERSIONS as readonly unknown[]).includes(version)) {
    const supported = SUPPORTED_API_VERSIONS.join(', ');
    const message = version === undefined ? `is required; supported versions: ${supported}` : `unsupported version ${showValue(version)}; supported versions: ${supported}`;
    throw contractError(ContractErrorCodes.version, [{ path: ['apiVersion'], message }], ctx);
  }
  const parsed = ContractSchema.safeParse(data, { error: describeZodIssue });
  if (!parsed.success) {
    throw contractError(ContractErrorCodes.invalid, fromZodIssues(parsed.error.issues, knownKeysAt), ctx, parsed.error);
  }
  const { $schema: _editorHint, ...contract } = parsed.data;
  const semantic = contractSemanticIssues(contract);
  if (semantic.length > 0) throw contractError(ContractErrorCodes.invalid, semantic, ctx);
  return contract;
}

/** Wraps anything that is not already a ContractError; the API never leaks raw exceptions. */
export function asContractError(err: unknown, source: string): ContractError | AgentOsError {
  if (err instanceof ContractError || (err instanceof AgentOsError && err.code === ErrorCodes.invalidOptions)) return err;
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const code = err instanceof RangeError ? ContractErrorCodes.tooLarge : ContractErrorCodes.invalid;
  return contractError(code, [{ path: [], message: `cannot be processed (${reason.slice(0, 200)})` }], { source }, err);
}

/**
 * Validates an already-parsed value (JSON, or an object built in code) with the
 * same limits and rules as YAML. Returns a fresh object; the input is not mutated.
 */
export function parseContract(input: unknown, opts: ContractOptions = {}): Contract {
  const source = opts.filename ?? '<object>';
  try {
    return validateContractData(input, { source }, resolveLimits(opts));
  } catch (err) {
    throw asContractError(err, source);
  }
}

/**
 * Loads a contract from YAML text or a file path (text if it contains a
 * newline or starts with `apiVersion` or `{`; otherwise a path; a URL is a path).
 * Errors name `file:line:col: field.path`.
 */
export function loadContract(pathOrText: string | URL, opts: ContractOptions = {}): Contract {
  return withSource(pathOrText, opts, (yaml, source, limits) => validateContractData(yaml.data, { source, locate: yaml.locate }, limits));
}

/** Read and parse safely, then `use` the document; any failure becomes a ContractError naming the source. */
function withSource<T>(
  pathOrText: string | URL,
  opts: ContractOptions,
  use: (yaml: ReturnType<typeof parseContractYaml>, source: string, limits: ReturnType<typeof resolveLimits>) => T,
): T {
  let source = opts.filename ?? (typeof pathOrText === 'string' ? '<inline>' : pathOrText.href);
  try {
    const limits = resolveLimits(opts);
    const src = readContractSource(pathOrText, limits, opts.filename);
    source = src.source;
    return use(parseContractYaml(src, limits), source, limits);
  } catch (err) {
    throw asContractError(err, source);
  }
}

/**
 * Reads one configuration layer (tenant policy, role template, platform
 * defaults) for mergeContractLayers with the same YAML safety as loadContract.
 * Only the structure is checked here; fields are validated by the merge.
 */
export function loadContractLayer(pathOrText: string | URL, opts: ContractOptions = {}): Record<string, unknown> {
  return withSource(pathOrText, opts, (yaml, source, limits) => {
    const finding = guardTree(yaml.data, limits);
    if (finding) {
      throw contractError(finding.kind === 'limit' ? ContractErrorCodes.tooLarge : ContractErrorCodes.invalid, [finding.issue], { source, locate: yaml.locate });
    }
    return yaml.data as Record<string, unknown>;
  });
}
