// What each memory syscall does, given the caller's scope. The scope, contract
// and redaction decision arrive in `Call`, made by the service from the kernel's
// context; nothing here reads a tenant from the arguments. Ingests and queries
// leave spans (`agentos.ingest`, `agentos.retrieve`) under the syscall's span.

import { createHash } from 'node:crypto';
import type { Contract } from '../../kernel/contract/index.js';
import type { SyscallContext } from '../../kernel/syscalls.js';
import type { Attributes } from '../../kernel/trace.js';
import { MemoryCodes, MemoryError } from './errors.js';
import { groundAnswer } from './ground.js';
import type { TenantMemory } from './memory.js';
import type { OnUngrounded } from './rag.js';
import type { PiiKind } from './redact.js';
import type { ArgsOf, MemorySyscall } from './schemas.js';

/** What a handler may use: the caller's scope and contract, and the service's hooks. */
export interface Call {
  ctx: SyscallContext;
  memory: TenantMemory;
  contract: Contract;
  onUngrounded: OnUngrounded;
  /** Redact a value if the contract asks (counting per tenant). */
  scrub<T>(value: T): T;
  /** Count redactions made elsewhere (ingest). */
  count(counts: Record<PiiKind, number>): void;
  /** Whether ingest redacts. */
  redact: boolean;
  audit(decision: string, extra?: { reason?: string; hashes?: Record<string, string>; data?: Record<string, unknown> }): void;
}

export type Handler<N extends MemorySyscall> = (args: ArgsOf<N>, call: Call) => unknown;

const digest = (parts: readonly string[]): string => createHash('sha256').update(parts.join('\n')).digest('hex');

/**
 * Run `fn` in a span under the syscall's (none without one): attributes of the
 * result on success, the typed error on failure. Chunk hashes and source ids go on
 * the span, never text.
 */
async function traced<T>(c: Call, name: string, fn: () => Promise<T>, attrs: (result: T) => Attributes, start?: Attributes): Promise<T> {
  const span = c.ctx.span?.child(name, start);
  try {
    const out = await fn();
    span?.set(attrs(out)).end();
    return out;
  } catch (err) {
    span?.end(err);
    throw err;
  }
}

export const HANDLERS: { [N in MemorySyscall]: Handler<N> } = {
  'memory.put': (a, c) => c.memory.kv.put(a.key, c.scrub(a.value)),
  'memory.get': (a, c) => c.memory.kv.get(a.key) ?? null,
  'memory.delete': async (a, c) => ({ deleted: await c.memory.kv.delete(a.key) }),
  'memory.list': (a, c) => c.memory.kv.list({ ...(a.prefix ? { prefix: a.prefix } : {}), ...(a.after ? { after: a.after } : {}), ...(a.limit ? { limit: a.limit } : {}) }),
  // A persistent caller's retry of the same call carries the same key: it is appended once.
  'memory.append': (a, c) => c.memory.log.append(a.stream, c.scrub(a.entry), c.ctx.key === undefined ? {} : { idempotencyKey: c.ctx.key }),
  'memory.read': (a, c) => c.memory.log.read(a.stream, a),
  'memory.upsert': async (a, c) => {
    const vector = a.vector ?? (await c.memory.embed([c.scrub(a.text!)]))[0]!;
    await c.memory.vectors.upsert([{ id: a.id, vector, ...(a.metadata === undefined ? {} : { metadata: c.scrub(a.metadata) }) }]);
    return { id: a.id, dimension: vector.length };
  },
  'memory.search': async (a, c) => {
    const vector = a.vector ?? (await c.memory.embed([a.text!]))[0]!;
    return c.memory.vectors.search(vector, { k: a.k ?? 10, withMetadata: true, ...(a.minScore === undefined ? {} : { minScore: a.minScore }) });
  },
  'memory.remove': async (a, c) => ({ removed: await c.memory.vectors.remove(a.ids) }),
  'rag.ingest': async (a, c) => {
    const report = await traced(c, 'agentos.ingest', () =>
      c.memory.rag.ingest({
        sourceId: a.sourceId,
        text: a.text,
        redact: c.redact,
        ...(a.metadata === undefined ? {} : { metadata: c.scrub(a.metadata) }),
        ...(a.chunk ? { chunk: a.chunk } : {}),
      }),
      (r) => ({
        'agentos.rag.source': r.sourceId,
        'agentos.rag.source_hash': r.sourceHash,
        'agentos.rag.chunks': r.chunks.length,
        'agentos.rag.unchanged': r.unchanged,
        'agentos.rag.redactions': r.redactions.total,
      }),
    );
    if (!report.unchanged) c.count(report.redactions);
    c.audit(report.unchanged ? 'unchanged' : 'ingested', {
      hashes: { source: report.sourceHash },
      data: { chunks: report.chunks.length, redactions: report.redactions.total, replaced: report.replaced },
    });
    return report;
  },
  'rag.query': async (a, c) => {
    const rag = c.contract.memory?.rag;
    const topK = a.topK ?? rag?.top_k ?? 5;
    const answer = await traced(
      c,
      'agentos.retrieve',
      () =>
        c.memory.rag.query(a.query, {
          topK,
          requireGrounding: rag?.require_grounding ?? false,
          onUngrounded: c.onUngrounded,
          ...(a.minScore === undefined ? {} : { minScore: a.minScore }),
          ...(a.rerank ? { rerank: a.rerank } : {}),
        }),
      (r) => ({
        'agentos.rag.hits': r.passages.length,
        'agentos.rag.sources': [...new Set(r.citations.map((x) => x.sourceId))],
        'agentos.rag.source_hashes': r.citations.map((x) => x.hash),
        'agentos.rag.latency_ms': r.diagnostics.latencyMs,
        'agentos.rag.grounded': r.grounded,
        'agentos.rag.indexed': r.diagnostics.indexed,
        ...(r.flagged ? { 'agentos.rag.flagged': true } : {}),
      }),
      { 'agentos.rag.k': topK, 'agentos.rag.require_grounding': rag?.require_grounding ?? false },
    );
    c.audit(answer.flagged ? 'flagged' : 'retrieved', {
      hashes: { sources: digest(answer.citations.map((x) => x.hash).sort()) },
      data: { citations: answer.citations.length, grounded: answer.grounded },
    });
    return answer;
  },
  'rag.remove': async (a, c) => ({ removed: await c.memory.rag.remove(a.sourceId) }),
  'rag.passage': (a, c) => c.memory.rag.passage(a.ref) ?? null,
  'rag.ground': async (a, c) => {
    const result = await groundAnswer(c.memory.rag, a.answer, a.refs ? { refs: a.refs } : {});
    if (!c.contract.memory?.rag?.require_grounding || result.grounded) return result;
    const unsupported = result.claims.filter((x) => !x.supported);
    if (c.onUngrounded === 'flag') return { ...result, flagged: true };
    throw new MemoryError(MemoryCodes.ungrounded, `memory: ${unsupported.length} of ${result.claims.length} claims in the answer have no supporting source; grounding is required`, {
      field: 'answer',
      details: { unsupported: unsupported.map((x) => ({ start: x.start, end: x.end })) },
    });
  },
};
