// A service (the tool registry, the model gateway, memory) as an actor under
// the kernel's system supervisor. Each syscall it serves is a `call` message in
// its mailbox (scheduled like any SRT message, so its queueing is measured and
// traced), started by the service's machine (`received` in its context; calls
// in flight and served in `stats()`). A child actor per call would show each
// call in the inspector, but costs ~60 µs a call (measured): the call's own
// span shows it instead. Let it crash, as in
// OTP: a handler failing with a typed error is an ordinary failed call, but an
// untyped error is a bug in the service — its caller gets SERVICE_FAILED, the
// service actor crashes and its supervisor restarts it. Calls already in flight
// are not cut off by the crash: their outcome would become unknown (a tool may
// have acted), which a persistent caller's journal must never record as a
// failure. They finish and answer their callers; only a caller's own signal
// (it stopped, or gave up) aborts a handler, as without a service actor.

import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, type AgentDefinition } from '../../actors/define.js';
import { AgentOsError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { CallKind } from '../../kernel/policy/index.js';
import type { SyscallContext } from '../../kernel/syscalls.js';

export class ServiceError extends AgentOsError {}

export const ServiceCodes = {
  /** The service hit a bug (an untyped error) while serving the call; it is restarted. */
  failed: 'SERVICE_FAILED',
  /** The service's mailbox refused the call (node stopping, or full). */
  unavailable: 'SERVICE_UNAVAILABLE',
} as const;

interface Pending {
  name: string;
  work: (signal: AbortSignal | undefined) => unknown;
  caller: AbortSignal | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  settled: boolean;
}

const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('call'), id: z.number().int().nonnegative() }),
  /** Sent by the service itself when a handler failed with an untyped error: the service crashes on it. */
  z.object({ type: z.literal('crash'), id: z.number().int().nonnegative() }),
]);

export interface ServiceStats {
  served: number;
  failed: number;
  inFlight: number;
}

export class ServiceActor {
  readonly id: string;
  readonly definition: AgentDefinition;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Untyped errors waiting for the service to crash on them. */
  private readonly bugs = new Map<number, unknown>();
  private readonly totals = { served: 0, failed: 0 };

  constructor(
    private readonly kernel: Kernel,
    readonly name: string,
  ) {
    this.id = `agentos.${name}`;
    this.definition = this.define();
  }

  /** Start the actor under the system supervisor and route `kinds` of syscalls through it. */
  async start(kinds: readonly CallKind[]): Promise<void> {
    await this.kernel.system.startService(this.id, this.definition);
    for (const kind of kinds) this.kernel.syscalls.serve(kind, (work, ctx, name) => this.call(work, ctx, name));
  }

  stats(): ServiceStats {
    return { ...this.totals, inFlight: this.pending.size };
  }

  /** Queue one call in the service's mailbox; resolves with the handler's result. */
  call(work: (signal: AbortSignal | undefined) => unknown, ctx: Pick<SyscallContext, 'signal' | 'span'>, name: string): Promise<unknown> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const entry: Pending = { name, work, caller: ctx.signal, resolve, reject, settled: false };
      this.pending.set(id, entry);
      try {
        const traceparent = ctx.span?.traceparent;
        this.kernel.send(this.id, { type: 'call', id }, traceparent === undefined ? {} : { traceparent });
      } catch (err) {
        this.pending.delete(id);
        reject(new ServiceError(ServiceCodes.unavailable, `service "${this.name}" did not accept the call to "${name}": ${(err as Error).message}`, { field: 'service', cause: err }));
      }
    });
  }

  /** The body of one call's child actor. */
  private async execute(id: number): Promise<void> {
    const p = this.pending.get(id);
    if (!p) return;
    const settle = (fn: () => void): void => {
      if (p.settled) return;
      p.settled = true;
      this.pending.delete(id);
      fn();
    };
    try {
      const out = await p.work(p.caller);
      settle(() => {
        this.totals.served++;
        p.resolve(out);
      });
    } catch (err) {
      if (err instanceof AgentOsError) {
        settle(() => {
          this.totals.failed++;
          p.reject(err);
        });
        return;
      }
      settle(() => {
        this.totals.failed++;
        p.reject(new ServiceError(ServiceCodes.failed, `service "${this.name}" failed serving "${p.name}": ${err instanceof Error ? err.message : String(err)}`, { field: 'service', cause: err }));
      });
      // Crash the service (its supervisor restarts it): the crash message is handled in its turn, by its machine.
      this.bugs.set(id, err);
      try {
        this.kernel.send(this.id, { type: 'crash', id });
      } catch {
        this.bugs.delete(id); // the node is stopping: nothing to restart
      }
    }
  }

  private bug(id: number): unknown {
    const err = this.bugs.get(id);
    this.bugs.delete(id);
    return err ?? new Error(`service "${this.name}": crash ${id}`);
  }

  private define(): AgentDefinition {
    const execute = (id: number): void => void this.execute(id);
    const bug = (id: number): unknown => this.bug(id);
    const machine = setup({
      types: { context: {} as { received: number }, events: {} as z.infer<typeof messages> },
    }).createMachine({
      id: this.id,
      context: { received: 0 },
      initial: 'serving',
      states: {
        serving: {
          on: {
            call: { actions: [({ event }) => execute(event.id), assign({ received: ({ context }) => context.received + 1 })] },
            crash: {
              actions: ({ event }) => {
                throw bug(event.id);
              },
            },
          },
        },
      },
    });
    return defineAgent({ name: this.id, machine, messages });
  }
}
