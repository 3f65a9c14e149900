// The context window as plain data: an agent keeps its conversation in the
// window (add, next), the window's whole state — tokenizer id, held messages,
// rolling summary, counts — survives JSON, msgpackr and a persistent actor's
// restart, and a restored window behaves exactly as the original would.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, fromPromise, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent } from '../../../src/index.js';
import { ContextWindow, type ContextWindowState } from '../../../src/services/models/context-window.js';
import type { Message } from '../../../src/services/models/types.js';
import { until } from '../../support/agents.js';
import { NodeHarness } from '../../durable/support/harness.js';

const user = (content: string): Message => ({ role: 'user', content });
const bot = (content: string): Message => ({ role: 'assistant', content });
/** Deterministic: the summary says how many messages it stands for (an earlier summary counts its own). */
const summarize = (dropped: Message[]): string => {
  const earlier = dropped[0]?.role === 'system' ? Number(/stands for (\d+)/.exec(dropped[0].content)?.[1] ?? 0) : 0;
  const fresh = dropped.filter((m) => m.role !== 'system').length;
  return `stands for ${earlier + fresh} messages`;
};
const turn = (i: number): Message[] => [user(`question ${i} with a handful of words`), bot(`answer ${i} with a handful of words too`)];

describe('context window: a held conversation', () => {
  it('keeps the turns that fit; the others leave for good, folded into a rolling summary', async () => {
    const w = new ContextWindow({ summarize });
    w.add({ role: 'system', content: 'Be brief.' });
    for (let i = 0; i < 6; i++) w.add(...turn(i));
    const first = await w.next(80);
    expect(first.summarized).toBe(true);
    expect(first.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    const held = w.conversation();
    // What left for good is summarised; a turn left out only to make room for the summary stays held.
    const gone = 13 - held.messages.length;
    expect(held.summary).toBe(`stands for ${gone} messages`);
    expect(gone).toBeGreaterThan(0);
    expect(first.dropped).toBeGreaterThanOrEqual(gone);
    expect(held.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(held.messages.at(-1)).toEqual(bot('answer 5 with a handful of words too'));
    for (let i = 6; i < 10; i++) w.add(...turn(i));
    const second = await w.next(80);
    // The new summary stands for everything that ever left: the earlier summary folded in.
    expect(w.conversation().summary).toBe(`stands for ${21 - w.conversation().messages.length} messages`);
    expect(second.messages[1]!.content).toBe(`Summary of the earlier conversation: ${w.conversation().summary}`);
    expect(second.messages.at(-1)).toEqual(bot('answer 9 with a handful of words too'));
    expect(w.toJSON()).toMatchObject({ v: 1, tokenizer: 'heuristic-4c', fits: 2, summarized: 2, dropped: first.dropped + second.dropped });
  });

  it('next() without a conversation is MODEL_BAD_REQUEST; add() validates like a request', async () => {
    const w = new ContextWindow();
    await expect(w.next(100)).rejects.toMatchObject({ code: 'MODEL_BAD_REQUEST', field: 'messages' });
    expect(() => w.add({ role: 'wizard', content: 'x' } as unknown as Message)).toThrow(expect.objectContaining({ code: 'MODEL_BAD_REQUEST', field: 'messages.0.role' }));
  });
});

describe('context window state: JSON and msgpackr', () => {
  const packr = new Packr({ useRecords: false });

  it('property: after any conversation, restoring from JSON or msgpackr gives the same state and the same next windows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 60, max: 200 }), async (steps, budget) => {
        const w = new ContextWindow({ summarize });
        w.add({ role: 'system', content: 'sys' });
        let i = 0;
        for (const n of steps) {
          for (let k = 0; k < n + 1; k++) w.add(...turn(i++));
          await w.next(budget);
        }
        w.observe(100, { promptTokens: 130, completionTokens: 9 }, true);
        const viaJson = ContextWindow.fromJSON(JSON.parse(JSON.stringify(w)), { summarize });
        const viaPack = ContextWindow.fromJSON(packr.unpack(packr.pack(w.toJSON())), { summarize });
        expect(viaJson.toJSON()).toEqual(w.toJSON());
        expect(viaPack.toJSON()).toEqual(w.toJSON());
        for (const x of [w, viaJson, viaPack]) x.add(...turn(i));
        const [a, b, c] = await Promise.all([w.next(budget), viaJson.next(budget), viaPack.next(budget)]);
        expect(b).toEqual(a);
        expect(c).toEqual(a);
        expect(viaJson.toJSON()).toEqual(w.toJSON());
      }),
      { numRuns: 60 },
    );
  });

  it('the state is a copy both ways: changing it changes no window', () => {
    const w = new ContextWindow();
    w.add(user('hello'));
    const s = w.toJSON();
    s.messages![0]!.content = 'changed';
    expect(w.conversation().messages[0]!.content).toBe('hello');
    const r = ContextWindow.fromJSON(w.toJSON());
    const given = w.toJSON();
    const restored = new ContextWindow({ state: given });
    given.messages!.push(user('sneaked in'));
    expect(restored.conversation().messages).toHaveLength(1);
    expect(r.conversation().messages).toEqual([user('hello')]);
  });

  it('a restored window with another tokenizer recalibrates but keeps the conversation', () => {
    const w = new ContextWindow({ summarize });
    w.add(user('hello'));
    w.observe(10, { promptTokens: 20, completionTokens: 1 }, true);
    const other = ContextWindow.fromJSON(w.toJSON(), { tokenizer: { name: 'chars', count: (t) => t.length } });
    expect(other.toJSON()).toEqual({ v: 1, tokenizer: 'chars', ratio: 1, samples: 0, dropped: 0, messages: [user('hello')] });
  });

  it.each([
    [{ v: 2, tokenizer: 'heuristic-4c', ratio: 1, samples: 0, dropped: 0 }, 'state.v'],
    [{ v: 1, tokenizer: 'heuristic-4c', ratio: 99, samples: 0, dropped: 0 }, 'state.ratio'],
    [{ v: 1, tokenizer: 'heuristic-4c', ratio: 1, samples: -1, dropped: 0 }, 'state.samples'],
    [{ v: 1, tokenizer: 'heuristic-4c', ratio: 1, samples: 0, dropped: 0, messages: [{ role: 'x', content: '' }] }, 'state.messages.0.role'],
    [{ v: 1, tokenizer: 'heuristic-4c', ratio: 1, samples: 0, dropped: 0, extra: true }, 'state'],
    ['junk', 'state'],
  ])('refuses a corrupt state %j with MODEL_BAD_CONFIG naming %s', (state, field) => {
    expect(() => ContextWindow.fromJSON(state)).toThrow(expect.objectContaining({ code: 'MODEL_BAD_CONFIG', field }));
  });
});

// An agent that keeps its conversation in a context window held in its machine context.
const chatMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('say'), text: z.string() })]);
const BUDGET = 90;
const chatMachine = setup({
  types: { context: {} as { window: ContextWindowState; sent: number[] }, events: {} as z.infer<typeof chatMessages> },
  actors: {
    remember: fromPromise(async ({ input }: { input: { window: ContextWindowState; text: string } }) => {
      const w = ContextWindow.fromJSON(input.window, { summarize });
      w.add(user(input.text), bot(`noted: ${input.text}`));
      const fit = await w.next(BUDGET);
      return { window: w.toJSON(), sent: fit.messages.length };
    }),
  },
}).createMachine({
  context: () => ({ window: new ContextWindow().toJSON(), sent: [] }),
  initial: 'idle',
  states: {
    idle: { on: { say: 'thinking' } },
    thinking: {
      invoke: {
        src: 'remember',
        input: ({ context, event }) => ({ window: context.window, text: (event as { text: string }).text }),
        onDone: { target: 'idle', actions: assign({ window: ({ event }) => event.output.window, sent: ({ context, event }) => [...context.sent, event.output.sent] }) },
      },
    },
  },
});
const chatAgent = () => defineAgent({ name: 'chat', machine: chatMachine, messages: chatMessages, persistent: true });

describe('context window state in a persistent actor', () => {
  let h: NodeHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('is checkpointed with the actor: after a node restart the window is the same, and answers the next turn as the original would', async () => {
    h = new NodeHarness({ agents: [chatAgent()] });
    const n = await h.start();
    const ref = await n.spawn(chatAgent(), { id: 'chat' });
    for (let i = 0; i < 8; i++) {
      await ref.post({ type: 'say', text: `point ${i} of the discussion, with some detail` });
      await until(() => ref.getSnapshot()?.value === 'idle' && ref.getSnapshot()?.context.sent.length === i + 1);
    }
    const before = ref.getSnapshot()!.context.window as ContextWindowState;
    expect(before.summary).toMatch(/^stands for \d+ messages$/);
    expect(before.fits).toBe(8);

    const n2 = await h.restart();
    expect(n2.durability.recovery.restored).toEqual(['chat']);
    const again = n2.lookup('chat')!;
    expect(again.getSnapshot()!.context.window).toEqual(before);

    // The restored agent's next window equals what the pre-restart state gives in memory.
    const reference = ContextWindow.fromJSON(before, { summarize });
    reference.add(user('one more point'), bot('noted: one more point'));
    const expected = await reference.next(BUDGET);
    await again.post({ type: 'say', text: 'one more point' });
    await until(() => again.getSnapshot()?.value === 'idle' && again.getSnapshot()?.context.sent.length === 9);
    expect(again.getSnapshot()!.context.sent.at(-1)).toBe(expected.messages.length);
    expect(again.getSnapshot()!.context.window).toEqual(reference.toJSON());
  });
});
