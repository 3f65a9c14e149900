import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContextWindow, type ContextWindowState } from '../../../src/services/models/context-window.js';
import type { ModelError } from '../../../src/services/models/errors.js';
import { countMessage, countPrompt, heuristicTokenizer, splitTokens } from '../../../src/services/models/tokenizer.js';
import type { Message } from '../../../src/services/models/types.js';

const sys = (content: string): Message => ({ role: 'system', content });
const user = (content: string): Message => ({ role: 'user', content });
const bot = (content: string): Message => ({ role: 'assistant', content });

describe('heuristic tokenizer', () => {
  it('splitting loses nothing: the pieces join back to the text', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => splitTokens(s).join('') === s));
  });

  it('counts about four characters per token: a word of n letters costs ⌈n/4⌉, punctuation 1, spaces nothing', () => {
    expect(heuristicTokenizer.count('')).toBe(0);
    expect(heuristicTokenizer.count('   ')).toBe(0);
    expect(heuristicTokenizer.count('cat')).toBe(1);
    expect(heuristicTokenizer.count('elephant')).toBe(2);
    expect(heuristicTokenizer.count('elephants')).toBe(3);
    expect(heuristicTokenizer.count('Hi, you!')).toBe(4);
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z]{1,20}$/), { maxLength: 30 }), (words) => {
        const expected = words.reduce((n, w) => n + Math.ceil(w.length / 4), 0);
        return heuristicTokenizer.count(words.join(' ')) === expected;
      }),
    );
  });

  it('counts are additive over concatenation at whitespace', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (a, b) => heuristicTokenizer.count(`${a} ${b}`) === heuristicTokenizer.count(a) + heuristicTokenizer.count(b)),
    );
  });
});

// Conversations: a system prompt or not, then turns; some assistant turns call tools, answered by tool messages.
const message = fc.oneof(
  fc.string({ maxLength: 120 }).map(user),
  fc.string({ maxLength: 120 }).map(bot),
  fc.tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 60 })).map(([a, r]): Message[] => [
    { role: 'assistant', content: a, toolCalls: [{ id: 'c1', name: 'lookup', arguments: { q: a } }] },
    { role: 'tool', content: r, toolCallId: 'c1', name: 'lookup' },
  ]),
);
const conversation = fc
  .tuple(fc.option(fc.string({ maxLength: 200 }), { nil: undefined }), fc.array(message, { minLength: 1, maxLength: 30 }))
  .map(([system, turns]) => [...(system === undefined ? [] : [sys(system)]), ...turns.flat()]);

describe('context window', () => {
  it('never exceeds the budget; keeps the system prompt and the latest message; keeps order; never orphans a tool result', async () => {
    await fc.assert(
      fc.asyncProperty(conversation, fc.integer({ min: 1, max: 600 }), async (messages, budget) => {
        const w = new ContextWindow();
        let fit;
        try {
          fit = await w.fit(messages, budget);
        } catch (err) {
          // Only when the unremovable part alone is too big.
          expect((err as ModelError).code).toBe('MODEL_CONTEXT_OVERFLOW');
          expect(w.minimum(messages)).toBeGreaterThan(budget);
          return;
        }
        expect(countPrompt(heuristicTokenizer, { messages: fit.messages })).toBeLessThanOrEqual(budget);
        expect(fit.promptTokens).toBe(countPrompt(heuristicTokenizer, { messages: fit.messages }));
        if (messages[0]?.role === 'system') expect(fit.messages[0]).toBe(messages[0]);
        expect(fit.messages.at(-1)).toBe(messages.at(-1));
        // A subsequence of the input, in order.
        let j = 0;
        for (const m of fit.messages) {
          while (j < messages.length && messages[j] !== m) j++;
          expect(j).toBeLessThan(messages.length);
        }
        expect(fit.dropped).toBe(messages.length - fit.messages.length);
        for (const [i, m] of fit.messages.entries()) {
          if (m.role !== 'tool') continue;
          const prev = fit.messages[i - 1]!;
          expect(prev.role === 'tool' || (prev.role === 'assistant' && (prev.toolCalls?.length ?? 0) > 0)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps everything when it fits, and drops the oldest turns first when not', async () => {
    const messages = [sys('You are terse.'), user('first question here'), bot('first answer here'), user('second question'), bot('second answer'), user('third')];
    const all = countPrompt(heuristicTokenizer, { messages });
    const w = new ContextWindow();
    expect((await w.fit(messages, all)).dropped).toBe(0);
    const tight = await w.fit(messages, all - 1);
    expect(tight.messages.map((m) => m.content)).toEqual(['You are terse.', 'first answer here', 'second question', 'second answer', 'third']);
    expect(w.state().dropped).toBe(1);
  });

  it('hands dropped turns to the summariser and puts its summary after the system prompt', async () => {
    const messages = [sys('S'), ...Array.from({ length: 20 }, (_, i) => user(`message number ${i} with several words in it`)), user('latest')];
    let given: Message[] = [];
    const w = new ContextWindow({
      summarize: (dropped) => {
        given = dropped;
        return `${dropped.length} earlier messages`;
      },
    });
    const fit = await w.fit(messages, 120);
    expect(fit.summarized).toBe(true);
    expect(fit.messages[0]).toBe(messages[0]);
    expect(fit.messages[1]).toEqual({ role: 'system', content: `Summary of the earlier conversation: ${given.length} earlier messages` });
    expect(fit.messages.at(-1)).toBe(messages.at(-1));
    expect(countPrompt(heuristicTokenizer, { messages: fit.messages })).toBeLessThanOrEqual(120);
    expect(given.length).toBeGreaterThan(0);
  });

  it('refuses with MODEL_CONTEXT_OVERFLOW when the system prompt and last message alone do not fit', async () => {
    const w = new ContextWindow();
    await expect(w.fit([sys('a long system prompt with many many words'), user('hello')], 10)).rejects.toMatchObject({ code: 'MODEL_CONTEXT_OVERFLOW', field: 'messages' });
  });

  it('learns from exact provider usage: an under-count corrects at once, an over-count slowly', () => {
    const w = new ContextWindow();
    const messages = [user('some words to count here')];
    const raw = w.estimate(messages);
    w.observe(raw, { promptTokens: raw * 2, completionTokens: 5 }, true);
    expect(w.estimate(messages)).toBe(raw * 2);
    w.observe(raw, { promptTokens: raw, completionTokens: 5 }, true);
    expect(w.estimate(messages)).toBeGreaterThan(raw);
    expect(w.estimate(messages)).toBeLessThan(raw * 2);
    // Estimated usage teaches nothing.
    const before = w.state().ratio;
    w.observe(raw, { promptTokens: raw * 3, completionTokens: 5 }, false);
    expect(w.state().ratio).toBe(before);
  });

  it('calibrated fitting stays within the budget in the provider’s exact tokens', async () => {
    const w = new ContextWindow();
    const messages = Array.from({ length: 40 }, (_, i) => user(`turn ${i} with a few words`));
    // The provider counts 1.5× what the heuristic does.
    w.observe(100, { promptTokens: 150, completionTokens: 1 }, true);
    const fit = await w.fit(messages, 200);
    const exact = Math.ceil(countPrompt(heuristicTokenizer, { messages: fit.messages }) * 1.5);
    expect(exact).toBeLessThanOrEqual(200);
  });

  it('its state is plain data that restores the calibration (and is reset for another tokenizer)', () => {
    const w = new ContextWindow();
    w.observe(100, { promptTokens: 130, completionTokens: 7 }, true);
    const state = JSON.parse(JSON.stringify(w.state())) as ContextWindowState;
    expect(state).toEqual({ v: 1, tokenizer: 'heuristic-4c', ratio: 1.3, samples: 1, dropped: 0, last: { estimate: 100, promptTokens: 130, completionTokens: 7, exact: true } });
    const restored = new ContextWindow({ state });
    expect(restored.estimate([user('abcd abcd')])).toBe(w.estimate([user('abcd abcd')]));
    const other = new ContextWindow({ state, tokenizer: { name: 'chars', count: (s) => s.length } });
    expect(other.state().ratio).toBe(1);
  });

  it('counts a tool call’s name and arguments in its message', () => {
    const plain = countMessage(heuristicTokenizer, bot(''));
    const withCall = countMessage(heuristicTokenizer, { role: 'assistant', content: '', toolCalls: [{ id: 'x', name: 'lookup', arguments: { q: 'cats' } }] });
    expect(withCall).toBeGreaterThan(plain);
  });
});
