// The blackboard: knowledge sources cooperate on a shared, typed, versioned board.
// A seeded batch of sensor readings is posted; `count` and `sum` (each allowed to
// write only its own topic) post statistics, `mean` waits (precondition) until
// both describe the same batch, and `spread` follows the mean. A priority
// controller activates one source at a time; a `reporter` subscribes to `stats.*`.
// Then a stale compare-and-set and a write outside a source's grant are refused
// (typed errors, audited), a second batch runs the chain again, and the audit
// log is verified. Run: npx tsx examples/blackboard/run.ts [seed]
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, replyHandle, respond, seededRng, type AgentOsNode, type ReplyHandle } from '../../src/index.js';
import {
  blackboard,
  boardActivateMessage,
  boardChangedMessage,
  BlackboardService,
  type BoardChangedMessage,
  type BoardEntry,
} from '../../src/services/blackboard/index.js';

type Board = Record<string, BoardEntry<any>>;
/** A knowledge source's expertise: from what is on the board, the entry it adds (or nothing). */
type Compute = (board: Board) => { topic: string; value: unknown } | null;

// One machine serves every source: read the board, compute, write compare-and-set, reply to the controller.
const sourceMachine = setup({
  types: {
    context: {} as { compute: Compute; handle?: ReplyHandle; board: Board; wrote?: string },
    events: {} as z.infer<typeof boardActivateMessage>,
    input: {} as { compute: Compute },
  },
  actors: { blackboard },
}).createMachine({
  context: ({ input }) => ({ compute: input.compute, board: {} }),
  initial: 'idle',
  states: {
    idle: { on: { 'board.activate': { target: 'reading', actions: assign({ handle: (args) => replyHandle(args), wrote: undefined }) } } },
    reading: {
      invoke: {
        src: 'blackboard',
        input: { op: 'query', pattern: '**' },
        onDone: { target: 'deciding', actions: assign({ board: ({ event }) => Object.fromEntries((event.output as BoardEntry[]).map((e) => [e.topic, e])) }) },
        onError: 'done',
      },
    },
    deciding: { always: [{ guard: ({ context }) => context.compute(context.board) === null, target: 'done' }, { target: 'writing' }] },
    writing: {
      invoke: {
        src: 'blackboard',
        input: ({ context }) => {
          const out = context.compute(context.board)!;
          return { op: 'post' as const, topic: out.topic, value: out.value, expectedVersion: context.board[out.topic]?.version ?? 0 };
        },
        onDone: { target: 'done', actions: assign({ wrote: ({ event }) => `${(event.output as BoardEntry).topic}@${(event.output as BoardEntry).version}` }) },
        onError: { target: 'done', actions: assign({ wrote: ({ event }) => (event.error as { code: string }).code }) },
      },
    },
    done: { entry: respond(({ context }) => context.handle, ({ context }) => ({ wrote: context.wrote ?? null })), always: 'idle' },
  },
});

const source = (name: string, writes: string) =>
  defineAgent({ name, machine: sourceMachine, messages: boardActivateMessage, contract: { capabilities: ['blackboard.read', `blackboard.write.${writes}`] } });

// The reporter keeps every `board.changed` it hears.
const reporter = defineAgent({
  name: 'reporter',
  messages: z.discriminatedUnion('type', [boardChangedMessage]),
  contract: { capabilities: ['blackboard.read'] },
  machine: setup({ types: { context: {} as { heard: string[] }, events: {} as BoardChangedMessage } }).createMachine({
    context: { heard: [] },
    on: { 'board.changed': { actions: assign({ heard: ({ context, event }) => [...context.heard, `${event.topic}@${event.version}=${JSON.stringify(event.value)}`] }) } },
  }),
});

const Readings = z.object({ batch: z.number().int(), values: z.array(z.number()) });
const batchOf = (b: Board): number | undefined => b.readings?.value.batch;

export async function main(dataDir = '.agentos', seed = 7): Promise<{ mean: number[]; activations: string[]; audit: boolean }> {
  const node = await createNode({ name: 'blackboard-example', dataDir });
  const board = await blackboardOf(node);
  board.defineTopic('readings', Readings);
  const rng = seededRng(seed);
  const reading = () => Math.round((20 + rng.next() * 10) * 10) / 10;
  try {
    await node.spawn(source('count', 'stats.count'), { id: 'count', input: { compute: (b: Board) => (b.readings ? { topic: 'stats.count', value: { batch: batchOf(b), n: b.readings.value.values.length } } : null) } });
    await node.spawn(source('sum', 'stats.sum'), {
      id: 'sum',
      input: { compute: (b: Board) => (b.readings ? { topic: 'stats.sum', value: { batch: batchOf(b), sum: b.readings.value.values.reduce((s: number, x: number) => s + x, 0) } } : null) },
    });
    await node.spawn(source('mean', 'stats.mean'), {
      id: 'mean',
      input: { compute: (b: Board) => ({ topic: 'stats.mean', value: { batch: batchOf(b), mean: round(b['stats.sum']!.value.sum / b['stats.count']!.value.n) } }) },
    });
    await node.spawn(source('spread', 'stats.spread'), {
      id: 'spread',
      input: {
        compute: (b: Board) => {
          const m = b['stats.mean']!.value.mean as number;
          const xs = b.readings!.value.values as number[];
          return { topic: 'stats.spread', value: { batch: batchOf(b), sd: round(Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length)) } };
        },
      },
    });
    await node.spawn(reporter, { id: 'reporter' });
    await board.as('reporter').subscribe('stats.*');

    const ctl = board.controller({ name: 'stats', strategy: 'priority' });
    ctl.register({ id: 'count', trigger: 'readings', priority: 3 });
    ctl.register({ id: 'sum', trigger: 'readings', priority: 2 });
    // The mean needs a count and a sum of the same batch as the readings on the board.
    const sameBatch = (b: { read(t: string): BoardEntry<any> | null }, ...topics: string[]) => topics.every((t) => b.read(t)?.value.batch === b.read('readings')?.value.batch);
    ctl.register({ id: 'mean', trigger: 'stats.*', priority: 1, precondition: (b) => sameBatch(b, 'stats.count', 'stats.sum') && !sameBatch(b, 'stats.mean') });
    ctl.register({ id: 'spread', trigger: 'stats.mean', priority: 0, precondition: (b) => sameBatch(b, 'stats.mean') });

    const owner = board.tenant('default', { by: 'sensor' });
    const means: number[] = [];
    for (const batch of [1, 2]) {
      const values = Array.from({ length: 12 }, reading);
      await owner.post('readings', { batch, values }, { expectedVersion: batch - 1 });
      await ctl.idle();
      const mean = (await owner.read<{ mean: number }>('stats.mean'))!.value.mean;
      const sd = (await owner.read<{ sd: number }>('stats.spread'))!.value.sd;
      means.push(mean);
      console.log(`batch ${batch}: ${values.length} readings, mean ${mean}, sd ${sd}`);
      if (batch === 1) {
        // A stale compare-and-set and a write outside the writer's grant: typed errors, audited, nothing changed.
        await owner.post('readings', { batch: 9, values: [] }, { expectedVersion: 0 }).catch((e: { code: string; details?: unknown }) => console.log(`  stale write refused: ${e.code} ${JSON.stringify(e.details)}`));
        await board.as('sum').post('stats.mean', { batch: 1, mean: 0 }).catch((e: { code: string; message: string }) => console.log(`  ${e.code}: ${e.message}`));
        await owner.post('readings', { batch: 9, values: ['x'] }).catch((e: { code: string; field: string }) => console.log(`  typed topic refused: ${e.code} at ${e.field}`));
      }
    }
    await board.settled();
    await waitFor(() => heard(node).length >= 8);
    const activations = ctl.history.map((r) => `${r.activation}:${r.source}→${(r.result as { wrote: string | null }).wrote ?? '-'}`);
    console.log(`activations (priority, one at a time): ${activations.join(' ')}`);
    console.log(`reporter heard: ${heard(node).join(' ')}`);
    const stats = board.stats();
    console.log(`board: ${stats.topics} topics, ${stats.writes} writes, ${stats.staleWrites} stale, ${stats.refused} refused, ${stats.denied} denied`);
    const verified = node.audit.verify();
    console.log(`audit log: ${node.audit.head().size} records, verify: ${verified.ok ? 'ok' : 'TAMPERED'}`);
    return { mean: means, activations, audit: verified.ok };
  } finally {
    await node.stop();
    await closeOwnBoard?.();
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;
const heard = (node: AgentOsNode): string[] => (node.lookup('reporter')!.getSnapshot()!.context as { heard: string[] }).heard;

async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  for (const end = performance.now() + ms; !check() && performance.now() < end; ) await new Promise((r) => setTimeout(r, 1));
}

// Until createNode wires `node.blackboard`, start one here on its own LMDB beside the node's.
let closeOwnBoard: (() => Promise<void>) | undefined;
async function blackboardOf(node: AgentOsNode): Promise<BlackboardService> {
  const wired = (node as { blackboard?: BlackboardService }).blackboard;
  if (wired) return wired;
  const { open } = await import('lmdb');
  const db = open({ path: `${node.dataDir}/${node.name}-blackboard`, maxDbs: 4 });
  const board = new BlackboardService({ db, kernel: node.kernel });
  await board.start();
  closeOwnBoard = async () => {
    await board.close();
    await db.close();
  };
  return board;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/agentos-blackboard-`);
  try {
    await main(dir, Number(process.argv[2] ?? 7));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
