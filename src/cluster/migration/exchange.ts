// Bodies between nodes: a packed body goes out as ordered parts (the link keeps
// order, so parts of one body arrive in sequence), is unpacked and checked once
// whole, and a request waits for the receiver's `done` or `refused` under a
// timeout on the node clock. Half-received bodies of a peer that went quiet are
// dropped after the same timeout.

import type { Clock, TimerHandle } from '../../base/clock.js';
import { ClusterCodes, ClusterError } from '../errors.js';
import { HANDOFF_MESSAGE, PART_BYTES, packBody, type HandoffMessage, type PartKind, type WireError } from './protocol.js';

export type Reply = { ok: true; incarnation?: number } | { ok: false; error: WireError };

export interface ExchangeDeps {
  clock: Clock;
  /** Send one message to a node; throws when there is no link. */
  send(node: string, message: HandoffMessage): void;
  /** A whole body arrived; answer with `reply` (undefined: no answer expected). */
  received(from: string, kind: PartKind, bytes: Uint8Array, reply: ((r: Reply) => void) | undefined): void;
  /** Longest wait for the rest of a body, ms. */
  assemblyMs: number;
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: unknown) => void;
  timer: TimerHandle;
}

export class Exchange {
  private tid = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly partial = new Map<string, { parts: Uint8Array[]; n: number; kind: PartKind; at: number }>();

  constructor(private readonly deps: ExchangeDeps) {}

  /** Send a body and wait for the answer. Rejects (CLUSTER_CLOSED) on timeout or when it cannot be sent. */
  request(node: string, kind: PartKind, body: unknown, timeoutMs: number): Promise<Reply> {
    const tid = ++this.tid;
    return new Promise<Reply>((resolve, reject) => {
      const timer = this.deps.clock.setTimeout(() => {
        this.pending.delete(tid);
        reject(new ClusterError(ClusterCodes.closed, `node "${node}" did not answer within ${timeoutMs} ms`, { field: 'targetNode' }));
      }, timeoutMs);
      this.pending.set(tid, { resolve, reject, timer });
      try {
        this.post(node, kind, body, tid);
      } catch (err) {
        this.settle(tid, undefined, err);
      }
    });
  }

  /** Send a body that is not answered (the messages that queued during a move). */
  post(node: string, kind: PartKind, body: unknown, tid = ++this.tid): void {
    const bytes = packBody(body);
    const n = Math.max(1, Math.ceil(bytes.length / PART_BYTES));
    for (let i = 0; i < n; i++) {
      const data = bytes.subarray(i * PART_BYTES, Math.min(bytes.length, (i + 1) * PART_BYTES));
      this.deps.send(node, { k: HANDOFF_MESSAGE, op: 'part', tid, kind, i, n, data });
    }
  }

  /** Handle `part`, `done` and `refused`; returns false for any other message. */
  handle(from: string, m: HandoffMessage): boolean {
    if (m.op === 'done') this.settle(m.tid, { ok: true, ...(m.incarnation === undefined ? {} : { incarnation: m.incarnation }) });
    else if (m.op === 'refused') this.settle(m.tid, { ok: false, error: m.error });
    else if (m.op === 'part') this.part(from, m);
    else return false;
    return true;
  }

  close(): void {
    for (const tid of [...this.pending.keys()]) this.settle(tid, undefined, new ClusterError(ClusterCodes.closed, 'the cluster stopped before the other node answered', { field: 'targetNode' }));
    this.partial.clear();
  }

  private part(from: string, m: Extract<HandoffMessage, { op: 'part' }>): void {
    const key = `${from}\u0000${m.tid}`;
    const now = this.deps.clock.now();
    for (const [k, p] of this.partial) if (now - p.at > this.deps.assemblyMs) this.partial.delete(k);
    let p = this.partial.get(key);
    if (m.i === 0) this.partial.set(key, (p = { parts: [], n: m.n, kind: m.kind, at: now }));
    // A part out of sequence (its body's start was dropped): the whole body is dropped.
    if (!p || p.n !== m.n || p.kind !== m.kind || p.parts.length !== m.i) return void this.partial.delete(key);
    p.parts.push(m.data);
    if (p.parts.length < p.n) return;
    this.partial.delete(key);
    const bytes = p.n === 1 ? p.parts[0]! : Buffer.concat(p.parts);
    const reply = m.kind === 'late' ? undefined : (r: Reply): void => this.answer(from, m.tid, r);
    this.deps.received(from, m.kind, bytes, reply);
  }

  private answer(node: string, tid: number, r: Reply): void {
    try {
      this.deps.send(node, r.ok ? { k: HANDOFF_MESSAGE, op: 'done', tid, ...(r.incarnation === undefined ? {} : { incarnation: r.incarnation }) } : { k: HANDOFF_MESSAGE, op: 'refused', tid, error: r.error });
    } catch {
      // the asker is gone: its request times out
    }
  }

  private settle(tid: number, reply: Reply | undefined, error?: unknown): void {
    const p = this.pending.get(tid);
    if (!p) return;
    this.pending.delete(tid);
    this.deps.clock.clearTimeout(p.timer);
    if (reply) p.resolve(reply);
    else p.reject(error);
  }
}
