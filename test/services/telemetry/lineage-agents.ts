// An assistant that, in one turn, asks a local model, retrieves with
// `rag.query` and calls a tool — the shape lineage records — plus the tool, a
// policy document to ingest, and the secrets the redactor must scrub. Shared
// by the lineage tests and the `agentos serve` fixture of the CLI test.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, defineTool, reply, syscall, type AgentOsError } from '../../../src/index.js';

/** A registered secret: it appears in the tool's arguments and must never reach a record. */
export const CRM_TOKEN = 'crm-token-7f3a9c1e5b2d4680';
/** A credential shape (api-key rule) the agent puts in its system prompt. */
export const API_KEY = 'sk-live-0123456789abcdefXYZ';
export const SECRETS = { crm: CRM_TOKEN };

export const POLICY = 'Refunds: unopened appliances may be returned within 30 days for a full refund. Opened items get store credit.';

export const ordersLookup = defineTool({
  name: 'orders.lookup',
  description: 'looks up an order (needs the CRM token)',
  input: z.object({ id: z.string(), token: z.string() }),
  output: z.object({ id: z.string(), status: z.string(), note: z.string() }),
  execute: ({ id }) => ({ id, status: 'delivered', note: 'internal: password=hunter2hunter2' }),
});

export const assistantMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('question'), text: z.string(), order: z.string() }),
  z.object({ type: z.literal('status') }),
]);
type AssistantEvent = z.infer<typeof assistantMessages>;

export interface AssistantContext {
  question: string;
  order: string;
  done: number;
  error: string | null;
}

/** The messages the assistant sends the model for `question` (what the prompt hash covers). */
export const promptFor = (question: string) => [
  { role: 'system' as const, content: `Answer from the refund policy. Service key ${API_KEY}.` },
  { role: 'user' as const, content: question },
];

/** The tool arguments the assistant sends for `order`. */
export const lookupArgs = (order: string) => ({ id: order, token: CRM_TOKEN });

const machine = setup({
  types: { context: {} as AssistantContext, events: {} as AssistantEvent },
  actors: { syscall },
}).createMachine({
  context: { question: '', order: '', done: 0, error: null },
  initial: 'idle',
  on: { status: { actions: reply(({ context }) => ({ done: context.done, error: context.error })) } },
  states: {
    idle: {
      on: { question: { target: 'thinking', actions: assign({ question: ({ event }) => event.text, order: ({ event }) => event.order, error: null }) } },
    },
    thinking: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'model' as const, name: 'local/echo', args: { messages: promptFor(context.question), maxTokens: 64 } }),
        onDone: 'retrieving',
        onError: { target: 'idle', actions: assign({ error: ({ event }) => (event.error as AgentOsError).code }) },
      },
    },
    retrieving: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'memory' as const, name: 'rag.query', args: { query: context.question } }),
        onDone: 'acting',
        onError: { target: 'idle', actions: assign({ error: ({ event }) => (event.error as AgentOsError).code }) },
      },
    },
    acting: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'orders.lookup', args: lookupArgs(context.order) }),
        onDone: { target: 'idle', actions: assign({ done: ({ context }) => context.done + 1 }) },
        onError: { target: 'idle', actions: assign({ error: ({ event }) => (event.error as AgentOsError).code }) },
      },
    },
  },
});

/** The assistant under a contract with the given `observability` section. */
export const assistant = (observability: { tracing?: boolean; log_fields?: string[] } = {}, name = 'assistant') =>
  defineAgent({
    name,
    machine,
    messages: assistantMessages,
    contract: {
      capabilities: ['orders.lookup', 'rag.query', 'rag.ingest'],
      modelPolicy: { allow: ['local/*'], max_context_tokens: 4096 },
      memory: { namespace: 'support', retention_days: 30, rag: { top_k: 2 } },
      observability,
    },
  });
