// Safe YAML intake for contracts: bounded size, UTF-8 only, one document,
// YAML 1.2 core schema, unique keys, no custom tags, no prototype keys, bounded
// alias expansion. Keeps the document so field paths map back to line:column.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CST, Lexer, LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node } from 'yaml';
import { ContractError } from '../../base/errors.js';
import { FORBIDDEN_KEYS, type ContractLimits } from './guard.js';
import { ContractErrorCodes, contractError, type ContractErrorCode, type IssuePath, type SourcePosition } from './issues.js';

export interface ContractSource {
  text: string;
  /** File path as given, or `<inline>`. */
  source: string;
}

export interface ParsedYaml {
  data: unknown;
  source: string;
  locate: (path: IssuePath) => SourcePosition | undefined;
}

const fail = (code: ContractErrorCode, source: string, message: string, pos?: SourcePosition, path: IssuePath = [], cause?: unknown) =>
  contractError(code, [{ path, message }], { source, locate: () => pos }, cause);

/** Text if it has a newline or starts with `apiVersion` or `{`; otherwise a file path. */
export function looksLikeContractText(input: string): boolean {
  const head = input.trimStart();
  return input.includes('\n') || head.startsWith('apiVersion') || head.startsWith('{');
}

/** Resolves the text/path heuristic and reads the file with size and UTF-8 checks. */
export function readContractSource(input: string | URL, limits: ContractLimits, filename?: string): ContractSource {
  if (typeof input === 'string' && looksLikeContractText(input)) {
    const source = filename ?? '<inline>';
    const bytes = Buffer.byteLength(input, 'utf8');
    if (bytes > limits.maxBytes) throw fail(ContractErrorCodes.tooLarge, source, `contract is ${bytes} bytes; the limit is ${limits.maxBytes}`);
    return { text: input, source };
  }
  const path = input instanceof URL ? fileURLToPath(input) : input;
  const source = filename ?? path;
  let buf: Buffer;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw fail(ContractErrorCodes.read, source, 'is not a regular file');
    if (st.size > limits.maxBytes) throw fail(ContractErrorCodes.tooLarge, source, `contract file is ${st.size} bytes; the limit is ${limits.maxBytes}`);
    buf = readFileSync(path);
  } catch (err) {
    if (err instanceof ContractError) throw err;
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw fail(ContractErrorCodes.read, source, `cannot read contract file (${reason}); pass YAML text with a newline or starting with "apiVersion" to parse text instead`, undefined, [], err);
  }
  if (buf.length > limits.maxBytes) throw fail(ContractErrorCodes.tooLarge, source, `contract file is ${buf.length} bytes; the limit is ${limits.maxBytes}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (err) {
    throw fail(ContractErrorCodes.yaml, source, 'is not valid UTF-8 text (binary file?)', undefined, [], err);
  }
  return { text, source };
}

// C0 controls other than tab/LF/CR, DEL, C1 controls other than NEL, and the noncharacters U+FFFE/U+FFFF.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u0080-\u0084\u0086-\u009F\uFFFE\uFFFF]/;

function keyText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null ? '' : undefined;
}

/** Parses exactly one YAML mapping document under the given limits. */
export function parseContractYaml(src: ContractSource, limits: ContractLimits): ParsedYaml {
  const { source } = src;
  const text = src.text.startsWith('\uFEFF') ? src.text.slice(1) : src.text;
  const lc = new LineCounter();
  const at = (offset: number | undefined): SourcePosition | undefined => (offset === undefined ? undefined : lc.linePos(offset));

  const ctl = CONTROL.exec(text);
  if (ctl) {
    const code = (ctl[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
    throw fail(ContractErrorCodes.yaml, source, `contains control character U+${code} (binary data?)`, positionAt(text, ctl.index));
  }
  const heavy = prescan(text, limits);
  if (heavy) throw fail(ContractErrorCodes.tooLarge, source, heavy.message, positionAt(text, heavy.offset));

  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, {
      lineCounter: lc, version: '1.2', schema: 'core', uniqueKeys: false, strict: true, merge: false, prettyErrors: false,
    }) as Document.Parsed[];
  } catch (err) {
    throw fail(ContractErrorCodes.yaml, source, `cannot parse YAML: ${err instanceof Error ? err.message : String(err)}`, undefined, [], err);
  }
  if (!Array.isArray(docs) || docs.length === 0) throw fail(ContractErrorCodes.yaml, source, 'is empty; expected a contract mapping');
  const doc = docs[0] as Document.Parsed;
  for (const d of docs) {
    const problem = d.errors[0] ?? d.warnings[0];
    if (problem) {
      const resource = problem.code === 'RESOURCE_EXHAUSTION';
      const message = problem.message.split(' at line ')[0] as string;
      throw fail(resource ? ContractErrorCodes.tooLarge : ContractErrorCodes.yaml, source,
        resource ? `YAML is too deeply nested (${message})` : `YAML ${problem.code}: ${message}`, at(problem.pos[0]), [], problem);
    }
  }
  if (docs.length > 1) {
    throw fail(ContractErrorCodes.yaml, source, `holds ${docs.length} YAML documents; a contract is exactly one`, at((docs[1] as Document.Parsed).range[0]));
  }

  const root = doc.contents;
  if (!isMap(root)) {
    const got = root === null ? 'nothing' : isSeq(root) ? 'a list' : isAlias(root) ? 'an alias' : 'a scalar';
    throw fail(ContractErrorCodes.invalid, source, `the document must be a mapping, got ${got}`, at(root?.range?.[0] ?? 0));
  }
  walkNodes(root, source, limits, at);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/alias count/i.test(msg)) {
      throw fail(ContractErrorCodes.tooLarge, source, `aliases expand beyond maxAliasCount ${limits.maxAliasCount} (YAML bomb?)`, undefined, [], err);
    }
    throw fail(ContractErrorCodes.yaml, source, `cannot resolve YAML: ${msg}`, undefined, [], err);
  }
  return { data, source, locate: (path) => locateNode(doc, path, at) };
}

/** 1-based line and column of a character offset, before any parse has run. */
function positionAt(text: string, offset: number): SourcePosition {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, col: offset - before.lastIndexOf('\n') };
}

const SCALAR_TOKENS = new Set(['scalar', 'single-quoted-scalar', 'double-quoted-scalar', 'block-scalar-header', 'alias']);

/**
 * Linear pre-scan with yaml's lexer: the recursive composer spends seconds on
 * a 256 KiB file of nested brackets before giving up, so depth and value count
 * are bounded first. Flow depth is exact; block depth is bounded by indentation
 * plus compact `-`/`?` indicators (each level needs one), at most 8 columns a level.
 */
function prescan(text: string, limits: ContractLimits): { message: string; offset: number } | undefined {
  const maxDepth = limits.maxDepth;
  let scalars = 0;
  let flow = 0;
  let lineLevel = 0;
  let atLineStart = true;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    // The lexer interleaves one-character markers that are not part of the source.
    const width = token === CST.DOCUMENT || token === CST.FLOW_END || token === CST.SCALAR ? 0 : token.length;
    if (type && SCALAR_TOKENS.has(type) && ++scalars > limits.maxNodes) {
      return { message: `has more than ${limits.maxNodes} values`, offset };
    }
    if (type === 'flow-seq-start' || type === 'flow-map-start') {
      if (++flow > maxDepth) return { message: `nesting is deeper than ${maxDepth} levels`, offset };
    } else if (type === 'flow-seq-end' || type === 'flow-map-end') {
      flow = Math.max(0, flow - 1);
    } else if (type === 'newline') {
      lineLevel = 0;
      atLineStart = true;
      offset += width;
      continue;
    } else if (type === 'space' && atLineStart) {
      lineLevel += token.length;
    } else if (type === 'seq-item-ind' || type === 'explicit-key-ind') {
      lineLevel += 2;
    }
    if (lineLevel > maxDepth * 8) return { message: `block nesting is deeper than ${maxDepth} levels (indentation ${lineLevel})`, offset };
    atLineStart = atLineStart && (type === 'space' || width === 0);
    offset += width;
  }
  return undefined;
}

/** Iterative AST walk: keys must be scalars and not prototype keys; strings bounded; depth bounded. */
function walkNodes(root: Node, source: string, limits: ContractLimits, at: (o: number | undefined) => SourcePosition | undefined): void {
  const stack: { node: unknown; depth: number; path: IssuePath }[] = [{ node: root, depth: 0, path: [] }];
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop() as { node: unknown; depth: number; path: IssuePath };
    if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.length > limits.maxStringLength) {
        throw fail(ContractErrorCodes.tooLarge, source, `string of ${node.value.length} characters exceeds the limit of ${limits.maxStringLength}`, at(node.range?.[0]), path);
      }
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue; // aliases and empty values
    if (depth >= limits.maxDepth) {
      throw fail(ContractErrorCodes.tooLarge, source, `nesting is deeper than ${limits.maxDepth} levels`, at(node.range?.[0]), path);
    }
    if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push({ node: item, depth: depth + 1, path: [...path, i] }));
      continue;
    }
    // Duplicate keys are found here in linear time (yaml's uniqueKeys is quadratic),
    // comparing keys as JS sees them: `1` and "1" collide.
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = keyText(pair.key);
      const keyPos = at((pair.key as Node | null)?.range?.[0]);
      if (key === undefined) throw fail(ContractErrorCodes.yaml, source, 'mapping keys must be plain scalars', keyPos, path);
      if (seen.has(key)) throw fail(ContractErrorCodes.yaml, source, `duplicate key "${key.slice(0, 40)}"`, keyPos, [...path, key]);
      seen.add(key);
      if (FORBIDDEN_KEYS.has(key)) throw fail(ContractErrorCodes.invalid, source, `key "${key}" is forbidden (prototype pollution)`, keyPos, [...path, key]);
      if (key.length > limits.maxStringLength) {
        throw fail(ContractErrorCodes.tooLarge, source, `a key of ${key.length} characters exceeds the limit of ${limits.maxStringLength}`, keyPos, path);
      }
      stack.push({ node: pair.value, depth: depth + 1, path: [...path, key] });
    }
  }
}

/**
 * Position of the deepest node on `path`: the key of a mapping entry (so
 * `period_ms: 0` points at `period_ms`), or the item of a list. A missing
 * field points at its parent's key.
 */
function locateNode(doc: Document.Parsed, path: IssuePath, at: (o: number | undefined) => SourcePosition | undefined): SourcePosition | undefined {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0];
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return at(offset);
}
