// The controller on a real node: writes put the sources they trigger on the
// agenda; the strategy picks one; it is activated (an ask) and the controller
// waits for its reply before the next — one at a time on the virtual clock.
// Preconditions skip, failures are recorded and do not stop the run.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import type { z } from 'zod';
import { defineAgent, respond, replyHandle, type ReplyHandle } from '../../../src/index.js';
import { runBoard } from '../../../src/node/experiment/scenarios/blackboard.js';
import { blackboard, boardActivateMessage, BlackboardCodes, type BoardEntry, type BlackboardController, type ControllerOptions } from '../../../src/services/blackboard/index.js';
import { counterAgent } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { boardNode, type BoardNode } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let b: BoardNode;
beforeEach(async () => {
  tmp = tempDir();
  b = await boardNode(tmp.dir);
});
afterEach(async () => {
  await b.stop();
  tmp.cleanup();
});

// A source that, when activated, works `workMs` of virtual time and appends its id to the `trace` topic.
const sourceMachine = setup({
  types: { context: {} as { id: string; workMs: number; handle?: ReplyHandle; seen?: BoardEntry<string[]> | null }, events: {} as z.infer<typeof boardActivateMessage>, input: {} as { id: string; workMs: number } },
  actors: { blackboard },
  delays: { work: ({ context }) => context.workMs },
}).createMachine({
  context: ({ input }) => ({ ...input }),
  initial: 'idle',
  states: {
    idle: { on: { 'board.activate': { target: 'reading', actions: assign({ handle: (args) => replyHandle(args) }) } } },
    reading: { invoke: { src: 'blackboard', input: { op: 'read', topic: 'trace' }, onDone: { target: 'working', actions: assign({ seen: ({ event }) => event.output as BoardEntry<string[]> | null }) } } },
    working: { after: { work: 'writing' } },
    writing: {
      invoke: {
        src: 'blackboard',
        input: ({ context }) => ({ op: 'post' as const, topic: 'trace', value: [...(context.seen?.value ?? []), context.id], expectedVersion: context.seen?.version ?? 0 }),
        onDone: 'done',
        onError: 'done',
      },
    },
    done: { entry: respond(({ context }) => context.handle, ({ context }) => ({ id: context.id })), always: 'idle' },
  },
});
const source = defineAgent({ name: 'ks', machine: sourceMachine, messages: boardActivateMessage, contract: { capabilities: ['blackboard.read', 'blackboard.write.trace'] } });

async function sources(specs: { id: string; workMs?: number }[]): Promise<void> {
  for (const s of specs) await b.node.spawn(source, { id: s.id, input: { id: s.id, workMs: s.workMs ?? 5 } });
}

async function run(ctl: BlackboardController): Promise<void> {
  await b.board.tenant().post('go', true);
  await runBoard(b.node, b.board, b.clock, () => ctl.isIdle, 60_000);
}

const trace = async () => ((await b.board.tenant().read<string[]>('trace'))?.value ?? []) as string[];
const controller = (options: Partial<ControllerOptions> = {}) => b.board.controller({ name: 'c', ...options });

describe('controller', () => {
  it('priority: highest first, one activation at a time; a false precondition skips', async () => {
    await sources([{ id: 'low' }, { id: 'high', workMs: 7 }, { id: 'mid' }, { id: 'never' }]);
    const ctl = controller({ strategy: 'priority' });
    ctl.register({ id: 'low', trigger: 'go', priority: 1 });
    ctl.register({ id: 'high', trigger: 'go', priority: 9 });
    ctl.register({ id: 'mid', trigger: 'go', priority: 5 });
    ctl.register({ id: 'never', trigger: 'go', priority: 10, precondition: (view) => view.read('trace') === null && false });
    await run(ctl);
    expect(await trace()).toEqual(['high', 'mid', 'low']);
    expect(ctl.history.map((r) => [r.source, r.startedAt, r.endedAt, r.outcome])).toEqual([
      ['high', 0, 7, 'done'],
      ['mid', 7, 12, 'done'],
      ['low', 12, 17, 'done'],
    ]);
    expect(ctl.history[0]).toMatchObject({ topics: ['go'], agenda: 3, result: { id: 'high' } });
    expect(ctl.stats()).toMatchObject({ activations: 3, done: 3, failed: 0, skipped: 1, agenda: 0, active: undefined, state: 'running' });
  });

  it('fifo runs in trigger order; random is a function of the seed', async () => {
    await sources(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, workMs: 1 })));
    const fifo = controller({ name: 'fifo', strategy: 'fifo' });
    for (const id of ['c', 'a', 'e', 'b', 'd']) fifo.register({ id, trigger: 'go' });
    await run(fifo);
    expect(fifo.history.map((r) => r.source)).toEqual(['c', 'a', 'e', 'b', 'd']);
    b.board.removeController('fifo');
    const order = async (name: string, seed: number) => {
      const ctl = controller({ name, strategy: 'random', seed });
      for (const id of ['a', 'b', 'c', 'd', 'e']) ctl.register({ id, trigger: 'go' });
      await run(ctl);
      b.board.removeController(name);
      return ctl.history.map((r) => r.source);
    };
    const r1 = await order('r1', 42);
    const r2 = await order('r2', 42);
    const others = [await order('r3', 1), await order('r4', 2), await order('r5', 3)];
    expect(r2).toEqual(r1);
    expect([...r1].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(r1))).toBe(true);
  });

  it('a source triggered by its own writes runs again; maxActivations stops the controller', async () => {
    await sources([{ id: 'loop', workMs: 2 }]);
    const ctl = controller({ maxActivations: 4 });
    ctl.register({ id: 'loop', trigger: ['go', 'trace'] });
    await run(ctl);
    expect(await trace()).toEqual(['loop', 'loop', 'loop', 'loop']);
    expect(ctl.stats()).toMatchObject({ activations: 4, state: 'limit' });
  });

  it('failed activations are recorded and the run goes on: a source that cannot take board.activate, one that times out, one that is gone', async () => {
    await sources([{ id: 'ok' }, { id: 'slow', workMs: 500 }, { id: 'gone' }]);
    await b.node.spawn(counterAgent('deaf'), { id: 'deaf' });
    const ctl = controller({ strategy: 'fifo', activationTimeoutMs: 100 });
    for (const id of ['deaf', 'slow', 'gone', 'ok']) ctl.register({ id, trigger: 'go' });
    await b.node.lookup('gone')!.stop();
    await run(ctl);
    expect(ctl.history.map((r) => [r.source, r.outcome, r.code])).toEqual([
      ['deaf', 'failed', 'UNKNOWN_MESSAGE_TYPE'],
      ['slow', 'failed', 'ASK_TIMEOUT'],
      ['gone', 'failed', 'UNKNOWN_ACTOR'],
      ['ok', 'done', undefined],
    ]);
    expect(ctl.stats()).toMatchObject({ done: 1, failed: 3, sources: 3 }); // the gone source left the controller
  });

  it('registration is checked: a running actor of the controller’s tenant, a trigger, a unique id and name', async () => {
    await sources([{ id: 'a' }]);
    await b.node.spawn(source, { id: 'other', tenant: 'elsewhere', input: { id: 'other', workMs: 1 } });
    const ctl = controller();
    const invalid = (field: string) => expect.objectContaining({ code: BlackboardCodes.invalidSource, field });
    expect(() => ctl.register({ id: 'nobody', trigger: 'go' })).toThrow(invalid('id'));
    expect(() => ctl.register({ id: 'other', trigger: 'go' })).toThrow(invalid('id'));
    expect(() => ctl.register({ id: 'a', trigger: [] })).toThrow(invalid('trigger'));
    expect(() => ctl.register({ id: 'a', trigger: 'bad pattern' })).toThrow(expect.objectContaining({ code: BlackboardCodes.invalidTopic, field: 'trigger[0]' }));
    ctl.register({ id: 'a', trigger: 'go' });
    expect(() => ctl.register({ id: 'a', trigger: 'go' })).toThrow(invalid('id'));
    expect(() => controller()).toThrow(invalid('name'));
    expect(() => controller({ name: 'x', strategy: 'lifo' as never })).toThrow(invalid('strategy'));
    expect(() => controller({ name: 'y', activationTimeoutMs: 0 })).toThrow(invalid('activationTimeoutMs'));
  });
});
