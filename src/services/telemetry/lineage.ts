// The lineage recorder: per delivered turn, a record linking the message and
// its trace to the sensitive calls the turn made, in order — prompt hash →
// retrieved sources → tool calls with their arguments' hash → outputs —
// stored bounded in the node's LMDB and queryable by trace id or by
// `<actor>#<turn>` (`agentos trace`). The kernel tells it of each turn and each
// syscall (KernelTracing's lineage hook); a turn is stored once it makes its
// first call, so turns that only move messages cost a map entry and nothing
// on disk. Actors whose contract says `observability.tracing: false` are not
// recorded; text is kept, redacted, only for the contract's `log_fields`.
//
// Which turn a call belongs to: a call made while a message is delivered
// belongs to that turn; a call started later (an invoke chained on the done
// event of an earlier call) belongs to the turn of whatever happened last for
// the actor — a new turn, or the end of one of its calls — so a chain
// model → retrieval → tool stays in its turn even when other messages (a status
// ask) are delivered between its steps.

import type { RootDatabase } from 'lmdb';
import type { ActorCell } from '../../actors/cell.js';
import type { Envelope } from '../../actors/envelope.js';
import { ErrorCodes, ValidationError } from '../../base/errors.js';
import type { Contract } from '../../kernel/contract/schema.js';
import type { SyscallRequest } from '../../kernel/governance.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { TraceSpan } from '../../kernel/trace.js';
import type { LineageCallHook, LineageHook } from '../../kernel/turn-trace.js';
import {
  CALLS_CAP,
  endCall,
  LineageCodes,
  LineageError,
  linkAttributes,
  noteAttributes,
  parseLineageId,
  parseTraceparent,
  startCall,
  textFields,
  type LineageTextField,
  type LineageTurn,
  type TextPolicy,
} from './lineage-record.js';
import { LineageStore } from './lineage-store.js';

export interface LineageOptions {
  /** Turns kept per node, the newest (default 10,000). */
  keep?: number;
}

export interface LineageDeps extends LineageOptions {
  /** The node's LMDB (default: the kernel's, when it has one). */
  db?: RootDatabase;
  /** Scrubs secrets and credentials from text before it is kept; without it no text is kept, only hashes. */
  redact?: (value: unknown) => unknown;
}

/** The query side, as the node and its control endpoint offer it. */
export interface LineageApi {
  /** Every recorded turn of a trace (across the actors of this node), in order. */
  byTrace(traceId: string): LineageTurn[];
  /** An actor's turn (the newest record of that number). */
  byTurn(actor: string, turn: number): LineageTurn | undefined;
  /** The newest turns first. */
  recent(options?: { actor?: string; limit?: number }): LineageTurn[];
  /** By a trace id or `<actor>#<turn>`: LINEAGE_BAD_ID for a malformed id, LINEAGE_NOT_FOUND when nothing is recorded. */
  find(id: string): LineageTurn[];
}

export const DEFAULT_KEEP = 10_000;
const MAX_KEEP = 1_000_000;
const MAX_LIMIT = 1_000;

/** The turn an actor is in: what its record will say, made into a record at its first call. */
interface OpenTurn {
  turn: number;
  tenant: string;
  env: Pick<Envelope, 'id' | 'type' | 'from' | 'conversationId' | 'traceparent'>;
  span: TraceSpan | undefined;
  at: number;
  fields: LineageTextField[];
  record?: LineageTurn;
  /** Calls of this turn still running. */
  inFlight: number;
}

const byKernel = new WeakMap<object, LineageRecorder>();

/** The lineage recorder attached to `kernel`, if any (how the control endpoint finds it). */
export function lineageOf(kernel: object): LineageRecorder | undefined {
  return byKernel.get(kernel);
}

/** createNode's `lineage` option: false, or `{ keep? }` (INVALID_OPTIONS naming the field otherwise). */
export function checkLineageOptions(options: unknown, where = 'createNode'): void {
  if (options === undefined || options === false) return;
  const bad = (field: string, why: string): never => {
    throw new ValidationError(ErrorCodes.invalidOptions, `${where}: ${field} ${why}`, { field });
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) bad('lineage', 'must be false or an object { keep? }');
  for (const key of Object.keys(options as object)) if (key !== 'keep') bad(`lineage.${key}`, 'is not a lineage option (known: keep)');
  const keep = (options as LineageOptions).keep;
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1 && keep <= MAX_KEEP)) bad('lineage.keep', `must be an integer from 1 to ${MAX_KEEP} (got ${JSON.stringify(keep)})`);
}

export class LineageRecorder implements LineageHook, LineageApi {
  private readonly store: LineageStore;
  /** Per actor, the turn its next call belongs to (absent: not recorded). */
  private readonly latest = new Map<string, OpenTurn>();
  /** The text fields each admitted contract allows (worked out once per contract, not per turn). */
  private readonly fieldsByContract = new WeakMap<Contract, LineageTextField[]>();
  private readonly untap: () => void;
  private closed = false;

  constructor(
    private readonly kernel: Kernel,
    private readonly deps: LineageDeps,
  ) {
    checkLineageOptions(deps.keep === undefined ? {} : { keep: deps.keep }, 'startLineage');
    const db = deps.db ?? kernel.durability?.store.root;
    if (!db) throw new ValidationError(ErrorCodes.invalidOptions, 'lineage needs the node database (db)', { field: 'db' });
    this.store = new LineageStore(db, deps.keep ?? DEFAULT_KEEP);
    // An actor that stops begins no more turns: its last record is complete once its calls end.
    this.untap = kernel.tap((event) => {
      if (event.type === '@agentos.actor.stopped') this.forget(String((event as { id?: unknown }).id));
    });
  }

  // ── the kernel's hook ───────────────────────────────────────────────────

  turn(cell: ActorCell, env: Envelope, span: TraceSpan | undefined): void {
    // Called inside the delivery: a failure to record must never fail the turn.
    try {
      this.begin(cell, env, span);
    } catch {
      this.forget(cell.id);
    }
  }

  call(actorId: string, request: SyscallRequest, span: TraceSpan | undefined, key: string | undefined): LineageCallHook | undefined {
    // Called on the syscall path: a failure to record must never fail the call.
    try {
      return this.started(actorId, request, span, key);
    } catch {
      return undefined;
    }
  }

  private begin(cell: ActorCell, env: Envelope, span: TraceSpan | undefined): void {
    const admitted = this.kernel.governance.admittedActor(cell.id);
    // Service actors are not admitted (their work is recorded as the callers' calls), nor recorded.
    if (!admitted || admitted.contract.observability?.tracing === false) {
      this.forget(cell.id);
      return;
    }
    this.moveTo(cell.id, {
      // A persistent actor's turn number is its history's; others count deliveries on this node run.
      turn: cell.durable ? cell.turn : cell.delivered + 1,
      tenant: admitted.tenant,
      env: { id: env.id, type: env.type, from: env.from, conversationId: env.conversationId, traceparent: env.traceparent },
      span,
      at: this.kernel.clock.now(),
      fields: this.fieldsOf(admitted.contract),
      inFlight: 0,
    });
  }

  private started(actorId: string, request: SyscallRequest, span: TraceSpan | undefined, key: string | undefined): LineageCallHook | undefined {
    const open = this.latest.get(actorId);
    if (!open || this.closed) return undefined;
    const record = (open.record ??= this.store.add(this.recordOf(actorId, open)));
    if (record.calls.length >= CALLS_CAP) {
      record.omitted = (record.omitted ?? 0) + 1;
      this.store.save(record);
      return undefined;
    }
    const text = this.textPolicy(record.fields);
    const call = startCall(request, record.calls.length, this.kernel.clock.now(), text, { spanId: span?.span.spanContext().spanId, key });
    record.calls.push(call);
    open.inFlight++;
    this.store.save(record);
    return {
      attributes: linkAttributes(call),
      note: (attributes) => noteAttributes(call, attributes),
      end: (error, result) => {
        open.inFlight--;
        try {
          endCall(call, this.kernel.clock.now(), text, error, result);
          this.store.save(record);
          // What the actor does next (an invoke chained on this call) belongs to this turn — unless it stopped since.
          if (this.latest.has(actorId)) this.moveTo(actorId, open);
          else this.release(actorId, open);
        } catch {
          // A record that cannot be completed must not change the call's outcome.
        }
      },
    };
  }

  // ── queries ─────────────────────────────────────────────────────────────

  byTrace(traceId: string): LineageTurn[] {
    return this.store.byTrace(traceId);
  }

  byTurn(actor: string, turn: number): LineageTurn | undefined {
    return this.store.byTurn(actor, turn);
  }

  recent(options: { actor?: string; limit?: number } = {}): LineageTurn[] {
    const limit = options.limit ?? 20;
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT)) {
      throw new ValidationError(ErrorCodes.invalidOptions, `limit must be an integer from 1 to ${MAX_LIMIT} (got ${JSON.stringify(limit)})`, { field: 'limit' });
    }
    return this.store.recent(limit, options.actor);
  }

  find(id: string): LineageTurn[] {
    const parsed = parseLineageId(id);
    const found = 'traceId' in parsed ? this.byTrace(parsed.traceId) : [this.byTurn(parsed.actor, parsed.turn)].filter((t): t is LineageTurn => t !== undefined);
    if (found.length === 0) {
      throw new LineageError(LineageCodes.notFound, `node "${this.kernel.nodeId}" has no lineage for ${'traceId' in parsed ? `trace ${id}` : `turn ${id}`} (only turns that made sensitive calls are recorded, the newest ${this.deps.keep ?? DEFAULT_KEEP})`, {
        field: 'id',
      });
    }
    return found;
  }

  /** Records kept. */
  get size(): number {
    return this.store.size;
  }

  /** Resolves once every record so far is committed. */
  flushed(): Promise<unknown> {
    return this.store.flushed();
  }

  /** Stop recording (before the database closes). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.untap();
    if (byKernel.get(this.kernel) === this) {
      this.kernel.tracing.setLineage(undefined);
      byKernel.delete(this.kernel);
    }
    for (const id of [...this.latest.keys()]) this.forget(id);
    await this.store.flushed();
  }

  // ── internals ───────────────────────────────────────────────────────────

  /** The actor's next calls belong to `next`; the turn they belonged to may be complete now. */
  private moveTo(actorId: string, next: OpenTurn): void {
    const prev = this.latest.get(actorId);
    this.latest.set(actorId, next);
    if (prev && prev !== next) this.release(actorId, prev);
  }

  /** The actor stopped (or is not recorded): no more calls belong to its turns. */
  private forget(actorId: string): void {
    const prev = this.latest.get(actorId);
    if (!prev) return;
    this.latest.delete(actorId);
    this.release(actorId, prev);
  }

  /** A turn no call can join any more, and with none running, is complete: its record leaves memory once written. */
  private release(actorId: string, t: OpenTurn): void {
    if (t.record && t.inFlight === 0 && this.latest.get(actorId) !== t) this.store.close(t.record);
  }

  private recordOf(actor: string, open: OpenTurn): Omit<LineageTurn, 'seq'> {
    const sent = parseTraceparent(open.env.traceparent);
    const own = open.span?.span.spanContext();
    const traceId = own?.traceId ?? sent?.traceId;
    const { id, type, from, conversationId } = open.env;
    return {
      node: this.kernel.nodeId,
      actor,
      turn: open.turn,
      tenant: open.tenant,
      message: { id, type, ...(from === undefined ? {} : { from }), ...(conversationId === undefined ? {} : { conversation: conversationId }) },
      ...(traceId === undefined ? {} : { traceId }),
      ...(own ? { spanId: own.spanId } : {}),
      // The sender's span is this turn's parent only if the turn continued its trace (a malformed one starts anew).
      ...(sent && sent.traceId === traceId ? { parentSpanId: sent.spanId } : {}),
      at: open.at,
      fields: open.fields,
      calls: [],
    };
  }

  private fieldsOf(contract: Contract): LineageTextField[] {
    let fields = this.fieldsByContract.get(contract);
    if (!fields) this.fieldsByContract.set(contract, (fields = textFields(contract.observability?.log_fields)));
    return fields;
  }

  private textPolicy(fields: readonly LineageTextField[]): TextPolicy {
    const redact = this.deps.redact;
    return (field) => (redact && fields.includes(field) ? redact : undefined);
  }
}

/** Record lineage on `kernel` from now on; `close()` stops (call it before the database closes). */
export function startLineage(kernel: Kernel, deps: LineageDeps = {}): LineageRecorder {
  const existing = byKernel.get(kernel);
  if (existing) throw new ValidationError(ErrorCodes.invalidOptions, `node "${kernel.nodeId}" records lineage already`, { field: 'lineage' });
  const recorder = new LineageRecorder(kernel, deps);
  byKernel.set(kernel, recorder);
  kernel.tracing.setLineage(recorder);
  return recorder;
}
