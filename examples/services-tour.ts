// A tour of the services, from one agent defined as a state machine: it learns
// a few policy documents into memory (rag.ingest), then answers a customer by
// calling a native tool (orders.lookup), a tool of a mounted MCP server over
// stdio (crm.customer_notes), retrieving from memory with citations (rag.query)
// and streaming its answer from a local model (streamCompletion). Every call is
// checked against the agent's contract, audited and traced: the tour prints one
// trace tree per turn and the audit head, and returns what it saw.
import { fileURLToPath } from 'node:url';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { callTool, createNode, defineAgent, defineTool, mountMcpServer, streamCompletion, syscall, type StreamCompletionEvent, type Citation, type CompletionRequest, type IngestReport, type McpToolResult, type RagAnswer } from '../src/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const NOTES_SERVER = fileURLToPath(new URL('./support/mcp-notes-server.ts', import.meta.url));

const DOCS = [
  { id: 'refund-policy', text: 'Refunds are accepted within 30 days of delivery. Once approved, a refund reaches the original card within 5 business days. Items must be returned unused.' },
  { id: 'shipping-policy', text: 'Standard shipping takes 3 to 5 business days. Express shipping arrives the next business day when ordered before noon.' },
  { id: 'warranty', text: 'Electronics carry a two-year warranty covering manufacturing defects. Accidental damage is not covered by the warranty.' },
];

// ── a native tool ─────────────────────────────────────────────────────────
interface Order {
  orderId: string;
  status: 'delivered' | 'in_transit';
  deliveredDaysAgo: number;
}
const ORDERS: Record<string, Order> = { 'A-1001': { orderId: 'A-1001', status: 'delivered', deliveredDaysAgo: 3 } };
const ordersLookup = defineTool({
  name: 'orders.lookup',
  description: 'An order by id: its status and how many days ago it was delivered.',
  input: z.object({ orderId: z.string().regex(/^[A-Z]-\d{4}$/) }),
  output: z.object({ orderId: z.string(), status: z.enum(['delivered', 'in_transit']), deliveredDaysAgo: z.number() }),
  execute: ({ orderId }) => ORDERS[orderId] ?? { orderId, status: 'in_transit' as const, deliveredDaysAgo: 0 },
});

// ── a local model: extractive, deterministic, no weights ──────────────────
/** States the FACT lines of the system prompt, then from each numbered source the sentence closest to the question, cited as [n]. */
function supportModel(request: CompletionRequest): { text: string } {
  const system = request.messages.find((m) => m.role === 'system')?.content ?? '';
  const question = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const stems = (s: string): Set<string> => new Set((s.toLowerCase().match(/[a-z]{4,}/g) ?? []).map((w) => w.slice(0, 5)));
  const asked = stems(question);
  const facts = [...system.matchAll(/^FACT: (.+)$/gm)].map((m) => m[1]!.trim());
  const cited = [...system.matchAll(/^\[(\d+)\] (.+)$/gm)].flatMap(([, n, text]) => {
    const scored = text!.split(/(?<=\.)\s+/).map((sentence) => ({ sentence, score: [...stems(sentence)].filter((w) => asked.has(w)).length }));
    const best = scored.sort((a, b) => b.score - a.score)[0];
    return best && best.score >= 2 ? [`${best.sentence.replace(/\.$/, '')} [${n}].`] : [];
  });
  return { text: [...facts, ...cited].join(' ') };
}

// ── the agent ─────────────────────────────────────────────────────────────
const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('learn'), docs: z.array(z.object({ id: z.string(), text: z.string() })) }),
  z.object({ type: z.literal('ask'), orderId: z.string(), customer: z.string(), question: z.string() }),
]);

interface TourContext {
  docs: { id: string; text: string }[];
  ingested: IngestReport[];
  orderId: string;
  customer: string;
  question: string;
  order?: Order;
  notes?: McpToolResult;
  rag?: RagAnswer;
  chunks: string[];
  answer?: string;
  error?: { at: string; code: string; message: string };
}

/** The prompt: what the tools said as FACT lines, the retrieved passages numbered as the citations are. */
function prompt(c: TourContext): CompletionRequest['messages'] {
  const notes = (c.notes?.structuredContent?.notes as string[] | undefined) ?? [];
  const lines = [
    'Answer the customer from the facts and numbered sources below; cite sources as [n].',
    `FACT: Order ${c.order!.orderId} was ${c.order!.status === 'delivered' ? `delivered ${c.order!.deliveredDaysAgo} days ago` : 'not delivered yet'}.`,
    ...(notes[0] ? [`FACT: Customer note: ${notes[0]}`] : []),
    ...c.rag!.passages.map((p, i) => `[${i + 1}] ${p.text.replace(/\s+/g, ' ').trim()}`),
  ];
  return [
    { role: 'system', content: lines.join('\n') },
    { role: 'user', content: c.question },
  ];
}

const machine = setup({
  types: { context: {} as TourContext, events: {} as z.infer<typeof messages> | StreamCompletionEvent },
  actors: { syscall, lookupOrder: callTool('orders.lookup'), streamCompletion },
  actions: {
    // A failed call (xstate.error.actor's `error`) or a refused stream (model.error), kept with the state it failed in.
    recordError: assign({
      error: ({ event }, params: { at: string }) => {
        const e = ((event as { error?: unknown }).error ?? event) as { code?: string; message?: string };
        return { at: params.at, code: e.code ?? 'ERROR', message: e.message ?? String(e) };
      },
    }),
  },
}).createMachine({
  id: 'tour',
  context: { docs: [], ingested: [], orderId: '', customer: '', question: '', chunks: [] },
  initial: 'idle',
  states: {
    idle: { on: { learn: { target: 'learning', actions: assign({ docs: ({ event }) => event.docs, ingested: [] }) } } },
    // One rag.ingest per document, then ready.
    learning: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => {
          const doc = context.docs[context.ingested.length]!;
          return { kind: 'memory' as const, name: 'rag.ingest', args: { sourceId: doc.id, text: doc.text } };
        },
        onDone: [
          { guard: ({ context }) => context.ingested.length + 1 < context.docs.length, target: 'learning', reenter: true, actions: assign({ ingested: ({ context, event }) => [...context.ingested, event.output as IngestReport] }) },
          { target: 'ready', actions: assign({ ingested: ({ context, event }) => [...context.ingested, event.output as IngestReport] }) },
        ],
        onError: { target: '#tour.failed', actions: { type: 'recordError', params: { at: 'learning' } } },
      },
    },
    ready: {
      on: { ask: { target: 'lookingUpOrder', actions: assign(({ event }) => ({ orderId: event.orderId, customer: event.customer, question: event.question, chunks: [] })) } },
    },
    // (a) a native tool.
    lookingUpOrder: {
      invoke: {
        src: 'lookupOrder',
        input: ({ context }: { context: TourContext }) => ({ orderId: context.orderId }),
        onDone: { target: 'readingNotes', actions: assign({ order: ({ event }) => event.output as Order }) },
        onError: { target: '#tour.failed', actions: { type: 'recordError', params: { at: 'lookingUpOrder' } } },
      },
    },
    // (b) a tool of the mounted MCP server.
    readingNotes: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'crm.customer_notes', args: { customer: context.customer } }),
        onDone: { target: 'retrieving', actions: assign({ notes: ({ event }) => event.output as McpToolResult }) },
        onError: { target: '#tour.failed', actions: { type: 'recordError', params: { at: 'readingNotes' } } },
      },
    },
    // (d) retrieval from memory, with citations.
    retrieving: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'memory' as const, name: 'rag.query', args: { query: context.question, topK: 2 } }),
        onDone: { target: 'answering', actions: assign({ rag: ({ event }) => event.output as RagAnswer }) },
        onError: { target: '#tour.failed', actions: { type: 'recordError', params: { at: 'retrieving' } } },
      },
    },
    // (c) the answer, streamed from the local model: the statechart waits here, chunk by chunk.
    answering: {
      invoke: { src: 'streamCompletion', input: ({ context }) => ({ model: 'local/support', messages: prompt(context), maxTokens: 200 }) },
      on: {
        'model.chunk': { actions: assign({ chunks: ({ context, event }) => [...context.chunks, event.text] }) },
        'model.done': { target: 'answered', actions: assign({ answer: ({ event }) => event.text }) },
        'model.error': { target: '#tour.failed', actions: { type: 'recordError', params: { at: 'answering' } } },
      },
    },
    answered: { on: { ask: { target: 'lookingUpOrder', actions: assign(({ event }) => ({ orderId: event.orderId, customer: event.customer, question: event.question, chunks: [], answer: undefined })) } } },
    failed: {},
  },
});

const support = defineAgent({
  name: 'support-agent',
  messages,
  machine,
  // Exactly what the tour uses: two tools, two memory calls, one model; a memory namespace and a token budget.
  contract: {
    capabilities: ['orders.lookup', 'crm.customer_notes', 'rag.ingest', 'rag.query'],
    modelPolicy: { allow: ['local/support'], max_context_tokens: 4000 },
    memory: { namespace: 'support', retention_days: 30 },
    budgets: { tokens: 20_000 },
  },
});

// ── printing ──────────────────────────────────────────────────────────────
function label(s: ReadableSpan): string {
  const a = s.attributes;
  const what =
    s.name === 'agentos.deliver' ? `${String(a['agentos.message.type'])} → ${String(a['agentos.actor'])}`
    : s.name === 'agentos.syscall' ? `${String(a['agentos.syscall.kind'])} ${String(a['agentos.syscall.name'])}`
    : s.name === 'agentos.tool' ? String(a['agentos.tool.name'] ?? '')
    : s.name === 'agentos.model' ? `${String(a['gen_ai.response.model'] ?? a['gen_ai.request.model'])}, ${String(a['gen_ai.usage.output_tokens'] ?? '?')} tokens out`
    : s.name === 'agentos.retrieve' ? `${String(a['agentos.rag.hits'] ?? '?')} passages`
    : s.name === 'agentos.ingest' ? String(a['agentos.rag.source'] ?? '')
    : '';
  return what ? `${s.name} (${what})` : s.name;
}

/** Span names indented by parent, one tree per trace. */
function traceTree(spans: readonly ReadableSpan[]): string[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string, ReadableSpan[]>();
  for (const s of spans) {
    const parent = s.parentSpanContext?.spanId;
    if (parent && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const start = (s: ReadableSpan): number => s.startTime[0] * 1e9 + s.startTime[1];
  const lines: string[] = [];
  const walk = (s: ReadableSpan, depth: number): void => {
    lines.push(`${'  '.repeat(depth)}${label(s)}`);
    for (const c of (children.get(s.spanContext().spanId) ?? []).sort((x, y) => start(x) - start(y))) walk(c, depth + 1);
  };
  const roots = spans.filter((s) => !s.parentSpanContext?.spanId || !ids.has(s.parentSpanContext.spanId)).sort((x, y) => start(x) - start(y));
  for (const r of roots) {
    lines.push(`trace ${r.spanContext().traceId.slice(0, 8)}…`);
    walk(r, 1);
  }
  return lines;
}

export interface TourSummary {
  ingested: string[];
  order: Order;
  notes: McpToolResult;
  citations: Pick<Citation, 'sourceId' | 'chunk' | 'ref'>[];
  chunks: number;
  streamed: string;
  answer: string;
  /** One per turn: the message it handled, its trace id and the span names in that trace. */
  traces: { message: string; traceId: string; spans: string[] }[];
  audit: { size: number; rootHash: string; ok: boolean };
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`services tour: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function main(dataDir = '.agentos/services-tour'): Promise<TourSummary> {
  const spans = new InMemorySpanExporter();
  const node = await createNode({
    name: 'tour',
    dataDir,
    tools: [ordersLookup],
    modelGateway: {
      local: { models: { support: supportModel } },
      catalog: [{ id: 'local/support', contextTokens: 8192, placement: 'edge', privacy: ['public', 'internal', 'confidential', 'pii'] }],
    },
    telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] },
  });
  let mount: Awaited<ReturnType<typeof mountMcpServer>> | undefined;
  try {
    // The MCP server runs as a child process; its tools join the registry under `crm.`.
    mount = await mountMcpServer(node, { prefix: 'crm', transport: { stdio: { command: process.execPath, args: ['--import', 'tsx', NOTES_SERVER], cwd: repoRoot } } });
    const ref = await node.spawn(support, { id: 'support' });
    const state = (): unknown => ref.getSnapshot()?.value;
    const ctx = (): TourContext => ref.getSnapshot()!.context as TourContext;
    const settled = (target: string) => () => state() === target || state() === 'failed';

    ref.send({ type: 'learn', docs: DOCS });
    await waitFor(settled('ready'), 'the documents to be ingested');
    ref.send({ type: 'ask', orderId: 'A-1001', customer: 'ada@example.com', question: 'How many days until my refund reaches my card for order A-1001?' });
    await waitFor(settled('answered'), 'the answer');
    const c = ctx();
    if (state() === 'failed') throw new Error(`services tour failed in ${c.error?.at}: ${c.error?.code} ${c.error?.message}`);
    await node.telemetry.flush();

    const finished = spans.getFinishedSpans();
    const traces = finished
      .filter((s) => s.name === 'agentos.deliver' && s.attributes['agentos.actor'] === 'support')
      .map((turn) => {
        const traceId = turn.spanContext().traceId;
        return { message: String(turn.attributes['agentos.message.type']), traceId, spans: [...new Set(finished.filter((s) => s.spanContext().traceId === traceId).map((s) => s.name))].sort() };
      });
    const head = node.audit.head();
    const verified = node.audit.verify();
    const summary: TourSummary = {
      ingested: c.ingested.map((r) => r.sourceId),
      order: c.order!,
      notes: c.notes!,
      citations: c.rag!.citations.map((x) => ({ sourceId: x.sourceId, chunk: x.chunk, ref: x.ref })),
      chunks: c.chunks.length,
      streamed: c.chunks.join(''),
      answer: c.answer!,
      traces,
      audit: { size: head.size, rootHash: head.rootHash, ok: verified.ok },
    };

    console.log(`order: ${JSON.stringify(summary.order)}`);
    console.log(`crm notes (MCP): ${JSON.stringify(summary.notes.structuredContent)}`);
    console.log(`answer (${summary.chunks} chunks): ${summary.answer}`);
    console.log(`citations: ${summary.citations.map((x, i) => `[${i + 1}] ${x.sourceId}#${x.chunk}`).join(', ')}`);
    for (const line of traceTree(finished)) console.log(line);
    console.log(`audit: ${head.size} records, root ${head.rootHash.slice(0, 16)}…, verify ${verified.ok ? 'ok' : 'FAILED'}`);
    return summary;
  } finally {
    await mount?.close();
    await node.stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
