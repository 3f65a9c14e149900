// Starting an actor that arrives from another node: the kernel's usual start
// path, except that a cell expected from a transfer starts from its snapshot (a
// persistent one from the checkpoint the import wrote to LMDB, through the
// durable layer) and gets the messages it had queued before anything else can
// reach it — in the same synchronous step, so nothing overtakes them.

import type { ActorCell } from '../actors/cell.js';
import type { ActorSnapshot } from '../actors/snapshot/index.js';
import { KernelPersistence, type PersistenceHost } from './persistence.js';
import type { Durability } from './durable/manager.js';
import type { StoredMessage } from './durable/transfer.js';

/** A queued message as it travels: as stored, plus where its answer goes. */
export interface TransferMessage extends StoredMessage {
  replyTo?: string;
  correlationId?: string;
  traceparent?: string;
  idempotencyKey?: string;
}

/** What a cell expected from a transfer starts with. */
export interface Arrival {
  /** Non-persistent actors: the snapshot to start from (persistent ones load their imported checkpoint). */
  snapshot: ActorSnapshot | undefined;
  mailbox: TransferMessage[];
  /** Journal writes of the queued messages (persistent actors): the import waits for them. */
  accepted: Promise<void>[];
}

export class HandoffPersistence extends KernelPersistence {
  private readonly arrivals = new Map<string, Arrival>();

  constructor(
    durability: Durability | undefined,
    host: PersistenceHost,
    /** Queue one transferred message in the cell (journaled if persistent); returns the journal write. */
    private readonly enqueue: (cell: ActorCell, message: TransferMessage) => Promise<void> | undefined,
  ) {
    super(durability, host);
  }

  /** The next first start of `id` is this arrival. */
  expect(id: string, arrival: Arrival): void {
    this.arrivals.set(id, arrival);
  }

  cancel(id: string): void {
    this.arrivals.delete(id);
  }

  override startCell(cell: ActorCell, incarnation: number, first: boolean): void {
    const arrival = first ? this.arrivals.get(cell.id) : undefined;
    if (!arrival) return super.startCell(cell, incarnation, first);
    this.arrivals.delete(cell.id);
    if (cell.durable || !arrival.snapshot) super.startCell(cell, incarnation, first);
    else cell.start(incarnation, arrival.snapshot);
    for (const m of arrival.mailbox) {
      const written = this.enqueue(cell, m);
      if (written) arrival.accepted.push(written);
    }
    // It runs once the import has its messages on disk (`arrive` resumes it): its own
    // checkpoints would otherwise share, and slow, the commit the import waits for.
    cell.pause();
  }
}
