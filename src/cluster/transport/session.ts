// The pure part of a link: sequence numbers, acknowledgements and resends.
//
// The sender numbers every message of a link 1, 2, 3… and holds it in a
// bounded OutboundLog until the peer acknowledges it (cumulatively). On every
// (re)connect it resends everything still held, oldest first. The receiver's
// InboundCursor delivers exactly the next number, drops anything at or below
// it (a resend it already has) and calls anything beyond it a gap: frames on
// one socket arrive in order, so a gap is a protocol violation. Together:
// within the lifetimes of both processes, each message is delivered once and
// in order across any number of reconnects. The cursor belongs to one
// incarnation of the sender; a restarted sender starts a new numbering, and a
// restarted receiver starts a fresh cursor at the sender's oldest held message.

export type Accept = 'deliver' | 'duplicate' | 'gap';

/** A bounded ring of the messages a link holds, numbered by sequence. */
export class OutboundLog<M> {
  private readonly ring: Array<M | undefined>;
  /** Sequence number of the oldest held message. */
  private head = 1;
  private held = 0;
  /** Sequence number of the next message to write to the current socket. */
  private cursor = 1;

  constructor(readonly capacity: number) {
    this.ring = new Array<M | undefined>(capacity);
  }

  /** Messages held (written or not, unacknowledged). */
  get size(): number {
    return this.held;
  }

  get full(): boolean {
    return this.held >= this.capacity;
  }

  /** Oldest held sequence number (the next one to be assigned when nothing is held). */
  get base(): number {
    return this.head;
  }

  /** The sequence number the next `push` gets. */
  get nextSeq(): number {
    return this.head + this.held;
  }

  /** Highest acknowledged sequence number. */
  get acked(): number {
    return this.head - 1;
  }

  /** Held messages not yet written since the last rewind. */
  get unsent(): number {
    return this.nextSeq - this.cursor;
  }

  /** Append a message; returns its sequence number. The caller checks `full` first. */
  push(msg: M): number {
    if (this.full) throw new Error('OutboundLog: full');
    const seq = this.nextSeq;
    this.ring[seq % this.capacity] = msg;
    this.held++;
    return seq;
  }

  /** The next message to write, or undefined when all held messages are written. */
  peekUnsent(): { seq: number; msg: M } | undefined {
    if (this.cursor >= this.nextSeq) return undefined;
    return { seq: this.cursor, msg: this.ring[this.cursor % this.capacity] as M };
  }

  /** Mark `seq` written; it must be the one `peekUnsent` returned. */
  markSent(seq: number): void {
    if (seq !== this.cursor) throw new Error(`OutboundLog: markSent(${seq}) but next unsent is ${this.cursor}`);
    this.cursor++;
  }

  /** Replace a held message (a tombstone for one that cannot be encoded). */
  replace(seq: number, msg: M): void {
    if (seq < this.head || seq >= this.nextSeq) throw new Error(`OutboundLog: ${seq} is not held`);
    this.ring[seq % this.capacity] = msg;
  }

  /**
   * The peer has everything up to `upTo`: release those. Returns false (and
   * changes nothing) for an ack of a number never assigned, which no honest
   * peer sends. An ack at or below what is already released is a no-op.
   */
  ack(upTo: number): boolean {
    if (upTo >= this.nextSeq) return false;
    while (this.head <= upTo) {
      this.ring[this.head % this.capacity] = undefined;
      this.head++;
      this.held--;
    }
    if (this.cursor < this.head) this.cursor = this.head;
    return true;
  }

  /** A new socket: everything held is unsent again. */
  rewind(): void {
    this.cursor = this.head;
  }

  /**
   * Number what is held from `first` on (a new link going on from where the peer stands in a
   * dropped one's numbering). Only before anything was written.
   */
  renumber(first: number): void {
    if (this.cursor !== this.head || first < 1) throw new Error(`OutboundLog: cannot renumber from ${first} after writing`);
    const held: M[] = [];
    for (let seq = this.head; seq < this.nextSeq; seq++) held.push(this.ring[seq % this.capacity] as M);
    this.ring.fill(undefined);
    this.head = first;
    this.cursor = first;
    this.held = 0;
    for (const msg of held) this.push(msg);
  }

  /** Drop everything held (the link is being removed). Returns how many were dropped. */
  clear(): number {
    const n = this.held;
    this.ring.fill(undefined);
    this.head = this.nextSeq;
    this.held = 0;
    this.cursor = this.head;
    return n;
  }
}

/** What a receiver has delivered from one incarnation of a sender. */
export class InboundCursor {
  incarnation: string | undefined = undefined;
  delivered = 0;

  /** What to tell `incarnation` about itself in a handshake: 0 unless this cursor is its. */
  recvFor(incarnation: string): number {
    return this.incarnation === incarnation ? this.delivered : 0;
  }

  /**
   * Adopt the sender's incarnation at (re)connect. A new incarnation (or a
   * fresh receiver) starts just before the sender's oldest held message.
   * Returns false if the sender claims to hold nothing we lack, yet its oldest
   * held message is beyond the next we expect: it lost messages, a violation.
   */
  adopt(incarnation: string, base: number): boolean {
    if (this.incarnation !== incarnation) {
      this.incarnation = incarnation;
      this.delivered = base - 1;
      return true;
    }
    return base <= this.delivered + 1;
  }

  accept(seq: number): Accept {
    if (seq <= this.delivered) return 'duplicate';
    if (seq !== this.delivered + 1) return 'gap';
    this.delivered = seq;
    return 'deliver';
  }
}

/** Reconnect delay: exponential ceiling, jittered into its upper half so peers spread out but never hammer. */
export function backoffDelay(attempt: number, b: { initialMs: number; maxMs: number; factor: number }, random: () => number): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, Math.min(attempt, 64)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
