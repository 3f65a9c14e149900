// System events leave the kernel through one relay: `@agentos.*` events and
// XState's own inspection events go to the node's `inspect` listener, and a
// listener that throws never breaks the kernel path or actor that emitted.
// With a redactor set, system events and XState's `@xstate.event` (a message
// with its payload) are scrubbed on their way out; one the redactor cannot
// handle is not delivered at all. Snapshots (`@xstate.snapshot`) pass as they
// are: scrubbing a whole context on every transition costs time growing with
// the context (an O(n²) soak found it), and what reaches a context has already
// been through the kernel (tool results and errors are scrubbed, secrets never
// reach an actor).

import type { InspectionEvent } from 'xstate';
import type { ActorCell } from '../actors/cell.js';
import type { Admitted } from './governance.js';

export interface SystemEvent {
  type: `@agentos.${string}`;
  [key: string]: unknown;
}

export type InspectListener = (event: SystemEvent | InspectionEvent) => void;

export interface EventRelayOptions {
  /** Scrubs each event before the listener sees it (e.g. the node's secret redactor); must return a copy, never change its input. */
  redact?: (value: unknown) => unknown;
}

export class EventRelay {
  /** Passed to every XState actor as its `inspect` option (undefined when nobody listens). */
  readonly xstate: ((event: InspectionEvent) => void) | undefined;
  private redact: ((value: unknown) => unknown) | undefined;

  constructor(
    private readonly listener: InspectListener | undefined,
    options: EventRelayOptions = {},
  ) {
    this.xstate = listener ? (event) => this.deliver(event) : undefined;
    this.redact = options.redact;
  }

  /** Scrub events delivered from now on (`undefined`: deliver them as emitted). */
  setRedactor(redact: ((value: unknown) => unknown) | undefined): void {
    this.redact = redact;
  }

  emit(event: SystemEvent): void {
    if (this.listener) this.deliver(event);
  }

  private deliver(event: SystemEvent | InspectionEvent): void {
    try {
      // The emitter's own object is never changed: the redactor works on a copy.
      const scrub = this.redact !== undefined && (event.type === '@xstate.event' || event.type.startsWith('@agentos.'));
      this.listener!(scrub ? (this.redact!(event) as SystemEvent | InspectionEvent) : event);
    } catch {
      // Inspection is best effort: a listener (or redactor) bug must not become an actor crash.
    }
  }
}

/** What `node.tree()` shows for a worker. */
export function describeCell(cell: ActorCell, admitted: Admitted | undefined): Record<string, unknown> {
  const mailbox = cell.mailbox.stats();
  return {
    agent: cell.def.name,
    version: cell.def.version,
    class: cell.latency,
    tenant: cell.tenant,
    status: cell.status,
    state: cell.getSnapshot()?.value,
    incarnation: cell.incarnation,
    mailbox: cell.mailbox.size,
    mailboxHighWater: mailbox.highWater,
    dropped: mailbox.dropped,
    waitP99Ms: mailbox.waitMs.p99,
    delivered: cell.delivered,
    deadlineMisses: cell.deadlineMisses,
    contractHash: admitted?.contractHash,
    bindingManifest: admitted?.manifest?.hash,
    ...(cell.durable ? { persistent: true, turn: cell.turn, durability: (cell.durable as { persistence?: { durability?: string } }).persistence?.durability } : {}),
    ...(cell.heldReason === undefined ? {} : { heldReason: cell.heldReason }),
  };
}
