// defineAgent: an XState v5 machine plus the zod schema of the messages it
// accepts, plus (optionally) its Agent Contract. Definitions are plain data
// registered by name and version; a spawn or migration names them, never ships code.

import type { AnyStateMachine } from 'xstate';
import type { z } from 'zod';
import { AgentOsError, ErrorCodes } from '../base/errors.js';
import { AGENT_NAME_PATTERN } from '../base/names.js';
import type { LatencyClass, OverflowPolicy } from '../mailboxes/types.js';

/**
 * An Agent Contract given as an object (YAML field names). `apiVersion`, `kind`,
 * `name` and `class` may be omitted; the kernel validates the whole contract at
 * spawn (see `loadContract` and the contract field table in the README).
 */
export interface RuntimeContractView {
  apiVersion?: string;
  kind?: string;
  name?: string;
  class?: { latency: LatencyClass; slo?: Record<string, number | undefined> };
  capabilities?: string[];
  priority?: number;
  mailbox?: { capacity?: number; overflow?: OverflowPolicy };
  [key: string]: unknown;
}

export interface AgentConfig<TMachine extends AnyStateMachine = AnyStateMachine, TSchema extends z.ZodType = z.ZodType> {
  name: string;
  version?: string;
  machine: TMachine;
  /** zod schema of accepted messages, usually `z.discriminatedUnion('type', [...])`. */
  messages: TSchema;
  /** Agent Contract: an object, or YAML text (parsed by the kernel). */
  contract?: RuntimeContractView | string;
  /** Input passed to the machine at each start. */
  input?: unknown;
  /**
   * Make the actor persistent: its state is checkpointed to the node's LMDB, its
   * mailbox journaled, its side effects (syscalls) run exactly once by key, and it
   * comes back on node start. `true` takes every default.
   */
  persistent?: boolean | PersistenceOptions;
  /**
   * Run this HRT actor on an HRT lane (a dedicated worker thread) instead of the
   * main thread. The lane loads the definition from `module` (an URL or path,
   * usually `import.meta.url`) by its `export` name, so the module must export it.
   */
  lane?: LaneOptions;
}

export interface LaneOptions {
  module: string;
  export: string;
  /** What happens to a job that would start late or follows a WCET overrun: skip it (default), emit `safeDefault`, or stop the actor. */
  overrun?: 'skip' | 'degrade' | 'stop';
  /** The event emitted in place of a job under `overrun: 'degrade'` (e.g. `{ type: 'veto', reason: 'overrun' }`). */
  safeDefault?: { type: string; [key: string]: unknown };
  /** Messages handled per job at most (default 64); the rest wait for the next release. */
  maxMessages?: number;
  /**
   * A safety output path that never touches the main thread: the actor gets its own SPSC ring
   * (`slots`, a power of two up to 65536, default 256) onto which the lane writes every event the
   * actor emits, for an actuator thread to read (`node.hrt.directRing(id)`).
   */
  direct?: { slots?: number };
}

export interface PersistenceOptions {
  /** When to checkpoint: after every turn (default), every N messages, or only on `ref.checkpoint()`. */
  checkpoint?: 'turn' | 'manual' | { everyMessages: number };
  /**
   * `sync` (default): a message is acknowledged (`ref.post`) and a call result released
   * only once its journal write is flushed to disk. `async`: once committed to LMDB's
   * write queue (a process crash keeps it, a power loss may not).
   */
  durability?: 'sync' | 'async';
  /** What a supervisor restart after a crash starts from: the last checkpoint (default) or the initial state. */
  restart?: 'checkpoint' | 'initial';
  /** Turns of history kept for `agentos replay` before older turns are compacted away (default 1000). */
  retainTurns?: number;
  /** Turns a snapshot written by another version of this definition into one this version can restore; return undefined to refuse. */
  migrate?: (snapshot: any, fromVersion: string) => any;
}

/** Persistence settings with every default filled in. */
export interface ResolvedPersistence {
  checkpoint: 'turn' | 'manual' | { everyMessages: number };
  durability: 'sync' | 'async';
  restart: 'checkpoint' | 'initial';
  retainTurns: number;
  migrate: PersistenceOptions['migrate'];
}

export interface AgentDefinition<TMachine extends AnyStateMachine = AnyStateMachine, TSchema extends z.ZodType = z.ZodType>
  extends Readonly<AgentConfig<TMachine, TSchema>> {
  readonly kind: 'agent';
  readonly version: string;
  /** Message types the schema accepts, when it is a discriminated union on `type`. */
  readonly messageTypes: ReadonlySet<string> | undefined;
  /** Persistence settings, when the agent is persistent. */
  readonly persistence: ResolvedPersistence | undefined;
}

export class InvalidAgentError extends AgentOsError {}

/** Build an agent definition, checking its shape now rather than at first spawn. */
export function defineAgent<TMachine extends AnyStateMachine, TSchema extends z.ZodType>(
  config: AgentConfig<TMachine, TSchema>,
): AgentDefinition<TMachine, TSchema> {
  const bad = (field: string, why: string): never => {
    throw new InvalidAgentError(ErrorCodes.invalidAgent, `defineAgent: ${field} ${why}`, { field });
  };
  if (config === null || typeof config !== 'object') bad('config', 'must be an object');
  if (typeof config.name !== 'string' || !AGENT_NAME_PATTERN.test(config.name)) {
    bad('name', `must be 1-128 characters of letters, digits, '_', '.', '-' (got ${JSON.stringify(config.name)})`);
  }
  const machine = config.machine as unknown as { transition?: unknown; config?: unknown } | undefined;
  if (!machine || typeof machine.transition !== 'function' || typeof machine.config !== 'object') {
    bad('machine', 'must be an XState v5 machine (setup().createMachine(...))');
  }
  const messages = config.messages as unknown as { safeParse?: unknown } | undefined;
  if (!messages || typeof messages.safeParse !== 'function') {
    bad('messages', 'must be a zod schema (e.g. z.discriminatedUnion("type", [...]))');
  }
  if (config.version !== undefined && (typeof config.version !== 'string' || config.version === '')) {
    bad('version', 'must be a non-empty string');
  }
  if (config.lane !== undefined) checkLane(config.lane, config.persistent, bad);
  return Object.freeze({
    ...config,
    kind: 'agent' as const,
    version: config.version ?? '1',
    messageTypes: discriminatorValues(config.messages),
    persistence: resolvePersistence(config.persistent, bad),
  });
}

function resolvePersistence(value: AgentConfig['persistent'], bad: (field: string, why: string) => never): ResolvedPersistence | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object' || Array.isArray(value))) bad('persistent', 'must be true or an object of persistence options');
  const o: PersistenceOptions = value === true ? {} : value;
  const known = new Set(['checkpoint', 'durability', 'restart', 'retainTurns', 'migrate']);
  for (const k of Object.keys(o)) if (!known.has(k)) bad(`persistent.${k}`, `is not a persistence option (expected one of ${[...known].join(', ')})`);
  const cp = o.checkpoint ?? 'turn';
  const every = (cp as { everyMessages?: unknown }).everyMessages;
  if (cp !== 'turn' && cp !== 'manual' && !(typeof cp === 'object' && cp !== null && Number.isSafeInteger(every) && (every as number) >= 1)) {
    bad('persistent.checkpoint', `must be 'turn', 'manual' or { everyMessages: n } with n >= 1 (got ${JSON.stringify(cp)})`);
  }
  const durability = o.durability ?? 'sync';
  if (durability !== 'sync' && durability !== 'async') bad('persistent.durability', `must be 'sync' or 'async' (got ${JSON.stringify(durability)})`);
  const restart = o.restart ?? 'checkpoint';
  if (restart !== 'checkpoint' && restart !== 'initial') bad('persistent.restart', `must be 'checkpoint' or 'initial' (got ${JSON.stringify(restart)})`);
  const retainTurns = o.retainTurns ?? 1000;
  if (!Number.isSafeInteger(retainTurns) || retainTurns < 1) bad('persistent.retainTurns', `must be a positive integer (got ${JSON.stringify(retainTurns)})`);
  if (o.migrate !== undefined && typeof o.migrate !== 'function') bad('persistent.migrate', 'must be a function (snapshot, fromVersion) => snapshot | undefined');
  return Object.freeze({ checkpoint: typeof cp === 'object' ? { everyMessages: every as number } : cp, durability, restart, retainTurns, migrate: o.migrate });
}

function checkLane(lane: LaneOptions, persistent: AgentConfig['persistent'], bad: (field: string, why: string) => never): void {
  if (lane === null || typeof lane !== 'object') bad('lane', 'must be { module, export }');
  if (typeof lane.module !== 'string' || lane.module === '') bad('lane.module', 'must be the URL or path of the module exporting this definition (usually import.meta.url)');
  if (typeof lane.export !== 'string' || lane.export === '') bad('lane.export', 'must name the export of this definition in lane.module');
  if (lane.overrun !== undefined && !['skip', 'degrade', 'stop'].includes(lane.overrun)) bad('lane.overrun', `must be 'skip', 'degrade' or 'stop' (got ${JSON.stringify(lane.overrun)})`);
  if (lane.overrun === 'degrade' && (typeof lane.safeDefault !== 'object' || lane.safeDefault === null || typeof lane.safeDefault.type !== 'string')) {
    bad('lane.safeDefault', "must be an event ({ type, … }) when overrun is 'degrade'");
  }
  if (lane.maxMessages !== undefined && !(Number.isSafeInteger(lane.maxMessages) && lane.maxMessages >= 1)) bad('lane.maxMessages', 'must be a positive integer');
  if (lane.direct !== undefined) {
    if (lane.direct === null || typeof lane.direct !== 'object' || Array.isArray(lane.direct)) bad('lane.direct', 'must be an object { slots? }');
    const slots = lane.direct.slots;
    if (slots !== undefined && !(Number.isSafeInteger(slots) && slots >= 1 && slots <= 65536 && (slots & (slots - 1)) === 0)) {
      bad('lane.direct.slots', `must be a power of two from 1 to 65536 (got ${JSON.stringify(slots)})`);
    }
  }
  if (persistent !== undefined && persistent !== false) bad('lane', 'an HRT lane actor cannot be persistent (its jobs are bounded, synchronous and not journaled)');
}

export function isAgentDefinition(value: unknown): value is AgentDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'agent';
}

/** The `type` literals of a zod discriminated union (or single object schema), if knowable. */
function discriminatorValues(schema: z.ZodType): ReadonlySet<string> | undefined {
  const internals = (schema as unknown as { _zod?: { propValues?: Record<string, Set<unknown>> } })._zod;
  const values = internals?.propValues?.type;
  if (!values || values.size === 0) return undefined;
  const out = new Set<string>();
  for (const v of values) if (typeof v === 'string') out.add(v);
  return out;
}
