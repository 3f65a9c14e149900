// The wire protocol of actor moves between nodes (`{ k: 'agentos.handoff', op }`).
// Large bodies — an actor's transfer, a replica, the messages that queued during a
// move — travel as ordered `part`s and are unpacked once whole. Every message and
// every body is checked here before it touches state: peers are authenticated,
// not trusted to be bug-free.
//   part       — one slice of a packed body (kind: import | replica | late)
//   done       — a body was applied (an import answers with the incarnation it published)
//   refused    — a body was refused (the error, as data)
//   abort      — the source gave up on a move: the target drops what it started
//   fence      — `origin` stopped sending `id` through this node (per-sender order)
//   fence-ack  — a fence of the receiver's arrived where it was going
//   moved      — `id` now lives on `node` (a hint until the directory says so)
//   drop       — forget the replica of `id`
//   migrate / migrated — ask the owner of an actor to move it, and its answer
//   superseded — the actor was failed over: the copy on the receiving node is stale

import { Packr } from 'msgpackr';
import { z } from 'zod';

export const HANDOFF_MESSAGE = 'agentos.handoff';

/** Largest slice of a body per message (the transport's frames are 1 MiB by default). */
export const PART_BYTES = 192 * 1024;

const id = z.string().min(1).max(256);
const node = z.string().min(1).max(256);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes');
const wireError = z.object({ code: z.string().max(128), message: z.string().max(8192), field: z.string().max(256).optional(), details: z.unknown().optional() });
export type WireError = z.infer<typeof wireError>;

const result = z.object({ id, from: node, to: node, incarnation: count, ms: z.number().nonnegative() });
export type MigrationResult = z.infer<typeof result>;

const envelope = <T extends z.ZodRawShape>(shape: T) => z.object({ k: z.literal(HANDOFF_MESSAGE), ...shape });

const messageSchema = z.discriminatedUnion('op', [
  envelope({ op: z.literal('part'), tid: count, kind: z.enum(['import', 'replica', 'late']), i: count, n: z.number().int().min(1).max(4096), data: bytes }),
  envelope({ op: z.literal('done'), tid: count, incarnation: count.optional() }),
  envelope({ op: z.literal('refused'), tid: count, error: wireError }),
  envelope({ op: z.literal('abort'), id }),
  envelope({ op: z.literal('fence'), id, origin: node, n: count }),
  envelope({ op: z.literal('fence-ack'), id, n: count }),
  envelope({ op: z.literal('moved'), id, node, incarnation: count, tenant: z.string().max(256) }),
  envelope({ op: z.literal('drop'), id }),
  envelope({ op: z.literal('migrate'), rid: count, id, target: node, hops: z.number().int().min(0).max(8) }),
  envelope({ op: z.literal('migrated'), rid: count, result: result.optional(), error: wireError.optional() }),
  envelope({ op: z.literal('superseded'), id }),
]);

export type HandoffMessage = z.infer<typeof messageSchema>;
export type PartKind = Extract<HandoffMessage, { op: 'part' }>['kind'];

/** The parsed message, or undefined when it is not one of ours or malformed. */
export function parseHandoffMessage(raw: unknown): HandoffMessage | undefined {
  if (typeof raw !== 'object' || raw === null || (raw as { k?: unknown }).k !== HANDOFF_MESSAGE) return undefined;
  const parsed = messageSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

export function isHandoffMessage(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { k?: unknown }).k === HANDOFF_MESSAGE;
}

// ── bodies ─────────────────────────────────────────────────────────────────

const message = z.object({
  payload: z.unknown(),
  from: z.string().optional(),
  priority: z.number().optional(),
  deadline: z.number().optional(),
  conversationId: z.string().optional(),
  performative: z.string().optional(),
  replyTo: z.string().optional(),
  correlationId: z.string().optional(),
  traceparent: z.string().optional(),
  idempotencyKey: z.string().optional(),
});

const durable = z.object({
  spawn: z.object({ tenant: z.string().optional(), restart: z.enum(['permanent', 'transient', 'temporary']).optional(), shutdownMs: z.union([z.number(), z.literal('infinity')]).optional(), input: z.unknown().optional() }),
  checkpoint: z.object({ v: z.literal(1), turn: count, at: count, chain: z.string().length(64), snapshot: bytes }),
  marks: z.array(z.tuple([z.string(), z.tuple([count, count])])),
});

const transfer = z.object({
  id,
  agent: z.string().min(1).max(1024),
  version: z.string().min(1).max(1024),
  tenant: z.string().min(1).max(256),
  restart: z.enum(['permanent', 'transient', 'temporary']).optional(),
  input: z.unknown().optional(),
  incarnation: count,
  paused: z.boolean(),
  snapshot: bytes.optional(),
  durable: durable.optional(),
  mailbox: z.array(message),
  presumeInFlight: z.boolean().optional(),
});

/** A replica: the owner's last checkpoint of a persistent agent, with where else it is kept. */
const replica = z.object({
  owner: node,
  seq: count,
  /** The nodes holding this replica, in the order failover prefers them. */
  replicaSet: z.array(node).min(1).max(64),
  transfer,
});

/** What queued at the source after the capture, and the fences it had seen per sender. */
const late = z.object({ id, messages: z.array(message), fences: z.array(z.tuple([node, z.array(count).max(4096)])).max(4096) });

export type ReplicaBody = z.infer<typeof replica>;
export type LateBody = z.infer<typeof late>;

const BODIES = { import: transfer, replica, late } as const;

const packr = new Packr({ useRecords: false, moreTypes: true } as ConstructorParameters<typeof Packr>[0]);

export function packBody(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpackPlain(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** Unpack and check a whole body; throws a plain Error saying what is wrong. */
export function unpackBody<K extends PartKind>(kind: K, bytes: Uint8Array): z.infer<(typeof BODIES)[K]> {
  const parsed = BODIES[kind].safeParse(packr.unpack(bytes));
  if (!parsed.success) throw new Error(`malformed ${kind} body: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data as z.infer<(typeof BODIES)[K]>;
}
