// The statechart of an actor whose machine has eventless (`always`) transitions:
// XState's toJSON leaves them out, so the node's inspector source puts them back
// per state; the page's graph then draws them as `always` edges.
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, type AgentOsNode } from '../../../src/index.js';
import { nodeInspectorSource } from '../../../src/node/inspector.js';

const modulePath = '../../../src/services/inspector/ui/machine-graph.js';
const mg: any = await import(/* @vite-ignore */ modulePath);

const messages = z.discriminatedUnion('type', [z.object({ type: z.literal('work'), n: z.number() }), z.object({ type: z.literal('done') })]);
const machine = setup({ types: { context: {} as { queue: number }, events: {} as z.infer<typeof messages> }, guards: { hasWork: ({ context }) => context.queue > 0 } }).createMachine({
  id: 'worker',
  context: { queue: 0 },
  initial: 'idle',
  on: { work: { actions: assign({ queue: ({ context }) => context.queue + 1 }) } },
  states: {
    idle: { always: { guard: 'hasWork', target: 'busy' } },
    busy: {
      on: { done: { target: 'idle', actions: assign({ queue: ({ context }) => context.queue - 1 }) } },
      initial: 'start',
      states: { start: { always: 'running' }, running: {} },
    },
  },
});

let node: AgentOsNode | undefined;
let dir: string | undefined;
afterEach(async () => {
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  node = dir = undefined;
});

describe('eventless transitions in the statechart', () => {
  it('the definition the inspector serves carries each state’s `always` transitions, and the graph draws them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentos-always-'));
    node = await createNode({ name: 'n1', dataDir: dir, memory: false, blackboard: false });
    await node.spawn(defineAgent({ name: 'worker', machine, messages }), { id: 'w' });
    const info = nodeInspectorSource(node).machine('w');
    const def = info.definition as any;
    expect(def.states.idle.always).toEqual([expect.objectContaining({ target: ['#worker.busy'], eventType: '' })]);
    expect(def.states.busy.states.start.always).toEqual([expect.objectContaining({ target: ['#worker.busy.running'] })]);
    expect(def.states.busy.always).toBeUndefined();
    const graph = mg.machineGraph(def);
    const edges = graph.edges.map((e: any) => `${e.source} -${e.label}-> ${e.target}`).sort();
    expect(edges).toEqual(['worker.busy -done-> worker.idle', 'worker.busy.start -always-> worker.busy.running', 'worker.idle -always [hasWork]-> worker.busy']);
  });
});
