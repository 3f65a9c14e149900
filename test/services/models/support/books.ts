// Shared by the gateway's books tests: an agent that asks a model when told to,
// an in-process provider that records what it was sent, and a node on a real
// LMDB with a VirtualClock whose audit log a test reads back.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, syscall, VirtualClock, type AgentOsNode, type NodeOptions } from '../../../../src/index.js';
import type { Completion, CompletionRequest, ModelChunk, ModelEntry, ModelError, ModelGateway, ModelProvider, ProviderCall, ProviderNetwork, Usage } from '../../../../src/services/models/index.js';
import { tempDir } from '../../../support/tmp.js';

export const askMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ask'), model: z.string(), content: z.string(), tokens: z.number().optional() }),
]);

const askMachine = setup({
  types: { context: {} as { answer?: Completion; error?: string; calls: number }, events: {} as z.infer<typeof askMessages> },
  actors: { syscall },
}).createMachine({
  context: { calls: 0 },
  initial: 'idle',
  states: {
    idle: { on: { ask: 'asking' } },
    asking: {
      invoke: {
        src: 'syscall',
        input: ({ event }) => ({
          kind: 'model' as const,
          name: event.model,
          args: { messages: [{ role: 'system', content: 'You are a test agent.' }, { role: 'user', content: event.content }], maxTokens: 64 },
          ...(event.tokens === undefined ? {} : { tokens: event.tokens }),
        }),
        onDone: { target: 'idle', actions: assign({ answer: ({ event }) => event.output as Completion, error: undefined, calls: ({ context }) => context.calls + 1 }) },
        onError: { target: 'idle', actions: assign({ error: ({ event }) => (event.error as { code: string }).code, calls: ({ context }) => context.calls + 1 }) },
      },
    },
  },
});

export const asker = (modelPolicy: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  defineAgent({ name: (extra.name as string | undefined) ?? 'asker', machine: askMachine, messages: askMessages, contract: { modelPolicy, ...extra } });

/** An in-process provider that records each request and answers with `pieces`, then `usage` (exact) or nothing reported. */
export class RecordingProvider implements ModelProvider {
  readonly requests: CompletionRequest[] = [];
  failWith: ModelError | undefined;

  constructor(
    readonly name: string,
    readonly network: ProviderNetwork,
    private readonly answer: { pieces: string[]; usage?: Usage } = { pieces: ['ok'] },
  ) {}

  async *stream(request: CompletionRequest, call: ProviderCall): AsyncGenerator<ModelChunk> {
    this.requests.push(structuredClone(request));
    if (this.failWith) throw this.failWith;
    for (const text of this.answer.pieces) yield { type: 'text', text, at: call.clock.now() };
    const usage = this.answer.usage ?? { promptTokens: 0, completionTokens: this.answer.pieces.length };
    yield { type: 'end', finishReason: 'stop', usage, exactUsage: this.answer.usage !== undefined, at: call.clock.now() };
  }

  /** Everything the provider was sent, as one string. */
  sent(): string {
    return JSON.stringify(this.requests.map((r) => r.messages));
  }
}

export const entry = (id: string, placement: ModelEntry['placement'], privacy: ModelEntry['privacy'] = ['public', 'internal', 'confidential', 'pii', 'phi'], contextTokens = 32_000): ModelEntry => ({
  id,
  contextTokens,
  placement,
  privacy,
});

export interface Started {
  node: AgentOsNode;
  clock: VirtualClock;
  /** Every audit record so far. */
  records(): Array<Record<string, any>>;
  close(): Promise<void>;
}

export async function startNode(gateway: ModelGateway, extra: Partial<NodeOptions> = {}): Promise<Started> {
  const tmp = tempDir();
  const clock = new VirtualClock(0);
  const node = await createNode({ name: 'books', dataDir: tmp.dir, clock, capacity: { cpu: '2', mem: '1Gi' }, models: gateway.catalog.forAdmission(), modelGateway: gateway, ...extra });
  return {
    node,
    clock,
    records: () => Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>),
    close: async () => {
      await node.stop();
      tmp.cleanup();
    },
  };
}

export async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !pred(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!pred()) throw new Error('timed out waiting');
}
