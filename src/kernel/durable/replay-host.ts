// The CellHost a replayed actor runs under. It numbers side effects exactly as
// the kernel does (a persistent actor's calls and sends claim [turn, call]), checks
// each call against the effect journal (same key, same argument hash), and holds
// its promise until replay says the recorded actor got the result, then settles
// it with the journaled outcome. Sends and replies are recorded, never delivered:
// replay touches nothing outside the actor.

import type { AnyActorRef } from 'xstate';
import type { ActorCell, CallRequest, CellHost } from '../../actors/cell.js';
import type { Envelope, SendOptions } from '../../actors/envelope.js';
import type { VirtualClock } from '../../base/clock.js';
import { AgentOsError } from '../../base/errors.js';
import type { ExitReason } from '../../base/exit.js';
import { idempotencyKey } from '../effects/key.js';
import { argsHash, turnOf, type JournalView } from './replay-log.js';

/** A call the replayed actor made (or resumed from the base checkpoint). */
export interface ReplayedCall {
  key: string;
  turn: number;
  kind: CallRequest['kind'];
  name: string;
  /** Hash of the arguments as the journal computes it, or why they cannot be hashed. */
  args: string;
  /** Made before the replay base and resumed from its checkpoint, not made by the replay. */
  resumed?: true;
}

/** A message the replayed actor sent (not delivered). */
export interface SentMessage {
  turn: number;
  kind: 'tell' | 'reply';
  to: string;
  type: string;
}

/** A finding while the actor runs: a call against a key the journal holds with other arguments. */
export interface CallMismatch {
  key: string;
  turn: number;
  expected: string;
  actual: string;
}

/** Error a replayed call gets when the recorded call was refused before it reached the journal. */
export class ReplayRefusedCall extends AgentOsError {}

interface Pending {
  key: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class ReplayHost implements CellHost {
  readonly xstateInspect = undefined;
  readonly calls: ReplayedCall[] = [];
  readonly sent: SentMessage[] = [];
  readonly mismatches: CallMismatch[] = [];
  /** Keys whose results the replayed actor has received. */
  readonly settled = new Set<string>();
  exit: ExitReason | undefined;
  private readonly pending = new Map<string, Pending>();

  constructor(
    readonly clock: VirtualClock,
    private readonly journal: JournalView,
    /** The arguments as the node's syscall table checks them before journaling (a tool's input schema). */
    private readonly normalize: ((request: CallRequest) => unknown) | undefined,
  ) {}

  schedule(): void {
    // Replay delivers each recorded message itself.
  }

  exited(_cell: ActorCell, reason: ExitReason): void {
    this.exit = reason;
  }

  lost(): void {
    // Nothing waits on a replayed message.
  }

  tell(from: ActorCell, to: string, message: { type: string }, _options?: SendOptions): void {
    const [turn] = from.claimEffect(); // a persistent sender's send takes a place in its history, as in the kernel
    this.sent.push({ turn, kind: 'tell', to, type: typeName(message) });
  }

  reply(from: ActorCell, env: Pick<Envelope, 'replyTo' | 'correlationId' | 'conversationId'>, value: unknown): void {
    this.sent.push({ turn: from.turn, kind: 'reply', to: env.replyTo ?? '-', type: typeName(value) });
  }

  call(from: ActorCell, request: CallRequest, _signal?: AbortSignal, origin?: AnyActorRef): Promise<unknown> {
    const [turn, index] = from.claimEffect();
    const key = idempotencyKey({ actor: from.id, turn, call: index });
    from.trackCall(origin, { key, request });
    const args = this.hash(request);
    this.calls.push({ key, turn, kind: request.kind, name: request.name, args });
    const recorded = this.journal.call(key);
    if (recorded && recorded.args !== args) this.mismatches.push({ key, turn, expected: recorded.args, actual: args });
    const p = this.hold(key);
    return p.finally(() => from.callSettled(origin, key));
  }

  /** A call in flight in the base checkpoint: settled like the others, into the restored promise actor. */
  resume(cell: ActorCell, key: string, request: CallRequest, settle: (outcome: { output: unknown } | { error: unknown }) => void): void {
    const turn = turnOf(key) ?? cell.turn;
    this.calls.push({ key, turn, kind: request.kind, name: request.name, args: this.hash(request), resumed: true });
    this.hold(key).then(
      (output) => settle({ output }),
      (error: unknown) => settle({ error }),
    );
  }

  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /**
   * Give the actor the recorded outcome of `key` now. A call the journal does not
   * hold was refused before it ran (policy, validation); one still in doubt was
   * abandoned when its actor stopped: both fail, as they did for the recorded actor.
   */
  settle(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    this.settled.add(key);
    const recorded = this.journal.call(key);
    const outcome = recorded?.outcome();
    if (outcome && 'value' in outcome) return p.resolve(outcome.value);
    if (outcome) return p.reject(outcome.error);
    const why = recorded ? 'it was in doubt when its actor stopped' : 'it was refused before it reached the effect journal';
    p.reject(new ReplayRefusedCall('REPLAY_CALL_NOT_RUN', `replay: call ${key} did not run in the recorded history: ${why}`, { field: 'key' }));
  }

  /** Pending calls whose outcome the journal holds, in the order the outcomes were journaled. */
  journaledPending(): Array<{ key: string; at: number }> {
    const out: Array<{ key: string; at: number; seq: number }> = [];
    for (const key of this.pending.keys()) {
      const recorded = this.journal.call(key);
      if (recorded && recorded.kind !== 'dispatched') out.push({ key, at: recorded.at, seq: recorded.seq });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  private hold(key: string): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => this.pending.set(key, { key, resolve, reject }));
  }

  private hash(request: CallRequest): string {
    try {
      return argsHash(this.normalize ? this.normalize(request) : request.args);
    } catch (err) {
      return `unhashable: ${(err as Error).message}`;
    }
  }
}

function typeName(message: unknown): string {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : typeof message;
}
