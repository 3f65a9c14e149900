// What a lineage record holds, and how one call becomes an entry of it: the
// turn (actor, turn number, message, trace and span ids) and its sensitive
// calls in order — model calls with the SHA-256 of their prompt, retrievals
// with their sources and chunk hashes, tool calls with their version and the
// hash of their arguments — each with its outcome. Text (redacted, capped) is
// kept only for the fields the actor's contract lists in
// `observability.log_fields`: `prompt`, `args`, `output`. Pure functions.

import { canonicalJson, sha256Hex } from '../../base/canonical.js';
import { AgentOsError } from '../../base/errors.js';
import type { SyscallRequest } from '../../kernel/governance.js';

/** The `log_fields` that let text into a record: prompts (and retrieval queries), tool arguments, outputs. */
export const LINEAGE_TEXT_FIELDS = ['prompt', 'args', 'output'] as const;
export type LineageTextField = (typeof LINEAGE_TEXT_FIELDS)[number];

/** Longest text kept per field, in characters of JSON; longer text is cut (the hash covers it all). */
export const TEXT_CAP = 4096;
/** Most calls recorded per turn (later ones are counted in `omitted`). */
export const CALLS_CAP = 256;
/** Most sources recorded per retrieval. */
const SOURCES_CAP = 64;

/** A hash (lowercase hex SHA-256 of the canonical JSON), with the redacted text when the contract allows it. */
export interface Digest {
  hash: string;
  text?: unknown;
  /** The text was cut at TEXT_CAP characters. */
  truncated?: true;
}

export type LineageCallKind = 'model' | 'retrieval' | 'tool' | 'memory';

export interface LineageSource {
  sourceId: string;
  chunk: number;
  /** SHA-256 of the chunk's text. */
  hash: string;
  /** The citation ref (`rag.passage` takes it). */
  ref: string;
}

export interface LineageCall {
  /** Position in the turn, from 0. */
  index: number;
  kind: LineageCallKind;
  /** The model id, `rag.query`, the tool name or the memory operation. */
  name: string;
  /** Node clock when the kernel took the call. */
  at: number;
  /** How long it took (node clock, ms); absent while pending. */
  ms?: number;
  outcome: 'pending' | 'ok' | 'error';
  /** The error code of a failed call. */
  code?: string;
  /** The call's `agentos.syscall` span (with telemetry on). */
  spanId?: string;
  /** A persistent caller's idempotency key: the call's entry in the effect journal. */
  key?: string;
  onBehalfOf?: string;
  /** Model: the messages sent. */
  prompt?: Digest;
  /** Retrieval: the query. */
  query?: Digest;
  /** Tool and memory calls: the arguments. */
  args?: Digest;
  /** The result: a model's answer (text and tool calls), a retrieval's citations, a tool's output. */
  output?: Digest;
  /** Model: the model that answered (after escalation or fallback), and its usage. */
  model?: string;
  tokens?: { prompt: number; completion: number };
  /** Retrieval: the passages' sources, in rank order. */
  sources?: LineageSource[];
  grounded?: boolean;
  /** Tool: the version that ran and its manifest hash. */
  version?: string;
  manifest?: string;
}

export interface LineageTurn {
  /** Store order (increasing over the node's history). */
  seq: number;
  node: string;
  actor: string;
  /** The actor's turn number (a persistent actor's survives restarts; others count from 1 per node run). */
  turn: number;
  tenant: string;
  message: { id: string; type: string; from?: string; conversation?: string };
  /** W3C trace id of the turn (its `agentos.deliver` span's, or the one its message carried). */
  traceId?: string;
  /** The turn's `agentos.deliver` span (with telemetry on). */
  spanId?: string;
  /** The span that sent the message (another actor's turn, a workflow step, a caller). */
  parentSpanId?: string;
  /** Node clock when the message was delivered. */
  at: number;
  /** `log_fields` in force for this turn (text kept only for these). */
  fields: LineageTextField[];
  calls: LineageCall[];
  /** Calls past CALLS_CAP: counted, not recorded. */
  omitted?: number;
}

export const LineageCodes = {
  badId: 'LINEAGE_BAD_ID',
  notFound: 'LINEAGE_NOT_FOUND',
  off: 'LINEAGE_OFF',
} as const;

/** A lineage query the node cannot answer: a malformed id, an unknown one, a node that records none. */
export class LineageError extends AgentOsError {}

const TRACE_ID = /^[0-9a-f]{32}$/;
const ZERO_TRACE = '0'.repeat(32);
const TURN_ID = /^([A-Za-z0-9][\w.:@-]{0,127})#([1-9]\d{0,14})$/;

export type LineageId = { traceId: string } | { actor: string; turn: number };

/** A trace id (32 lowercase hex digits, not all zero) or `<actor>#<turn>`; anything else is LINEAGE_BAD_ID. */
export function parseLineageId(id: unknown): LineageId {
  if (typeof id === 'string' && TRACE_ID.test(id) && id !== ZERO_TRACE) return { traceId: id };
  const m = typeof id === 'string' ? TURN_ID.exec(id) : null;
  if (m) return { actor: m[1]!, turn: Number(m[2]) };
  const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : typeof id;
  throw new LineageError(LineageCodes.badId, `lineage id ${shown} is neither a trace id (32 lowercase hex digits) nor <actor>#<turn> (e.g. planner#3)`, { field: 'id' });
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** Trace and parent span ids of a W3C traceparent, if it is well formed. */
export function parseTraceparent(traceparent: string | undefined): { traceId: string; spanId: string } | undefined {
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (!m || m[1] === ZERO_TRACE || m[2] === '0'.repeat(16)) return undefined;
  return { traceId: m[1]!, spanId: m[2]! };
}

/** The log_fields of a contract that let text in. */
export function textFields(logFields: readonly string[] | undefined): LineageTextField[] {
  return LINEAGE_TEXT_FIELDS.filter((f) => logFields?.includes(f));
}

/** SHA-256 (hex) of the canonical JSON of `value`; a value JSON cannot carry exactly hashes its JSON.stringify form. */
export function hashOf(value: unknown): string {
  try {
    return sha256Hex(canonicalJson(value === undefined ? null : value));
  } catch {
    return sha256Hex(looseJson(value));
  }
}

function looseJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}

/** The digest of `value`; with `redact`, its redacted text too (cut at TEXT_CAP). */
export function digest(value: unknown, redact: ((v: unknown) => unknown) | undefined): Digest {
  const out: Digest = { hash: hashOf(value) };
  if (!redact) return out;
  const clean = redact(value === undefined ? null : value);
  const json = looseJson(clean);
  if (json.length <= TEXT_CAP) out.text = clean;
  else {
    out.text = `${json.slice(0, TEXT_CAP)}…`;
    out.truncated = true;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which kind of entry a syscall makes: `rag.query` is a retrieval, other memory operations are memory calls. */
export function callKind(request: Pick<SyscallRequest, 'kind' | 'name'>): LineageCallKind {
  if (request.kind === 'memory') return request.name === 'rag.query' ? 'retrieval' : 'memory';
  return request.kind;
}

/** A text redactor for `field`, or undefined when the turn keeps no text for it. */
export type TextPolicy = (field: LineageTextField) => ((v: unknown) => unknown) | undefined;

/** The entry of a call as it starts: what was asked, hashed (and, where allowed, its redacted text). */
export function startCall(request: SyscallRequest, index: number, at: number, text: TextPolicy, ids: { spanId?: string | undefined; key?: string | undefined } = {}): LineageCall {
  const kind = callKind(request);
  const call: LineageCall = { index, kind, name: request.name, at, outcome: 'pending' };
  if (ids.spanId !== undefined) call.spanId = ids.spanId;
  if (ids.key !== undefined) call.key = ids.key;
  if (request.onBehalfOf !== undefined) call.onBehalfOf = request.onBehalfOf;
  const args = request.args;
  if (kind === 'model') {
    // The prompt is the messages as the agent sent them (before the gateway's window and de-identification).
    call.prompt = digest(isObject(args) && Array.isArray(args.messages) ? args.messages : args, text('prompt'));
  } else if (kind === 'retrieval') {
    call.query = digest(isObject(args) ? args.query : args, text('prompt'));
  } else {
    call.args = digest(args, text('args'));
  }
  return call;
}

/** The entry completed with the call's outcome, at `at` (node clock). */
export function endCall(call: LineageCall, at: number, text: TextPolicy, error: unknown, result?: unknown): void {
  call.ms = Math.max(0, at - call.at);
  if (error !== undefined) {
    call.outcome = 'error';
    call.code = error instanceof AgentOsError ? error.code : error instanceof Error ? error.name : 'ERROR';
    return;
  }
  call.outcome = 'ok';
  const r = isObject(result) ? result : undefined;
  if (call.kind === 'model' && r) {
    call.output = digest({ text: r.text ?? '', toolCalls: r.toolCalls ?? [] }, text('output'));
    if (typeof r.model === 'string') call.model = r.model;
    const usage = r.usage as { promptTokens?: unknown; completionTokens?: unknown } | undefined;
    if (typeof usage?.promptTokens === 'number' && typeof usage.completionTokens === 'number') call.tokens = { prompt: usage.promptTokens, completion: usage.completionTokens };
  } else if (call.kind === 'retrieval' && r) {
    const citations = Array.isArray(r.citations) ? (r.citations as Record<string, unknown>[]) : [];
    call.sources = citations.slice(0, SOURCES_CAP).map((c) => ({ sourceId: String(c.sourceId), chunk: Number(c.chunk), hash: String(c.hash), ref: String(c.ref) }));
    // Citations are the retrieval's output; passage text stays in memory, never in a record.
    call.output = { hash: hashOf(citations) };
    if (typeof r.grounded === 'boolean') call.grounded = r.grounded;
  } else {
    call.output = digest(result, text('output'));
  }
}

/** Tool version and manifest hash, from the attributes the tool service sets on its span. */
export function noteAttributes(call: LineageCall, attributes: Record<string, unknown>): void {
  const version = attributes['agentos.tool.version'];
  const manifest = attributes['agentos.tool.hash'];
  if (version !== undefined) call.version = String(version);
  if (typeof manifest === 'string') call.manifest = manifest;
}

/** The span attributes that link a syscall span to its lineage entry. */
export function linkAttributes(call: LineageCall): Record<string, string> {
  const digestOf = call.prompt ?? call.query ?? call.args;
  if (!digestOf) return {};
  const name = call.kind === 'model' ? 'agentos.prompt.hash' : call.kind === 'retrieval' ? 'agentos.query.hash' : 'agentos.args.hash';
  return { [name]: digestOf.hash };
}
