// createNode: one agentos node — a kernel (root supervisor, router, scheduler)
// with its services, on an injected clock. This is the object users hold.

import { mkdirSync } from 'node:fs';
import type { InspectionEvent } from 'xstate';
import type { AgentDefinition } from '../actors/define.js';
import { isAgentDefinition } from '../actors/define.js';
import { RealClock, type Clock } from '../base/clock.js';
import { AgentOsError, ErrorCodes } from '../base/errors.js';
import type { ExitReason } from '../base/exit.js';
import type { DeadLetter } from '../kernel/deadletters.js';
import { Kernel, type KernelOptions, type SpawnOptions, type StartTarget, type SystemEvent } from '../kernel/kernel.js';
import type { ActorRef } from '../kernel/ref.js';
import type { SchedulerStats } from '../kernel/scheduler.js';
import type { SupervisorSpec, TreeNode } from '../supervisors/types.js';
import type { z } from 'zod';

/** The message type an agent definition accepts (its zod schema's input). */
export type MessageOf<D> = D extends AgentDefinition<any, infer S> ? (z.input<S> extends { type: string } ? z.input<S> : never) : never;

export interface NodeOptions {
  /** Node name, unique in a cluster. */
  name: string;
  /** Where this node keeps its data (LMDB, keys). Default `.agentos`. */
  dataDir?: string;
  /** Time source; a VirtualClock makes everything deterministic. */
  clock?: Clock;
  /** Receives `@agentos.*` system events and XState's `@xstate.*` inspection events. */
  inspect?: (event: SystemEvent | InspectionEvent) => void;
  /** Largest message accepted, in bytes (estimated). Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Validate every message against its agent's zod schema (default true). */
  validate?: boolean;
  /** Default mailbox bound and overflow policy for agents whose contract does not say. */
  mailbox?: KernelOptions['mailbox'];
  scheduler?: KernelOptions['scheduler'];
  /** Restart intensity of the root supervisor (default 10 restarts in 5000 ms). */
  root?: KernelOptions['root'];
  /** How the scheduler yields to the event loop; default setImmediate. */
  defer?: (fn: () => void) => void;
}

export interface AgentOsNode {
  readonly name: string;
  readonly dataDir: string;
  readonly clock: Clock;
  /** Admit and start an agent (typed ref) or a supervisor tree under the root supervisor. */
  spawn<D extends AgentDefinition<any, any>>(definition: D, options: SpawnOptions): Promise<ActorRef<MessageOf<D>>>;
  spawn(definition: SupervisorSpec<StartTarget>, options: SpawnOptions): Promise<ActorRef>;
  register(definition: AgentDefinition): void;
  definition(name: string, version?: string): AgentDefinition | undefined;
  lookup(id: string): ActorRef | undefined;
  /** The live supervision tree, as JSON. */
  tree(): TreeNode;
  deadLetters(): DeadLetter[];
  stats(): { actors: number; deadLetters: number; scheduler: SchedulerStats };
  /** Resolves when the node has stopped (by `stop()` or because the root supervisor gave up). */
  readonly stopped: Promise<ExitReason>;
  stop(): Promise<void>;
  /** Internal: the kernel, for services and tests. Not part of the stable API. */
  readonly kernel: Kernel;
}

export async function createNode(options: NodeOptions): Promise<AgentOsNode> {
  if (typeof options?.name !== 'string' || !/^[A-Za-z0-9][\w.-]{0,63}$/.test(options.name)) {
    throw new AgentOsError(ErrorCodes.invalidOptions, `createNode: name must be 1-64 characters of letters, digits, _ . - (got ${JSON.stringify(options?.name)})`, {
      field: 'name',
    });
  }
  const clock = options.clock ?? new RealClock();
  const dataDir = options.dataDir ?? '.agentos';
  mkdirSync(dataDir, { recursive: true });
  let resolveStopped!: (reason: ExitReason) => void;
  const stopped = new Promise<ExitReason>((resolve) => (resolveStopped = resolve));
  const kernel = new Kernel({
    nodeId: options.name,
    clock,
    defer: options.defer ?? ((fn) => setImmediate(fn)),
    ...(options.inspect ? { inspect: options.inspect } : {}),
    ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
    ...(options.validate === undefined ? {} : { validate: options.validate }),
    ...(options.mailbox ? { mailbox: options.mailbox } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.root ? { root: options.root } : {}),
    onRootExit: (reason) => {
      // The root supervisor gave up (intensity exceeded): as in OTP, the node goes down.
      void kernel.stop().then(() => resolveStopped(reason));
    },
  });
  await kernel.start();
  const definitions = new Map<string, AgentDefinition>();
  const register = (def: AgentDefinition): void => {
    if (!isAgentDefinition(def)) {
      throw new AgentOsError(ErrorCodes.invalidAgent, 'register: expected a defineAgent(...) definition', { field: 'definition' });
    }
    definitions.set(`${def.name}@${def.version}`, def);
    definitions.set(def.name, def);
  };
  return {
    name: options.name,
    dataDir,
    clock,
    kernel,
    stopped,
    async spawn(definition: AgentDefinition | SupervisorSpec<StartTarget>, spawnOptions: SpawnOptions): Promise<ActorRef<any>> {
      if (isAgentDefinition(definition)) register(definition);
      return kernel.spawn(definition, spawnOptions);
    },
    register,
    definition: (name, version) => definitions.get(version === undefined ? name : `${name}@${version}`),
    lookup: (id) => kernel.lookup(id),
    tree: () => kernel.tree(),
    deadLetters: () => kernel.deadLetters.list(),
    stats: () => ({ actors: kernel.actorCount, deadLetters: kernel.deadLetters.count, scheduler: kernel.scheduler.stats() }),
    async stop() {
      await kernel.stop();
      resolveStopped({ kind: 'shutdown' });
    },
  };
}
