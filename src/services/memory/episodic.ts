// Episodic memory: an append-only log per stream (an agent, a conversation) in one
// scope. Each entry gets the next sequence number of its stream, assigned inside the
// write transaction, so concurrent appends never share a number; reads are ordered
// ranges by sequence. Entries leave only by retention. An append may carry an
// idempotency key: appending again with it returns the first append's position.
// Stream names appear in keys only blinded (a keyed hash).

import { MAX_ID_BYTES, MAX_KEY_BYTES, seqKey, seqOf, Table, tailKey } from './keys.js';
import type { MemoryScope } from './store.js';

interface LogPayload {
  entry: unknown;
  at: number;
}

interface DedupePayload {
  stream: string;
  seq: number;
  at: number;
}

export interface LogEntry {
  stream: string;
  seq: number;
  at: number;
  entry: unknown;
}

export interface ReadOptions {
  /** First sequence number (inclusive, default 1). */
  from?: number;
  /** Last sequence number (inclusive). */
  to?: number;
  limit?: number;
  /** Newest first. */
  reverse?: boolean;
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export class EpisodicLog {
  constructor(readonly scope: MemoryScope) {}

  private streamId(stream: string): Buffer {
    return this.scope.blind(stream, 'stream', MAX_ID_BYTES);
  }

  async append(stream: string, entry: unknown, options: { idempotencyKey?: string } = {}): Promise<{ stream: string; seq: number; at: number; duplicate?: true }> {
    const id = this.streamId(stream);
    const dedupe = options.idempotencyKey === undefined ? undefined : tailKey(this.scope.id, Table.dedupe, this.scope.blind(options.idempotencyKey, 'idempotencyKey', MAX_KEY_BYTES));
    const at = this.scope.store.now();
    const expiresAt = this.scope.expiresAt();
    return this.scope.write((tx) => {
      if (dedupe) {
        const seen = tx.get<DedupePayload>(dedupe);
        if (seen) return { stream: seen.payload.stream, seq: seen.payload.seq, at: seen.payload.at, duplicate: true as const };
      }
      const last = tx.keys(seqKey(this.scope.id, Table.log, id, 0), seqKey(this.scope.id, Table.log, id, MAX_SEQ), { reverse: true, limit: 1 })[0];
      const seq = last ? seqOf(last) + 1 : 1;
      tx.put(seqKey(this.scope.id, Table.log, id, seq), { entry, at } satisfies LogPayload, expiresAt);
      if (dedupe) tx.put(dedupe, { stream, seq, at } satisfies DedupePayload, expiresAt);
      return { stream, seq, at };
    });
  }

  read(stream: string, options: ReadOptions = {}): LogEntry[] {
    const id = this.streamId(stream);
    const from = Math.max(0, options.from ?? 1);
    const to = Math.min(MAX_SEQ - 1, options.to ?? MAX_SEQ - 1);
    if (from > to) return [];
    const out: LogEntry[] = [];
    const start = seqKey(this.scope.id, Table.log, id, from);
    const end = seqKey(this.scope.id, Table.log, id, to + 1);
    for (const rec of this.scope.range<LogPayload>(start, end, { reverse: options.reverse ?? false, limit: options.limit ?? 1000 })) {
      out.push({ stream, seq: seqOf(rec.key), at: rec.payload.at, entry: rec.payload.entry });
    }
    return out;
  }
}
