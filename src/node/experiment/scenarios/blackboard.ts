// The `blackboard` experiment: N knowledge sources cooperatively assemble a
// seeded set of integers into one sorted list on the blackboard (`sorted`), each
// owning some of the integers. A controller picks which source runs next
// (priority, fifo or seeded random); an activation reads `sorted` — always
// (`read-first`) or only when it has no copy from its last activation
// (`optimistic`) —, thinks for its seeded time on the virtual clock, and writes
// its next `batch` of integers merged in, compare-and-set on the version it read.
// A stale write is a conflict: the source reads again and retries (up to
// `retries`). One row per activation; the summary counts activations, writes,
// stale-write conflicts and the virtual time until the list was complete.

import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { respond, replyHandle, type ReplyHandle } from '../../../actors/reply.js';
import { defineAgent } from '../../../actors/define.js';
import type { VirtualClock } from '../../../base/clock.js';
import { AgentOsError } from '../../../base/errors.js';
import {
  blackboard,
  boardActivateMessage,
  BlackboardCodes,
  BlackboardService,
  type ActivationRecord,
  type BoardEntry,
  type ControllerStrategyName,
} from '../../../services/blackboard/index.js';
import type { AgentOsNode } from '../../node.js';
import { defineExperiment, type ExperimentRow } from '../types.js';

const params = z
  .object({
    sources: z.number().int().min(1).max(32).default(4),
    items: z.number().int().min(1).max(500).default(24),
    strategy: z.enum(['priority', 'fifo', 'random']).default('priority'),
    policy: z.enum(['optimistic', 'read-first']).default('optimistic'),
    batch: z.number().int().min(1).max(50).default(2),
    minThinkMs: z.number().int().min(0).max(60_000).default(2),
    maxThinkMs: z.number().int().min(0).max(60_000).default(10),
    retries: z.number().int().min(0).max(10).default(2),
    maxActivations: z.number().int().min(1).max(100_000).default(5_000),
    horizonMs: z.number().int().min(1).default(3_600_000),
  })
  .strict()
  .refine((p) => p.minThinkMs <= p.maxThinkMs, { message: 'must be >= minThinkMs', path: ['maxThinkMs'] });

export type BlackboardParams = z.infer<typeof params>;

const TENANT = 'experiment';
const SORTED = 'sorted';

export const blackboardScenario = defineExperiment<BlackboardParams>({
  name: 'blackboard',
  description: 'knowledge sources assemble a seeded sorted set on the blackboard under a controller strategy; counts activations, writes, stale-write conflicts, time to solution',
  parseParams(input) {
    const r = params.safeParse(input ?? {});
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    const field = issue.path.map(String).join('.') || 'params';
    throw new AgentOsError('EXPERIMENT_INVALID', `blackboard params: ${field}: ${issue.message}`, { field: `params.${field}` });
  },
  async run(ctx) {
    const p = ctx.params;
    const { node, clock, rng } = ctx;
    // The problem, from the seed: distinct integers, each owned by one source; each source's think time and priority.
    const values = new Set<number>();
    while (values.size < p.items) values.add(rng.int(p.items * 10));
    const owned: number[][] = Array.from({ length: p.sources }, () => []);
    for (const v of values) owned[rng.int(p.sources)]!.push(v);
    const sources = owned.map((mine, k) => ({
      id: `ks${k}`,
      mine: mine.sort((a, b) => a - b),
      thinkMs: p.minThinkMs + rng.int(p.maxThinkMs - p.minThinkMs + 1),
      priority: rng.int(10),
    }));

    const { board, close } = await boardOf(node);
    try {
      board.defineTopic(SORTED, z.object({ values: z.array(z.number().int()) }));
      let assembled = 0;
      let solvedAt: number | undefined;
      let conflicts = 0;
      let writes = 0;
      const onActivation = (r: ActivationRecord): void => {
        const out = (r.result ?? {}) as { inserted?: number; conflicts?: number };
        assembled += out.inserted ?? 0;
        conflicts += out.conflicts ?? 0;
        if ((out.inserted ?? 0) > 0) writes++;
        if (solvedAt === undefined && assembled === p.items) solvedAt = r.endedAt;
        ctx.record({
          seed: ctx.seed,
          activation: r.activation,
          source: r.source,
          priority: r.priority,
          startedAt: r.startedAt,
          endedAt: r.endedAt,
          outcome: r.outcome,
          code: r.code ?? null,
          inserted: out.inserted ?? 0,
          conflicts: out.conflicts ?? 0,
          agenda: r.agenda,
          assembled,
        });
      };
      for (const s of sources) {
        await node.spawn(knowledgeSource, {
          id: s.id,
          tenant: TENANT,
          input: { mine: s.mine, thinkMs: s.thinkMs, policy: p.policy, batch: p.batch, retries: p.retries } satisfies SourceInput,
        });
      }
      const controller = board.controller({ name: `assemble-${ctx.seed}`, tenant: TENANT, strategy: p.strategy as ControllerStrategyName, rng, maxActivations: p.maxActivations, onActivation });
      for (const s of sources) {
        const mine = new Set(s.mine);
        controller.register({
          id: s.id,
          trigger: ['task', SORTED],
          priority: s.priority,
          // Run only while some of its integers are still missing from the list.
          precondition: (view) => {
            const have = new Set(((view.read(SORTED) as BoardEntry<{ values: number[] }> | null)?.value.values ?? []));
            return [...mine].some((v) => !have.has(v));
          },
        });
      }
      await board.tenant(TENANT, { by: 'environment' }).post('task', { items: p.items });
      await runBoard(node, board, clock, () => solvedAt !== undefined || controller.isIdle, p.horizonMs);
      const stats = controller.stats();
      return {
        seed: ctx.seed,
        strategy: p.strategy,
        policy: p.policy,
        sources: p.sources,
        items: p.items,
        activations: stats.activations,
        failed: stats.failed,
        skipped: stats.skipped,
        writes,
        staleWrites: board.stats().staleWrites,
        conflicts,
        solved: solvedAt !== undefined,
        timeToSolutionMs: solvedAt ?? null,
        virtualMs: clock.now(),
      } satisfies ExperimentRow;
    } finally {
      await close();
    }
  },
});

export default blackboardScenario;

// ── the knowledge source ──────────────────────────────────────────────────

interface SourceInput {
  /** The integers this source owns, ascending. */
  mine: number[];
  thinkMs: number;
  policy: 'optimistic' | 'read-first';
  batch: number;
  retries: number;
}

interface SourceContext extends SourceInput {
  /** Owned integers not yet on the board. */
  pending: number[];
  /** The list as this source last saw it (version 0: the topic does not exist yet). */
  copy: { version: number; values: number[] } | undefined;
  handle: ReplyHandle | undefined;
  conflicts: number;
  inserted: number;
}

const sourceMessages = z.discriminatedUnion('type', [boardActivateMessage]);

const merged = (ctx: SourceContext): number[] => {
  const have = new Set(ctx.copy?.values ?? []);
  const add = ctx.pending.filter((v) => !have.has(v)).slice(0, ctx.batch);
  return [...(ctx.copy?.values ?? []), ...add].sort((a, b) => a - b);
};

const sourceMachine = setup({
  types: { context: {} as SourceContext, events: {} as z.infer<typeof sourceMessages>, input: {} as SourceInput },
  actors: { blackboard },
  delays: { think: ({ context }) => context.thinkMs },
  guards: {
    mustRead: ({ context }) => context.policy === 'read-first' || context.copy === undefined,
    mayRetry: ({ context, event }) => (event as { error?: { code?: string } }).error?.code === BlackboardCodes.staleWrite && context.conflicts < context.retries,
  },
}).createMachine({
  context: ({ input }) => ({ ...input, pending: [...input.mine], copy: undefined, handle: undefined, conflicts: 0, inserted: 0 }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        'board.activate': [
          { guard: 'mustRead', target: 'reading', actions: assign({ handle: (args) => replyHandle(args), conflicts: 0, inserted: 0 }) },
          { target: 'thinking', actions: assign({ handle: (args) => replyHandle(args), conflicts: 0, inserted: 0 }) },
        ],
      },
    },
    reading: {
      invoke: {
        src: 'blackboard',
        input: { op: 'read', topic: SORTED },
        onDone: {
          target: 'thinking',
          actions: assign({
            copy: ({ event }) => {
              const e = event.output as BoardEntry<{ values: number[] }> | null;
              return e ? { version: e.version, values: [...e.value.values] } : { version: 0, values: [] };
            },
          }),
        },
        onError: 'done',
      },
    },
    thinking: { after: { think: 'writing' } },
    writing: {
      invoke: {
        src: 'blackboard',
        input: ({ context }) => ({ op: 'post' as const, topic: SORTED, value: { values: merged(context) }, expectedVersion: context.copy?.version ?? 0 }),
        onDone: {
          target: 'done',
          actions: assign(({ context, event }) => {
            const e = event.output as BoardEntry<{ values: number[] }>;
            const on = new Set(e.value.values);
            const pending = context.pending.filter((v) => !on.has(v));
            return { copy: { version: e.version, values: [...e.value.values] }, inserted: context.pending.length - pending.length, pending };
          }),
        },
        onError: [
          { guard: 'mayRetry', target: 'reading', actions: assign({ conflicts: ({ context }) => context.conflicts + 1 }) },
          { target: 'done', actions: assign({ conflicts: ({ context, event }) => context.conflicts + ((event.error as { code?: string }).code === BlackboardCodes.staleWrite ? 1 : 0) }) },
        ],
      },
    },
    done: {
      entry: respond(({ context }) => context.handle, ({ context }) => ({ inserted: context.inserted, conflicts: context.conflicts })),
      always: { target: 'idle', actions: assign({ handle: undefined }) },
    },
  },
});

const knowledgeSource = defineAgent({
  name: 'bb-assembler',
  machine: sourceMachine,
  messages: sourceMessages,
  contract: { capabilities: ['blackboard.read', 'blackboard.write.sorted'] },
});

// ── driving the run ───────────────────────────────────────────────────────

/** The node's blackboard, or one started here on its own LMDB under the node's data dir (closed when the run ends). */
async function boardOf(node: AgentOsNode): Promise<{ board: BlackboardService; close: () => Promise<void> }> {
  const wired = (node as { blackboard?: unknown }).blackboard;
  if (wired instanceof BlackboardService) return { board: wired, close: async () => undefined };
  const db: RootDatabase = open({ path: join(node.dataDir, `${node.name}-blackboard`), maxDbs: 4 });
  const board = new BlackboardService({ db, kernel: node.kernel });
  await board.start();
  return {
    board,
    close: async () => {
      await board.close();
      await db.close();
    },
  };
}

/**
 * Let the node and the board work until nothing is runnable and every write is
 * durable (LMDB's flush is the one thing that takes real time), then move the
 * clock to the next timer; until `done()` or the horizon. Advancing only when
 * all is quiet is what makes a run a function of its seed.
 */
export async function runBoard(node: AgentOsNode, board: BlackboardService, clock: VirtualClock, done: () => boolean, horizonMs: number): Promise<void> {
  const horizon = clock.now() + horizonMs;
  for (;;) {
    await settleBoard(node, board);
    if (done()) return;
    const at = (clock as { nextTimerAt?: () => number | undefined }).nextTimerAt?.() ?? (clock.pending() > 0 ? clock.now() + 1 : undefined);
    if (at === undefined || at > horizon) return;
    clock.advanceTo(at);
  }
}

/** Quiet: two event-loop turns in a row with no scheduler work and no write waiting for the disk. */
export async function settleBoard(node: AgentOsNode, board: BlackboardService): Promise<void> {
  for (let quiet = 0; quiet < 2; ) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const pending = board.stats().pendingWrites > 0;
    if (pending) await board.settled().catch(() => undefined);
    quiet = pending || node.kernel.scheduler.hasWork() ? 0 : quiet + 1;
  }
}
