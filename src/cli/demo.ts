// The quickstart demo: a node, a small supervision tree, a crash and its
// restart, an ask, and the live tree printed. Run: npm start
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineTool, reply, supervisor, tell, type AgentOsError, type AgentOsNode } from '../index.js';
import { bookkeeper, ledgerBook } from './demo-agents.js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { renderTree } from './render.js';
import { permitSetup, runPermitFlow, type PermitOutcome } from './showcase.js';

const counterMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('get') }),
  z.object({ type: z.literal('crash') }),
]);

export const counter = defineAgent({
  name: 'counter',
  messages: counterMessages,
  machine: setup({
    types: { context: {} as { count: number }, events: {} as z.infer<typeof counterMessages> },
  }).createMachine({
    context: { count: 0 },
    on: {
      inc: { actions: [assign({ count: ({ context, event }) => context.count + event.by }), tell('audit', ({ event }) => ({ type: 'log', line: `inc ${event.by}` }))] },
      get: { actions: reply(({ context }) => context.count) },
      crash: {
        actions: () => {
          throw new Error('simulated fault');
        },
      },
    },
  }),
});

const logMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('log'), line: z.string() }), z.object({ type: z.literal('lines') })]);

export const auditor = defineAgent({
  name: 'auditor',
  messages: logMessages,
  contract: { class: { latency: 'DT' } },
  machine: setup({ types: { context: {} as { lines: string[] }, events: {} as z.infer<typeof logMessages> } }).createMachine({
    context: { lines: [] },
    on: {
      log: { actions: assign({ lines: ({ context, event }) => [...context.lines, event.line] }) },
      lines: { actions: reply(({ context }) => context.lines) },
    },
  }),
});

/** The showcase's supervision tree: an auditor and a counter (permanent) under one_for_one. */
export function demoApp() {
  return supervisor({
    id: 'app',
    strategy: 'one_for_one',
    intensity: 3,
    periodMs: 5000,
    children: [
      { id: 'audit', start: auditor },
      { id: 'counter', start: counter, restart: 'permanent' },
    ],
  });
}

/** An HRT guard: 10 ms period, the given worst-case execution time, may stop the pump. */
const guard = (name: string, wcetMs: number) =>
  defineAgent({
    name,
    messages: counterMessages,
    machine: counter.machine,
    contract: { class: { latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: wcetMs } }, capabilities: ['pump.stop'] },
  });

const pumpStop = defineTool({
  name: 'pump.stop',
  description: 'stops an infusion pump (demo: records the call)',
  input: z.object({ pump: z.string() }),
  output: z.object({ stopped: z.boolean() }),
  execute: () => ({ stopped: true }),
});

export interface DemoResult {
  count: number;
  restarts: number;
  refused: string | undefined;
  denied: string | undefined;
  auditOk: boolean;
  /** Orders the persistent bookkeeper has booked over all runs on this dataDir. */
  booked: number;
  /** Whether this run found the bookkeeper stored by an earlier run. */
  recovered: boolean;
  /** The city permit workflow run. */
  permit: PermitOutcome;
}

export interface DemoOptions {
  /** Wait for a person to approve the workflow's gate (`agentos approve`) instead of the demo reviewer. */
  interactive?: boolean;
  /** Keep the node running with its control endpoint until SIGINT/SIGTERM. */
  serve?: boolean;
}

export async function runDemo(log: (line: string) => void = console.log, dataDir = '.agentos', options: DemoOptions = {}): Promise<DemoResult> {
  const events: string[] = [];
  const invocations = { count: 0 };
  const permit = await permitSetup(`${dataDir}/demo`);
  const spans = new InMemorySpanExporter();
  const node = await createNode({
    name: 'demo',
    dataDir,
    ...permit.options,
    agents: [bookkeeper, ...permit.options.agents!],
    tools: [ledgerBook(invocations), ...permit.options.tools!],
    inspect: (e) => e.type.startsWith('@agentos.') && events.push(e.type),
    // Spans kept in memory (nothing leaves the machine), so the summary can follow the workflow's trace.
    telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] },
    // The control endpoint, for `agentos approve` (--interactive) and `ps`/`tree` (--serve).
    control: options.interactive === true || options.serve === true,
  });
  try {
    return await showcase(node, log, dataDir, options, events, invocations, spans);
  } finally {
    await node.stop();
    permit.close();
  }
}

async function showcase(
  node: AgentOsNode,
  log: (line: string) => void,
  dataDir: string,
  options: DemoOptions,
  events: string[],
  invocations: { count: number },
  spans: InMemorySpanExporter,
): Promise<DemoResult> {
  await node.spawn(demoApp(), { id: 'app' });
  const ref = node.lookup('counter')!;
  ref.send({ type: 'inc', by: 2 });
  ref.send({ type: 'inc', by: 3 });
  log(`counter after two incs: ${await ref.ask<number>({ type: 'get' })}`);
  ref.send({ type: 'crash' });
  ref.send({ type: 'inc', by: 1 });
  const count = await ref.ask<number>({ type: 'get' });
  log(`counter after a crash and a restart from its initial state: ${count}`);
  const lines = await node.lookup('audit')!.ask<string[]>({ type: 'lines' });
  log(`audit actor saw: ${lines.join(', ')}`);
  log('\nsupervision tree:\n' + renderTree(node.tree()));
  const restarts = events.filter((t) => t === '@agentos.supervisor.restart').length;

  // The kernel: admission against each contract, policy on every sensitive call, a signed audit log.
  log('\nkernel:');
  await node.spawn(guard('guard-a', 4), { id: 'guard-a' });
  await node.spawn(guard('guard-b', 4), { id: 'guard-b' });
  log('  admitted guard-a and guard-b (HRT, wcet 4 ms / period 10 ms each)');
  const refused = await node.spawn(guard('guard-c', 4), { id: 'guard-c' }).then(
    () => undefined,
    (err: AgentOsError) => (log(`  refused guard-c: ${err.code}: ${err.message}`), err.code),
  );
  node.tools.register(pumpStop);
  const result = await node.syscall('guard-a', { kind: 'tool', name: 'pump.stop', args: { pump: 'p1' } });
  log(`  guard-a called pump.stop: ${JSON.stringify(result)}`);
  const denied = await node.syscall('counter', { kind: 'tool', name: 'pump.stop', args: { pump: 'p1' } }).then(
    () => undefined,
    (err: AgentOsError) => (log(`  counter called pump.stop: ${err.code}: ${err.message}`), err.code),
  );
  await node.audit.flushed();
  const head = node.audit.head();
  const verified = node.audit.verify();
  log(`  audit log: ${head.size} records, root ${head.rootHash.slice(0, 16)}…, Ed25519 key ${head.publicKey.slice(0, 16)}…, verify: ${verified.ok ? 'ok' : verified.problem}`);

  // Durability: a persistent actor survives the process; its side effects run once per call.
  log('\ndurability:');
  const recovered = node.durability.recovery.restored.includes('books');
  const books = node.lookup('books') ?? (await node.spawn(bookkeeper, { id: 'books' }));
  if (recovered) log(`  recovered "books" from ${dataDir} (recovery took ${node.durability.recovery.ms.toFixed(1)} ms)`);
  const before = await books.ask<{ booked: number; total: number }>({ type: 'summary' });
  const run = before.booked / 2 + 1;
  await books.post({ type: 'order', id: `r${run}-a`, amount: 10 });
  await books.post({ type: 'order', id: `r${run}-b`, amount: 5 });
  // Watch the state (no message, so no turn) until both orders are booked.
  const bookedNow = (): number => (books.getSnapshot()?.context as { booked: string[] } | undefined)?.booked.length ?? 0;
  while (bookedNow() < before.booked + 2) await new Promise((r) => setTimeout(r, 1));
  const after = await books.ask<{ booked: number; total: number }>({ type: 'summary' });
  await books.checkpoint();
  const chains = node.durability.verify('books');
  log(`  books: ${after.booked} orders booked over all runs, total ${after.total}; this run called ledger.book ${invocations.count} times for 2 new orders`);
  log(`  effect journal: ${chains.ok ? `${chains.entries} entries, hash chain ok` : chains.problem}`);
  log('  run `npm start` again: "books" comes back from its checkpoint with every order it booked.');
  log('  replay its history: npx agentos replay books --data-dir ' + dataDir + ' --node demo');

  // Workflows: the paper's city permit assistant, with its human approval gate.
  log('\nworkflow:');
  const permit = await runPermitFlow(node, log, { dataDir, ...(options.interactive ? { interactive: true } : {}) });

  await node.audit.flushed();
  const final = node.audit.head();
  const stats = node.stats();
  const delivered = stats.scheduler.HRT.delivered + stats.scheduler.SRT.delivered + stats.scheduler.DT.delivered;
  log('\nsummary:');
  log(`  actors ${stats.actors}, messages delivered ${delivered}, tool calls ${node.tools.stats().calls}, system events ${events.length} (${restarts} restart)`);
  log(`  audit head: ${final.size} records, root ${final.rootHash.slice(0, 16)}…, verify: ${node.audit.verify().ok ? 'ok' : 'FAILED'}`);
  const trace = spans.getFinishedSpans().filter((sp) => sp.spanContext().traceId === permit.traceId);
  const byName = new Map<string, number>();
  for (const sp of trace) byName.set(sp.name, (byName.get(sp.name) ?? 0) + 1);
  log(`  trace of the workflow run ${permit.traceId}: ${trace.length} spans (${[...byName].map(([n, c]) => `${c} ${n}`).join(', ')})`);
  if (options.serve) {
    log('\nserving: try `npx agentos ps`, `npx agentos tree`, `npx agentos approvals` (Ctrl-C stops the node)');
    await untilSignal(node);
  }
  return { count, restarts, refused, denied, auditOk: verified.ok, booked: after.booked, recovered, permit };
}

/** Until SIGINT/SIGTERM, or the node stops by itself. */
function untilSignal(node: AgentOsNode): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    void node.stopped.then(done);
  });
}
