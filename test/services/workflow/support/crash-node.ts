// A node in its own process running a six-step workflow; each step's agent works
// 40 ms (on the node clock, a real one here) and writes a line to the log before
// answering — so the parent can SIGKILL this process between any two steps, or
// while a step is in flight, and check what ran. Usage: crash-node.ts <dataDir> <log> <runId>
import { appendFileSync } from 'node:fs';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, replyHandle, respond, type ReplyHandle } from '../../../../src/index.js';
import { ir } from '../../../support/workflow.js';

const [dataDir, log, runId] = process.argv.slice(2) as [string, string, string];

type Ctx = { h: ReplyHandle | undefined; call: { step: string; key: string; attempt: number; input: Record<string, unknown> } | undefined };
const machine = setup({ types: { context: {} as Ctx, events: {} as { type: string; step: string; key: string; attempt: number; input: Record<string, unknown> } } }).createMachine({
  context: { h: undefined, call: undefined },
  initial: 'idle',
  states: {
    idle: { on: { step: { target: 'working', actions: assign({ h: (a) => replyHandle(a), call: (args: { event: unknown }) => args.event as Ctx['call'] }) }, 'agentos.shutdown': 'down' } },
    working: {
      after: {
        40: {
          target: 'idle',
          actions: [
            ({ context }) => appendFileSync(log, `${context.call!.step} ${context.call!.key} ${context.call!.attempt}\n`),
            respond(({ context }) => (context as Ctx).h, ({ context }) => ({ n: ((context as Ctx).call!.input.n as number | undefined ?? 0) + 1 })),
          ],
        },
      },
    },
    down: { type: 'final' },
  },
});
const worker = defineAgent({ name: 'worker', machine, messages: z.object({ type: z.string() }).passthrough() });

const ids = ['s1', 's2', 's3', 's4', 's5', 's6'];
const wf = ir({ name: 'six', output: { n: 's6.n' }, steps: ids.map((id, i) => ({ id, in: i === 0 ? [] : ['n'], out: ['n'], idempotent: true })) });

// The node clock's timers do not hold the process open; this does, until the run ends.
const keepAlive = setInterval(() => {}, 1000);
const node = await createNode({ name: 'crash', dataDir, memory: false, agents: [worker], workflows: [wf] });
await node.workflows.start('six', {}, { runId });
const run = await node.workflows.wait(runId);
appendFileSync(log, `done ${run.status} ${JSON.stringify(run.output)}\n`);
await node.stop();
clearInterval(keepAlive);
process.exit(0);
