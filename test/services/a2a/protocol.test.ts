// Property tests of the conversation state machine (pure) and of the bus that
// stores it: random message sequences among three actors, with the invariants
// in the test names.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERFORMATIVES, stepConversation, TERMINAL_STATUSES, type A2AMessage, type ConversationState } from '../../../src/services/a2a/index.js';
import { inbox, testNode, type TestNode } from './support.js';

const ACTORS = ['a', 'b', 'c'] as const;
const TOKENS = ['t1', 't2', 't3', 't4'] as const;
const LIMITS = { maxTokens: 3, maxParticipants: 3 };

/**
 * Random choices, turned into a message against the current state: mostly between the initiator and a
 * participant, often quoting a token the receiver sent, so the walk reaches every status, not only refusals.
 */
const choices = fc.array(fc.record({ p: fc.nat(PERFORMATIVES.length - 1), pair: fc.nat(99), dir: fc.boolean(), quote: fc.nat(9), token: fc.nat(9), partial: fc.boolean() }), { maxLength: 40 });
type Choice = { p: number; pair: number; dir: boolean; quote: number; token: number; partial: boolean };

function resolve(c: Choice, state: ConversationState | undefined, i: number, conversationId: string): A2AMessage {
  const performative = PERFORMATIVES[c.p]!;
  let from: string;
  let to: string;
  if (state && c.pair < 80) {
    const others = state.participants.filter((x) => x !== state.initiator);
    const other = performative === 'cfp' && c.pair < 20 ? ACTORS.find((x) => !state.participants.includes(x)) ?? others[0]! : others[c.pair % others.length]!;
    [from, to] = c.dir ? [state.initiator, other] : [other, state.initiator];
  } else {
    from = ACTORS[c.pair % 3]!;
    to = ACTORS[(c.pair + 1 + (c.dir ? 1 : 0)) % 3]!;
  }
  const sentToMe = state?.tokens.filter(([, f, t]) => f === to && t === from) ?? [];
  const inReplyTo = c.quote < 6 && sentToMe.length > 0 ? sentToMe[sentToMe.length - 1]![0] : c.quote === 9 ? TOKENS[c.token % TOKENS.length] : undefined;
  const replyWith = c.token < 5 ? `t${i}` : c.token === 9 ? TOKENS[0] : undefined;
  return {
    type: 'a2a',
    performative,
    conversationId,
    from,
    to,
    content: null,
    ...(replyWith === undefined ? {} : { replyWith }),
    ...(inReplyTo === undefined ? {} : { inReplyTo }),
    ...(c.partial && performative === 'inform' ? { partial: true } : {}),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('conversation state machine (pure)', () => {
  it('never mutates its input; refused steps leave the state as it was; once closed, every step is refused', () => {
    fc.assert(
      fc.property(choices, (cs) => {
        let state: ConversationState | undefined;
        let accepted = 0;
        for (const [i, c] of cs.entries()) {
          const m = resolve(c, state, i, 'c');
          const before = JSON.stringify(state);
          const r = stepConversation(state === undefined ? undefined : deepFreeze(state), m, i, LIMITS);
          expect(JSON.stringify(state)).toBe(before);
          if (state && TERMINAL_STATUSES.has(state.status)) expect(r.ok).toBe(false);
          if (!r.ok) continue;
          accepted++;
          state = r.state;
          expect(state.messages).toBe(accepted);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('every accepted step is between participants, one of them the initiator; accept-proposal needs an outstanding propose from its receiver; only the initiator cancels', () => {
    fc.assert(
      fc.property(choices, (cs) => {
        let state: ConversationState | undefined;
        for (const [i, c] of cs.entries()) {
          const m = resolve(c, state, i, 'c');
          const r = stepConversation(state, m, i, LIMITS);
          if (!r.ok) continue;
          const next = r.state;
          expect(next.participants).toContain(m.from);
          expect(next.participants).toContain(m.to);
          expect([m.from, m.to]).toContain(next.initiator);
          expect(next.participants.length).toBeLessThanOrEqual(LIMITS.maxParticipants);
          expect(next.tokens.length).toBeLessThanOrEqual(LIMITS.maxTokens);
          if (m.performative === 'accept-proposal' || m.performative === 'reject-proposal') {
            expect(state?.proposals.some((p) => p.from === m.to)).toBe(true);
          }
          if (m.performative === 'cancel') expect(m.from).toBe(next.initiator);
          if (m.inReplyTo !== undefined && state) expect(state.tokens.some(([t, f, to]) => t === m.inReplyTo && f === m.to && to === m.from)).toBe(true);
          if (next.status === 'agreed') expect(next.participants).toContain(next.performer);
          if (state === undefined) expect(['request', 'cfp', 'propose', 'inform']).toContain(m.performative);
          state = next;
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('A2A bus (property)', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await testNode('a2a-prop', { bus: { maxTokens: 3, maxParticipants: 3 } });
    for (const id of ACTORS) await t.node.spawn(inbox(`agent-${id}`), { id });
  });
  afterAll(async () => t.stop());

  let run = 0;
  it('a refused send changes no conversation; an accepted one changes exactly its own', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('x', 'y'), { maxLength: 25 }).chain((picks) => fc.tuple(fc.constant(picks), choices)), ([picks, cs]) => {
        run++;
        const states: Record<string, ConversationState | undefined> = {};
        for (const [i, c] of cs.slice(0, picks.length).entries()) {
          const id = `r${run}-${picks[i]}`;
          const otherId = `r${run}-${picks[i] === 'x' ? 'y' : 'x'}`;
          const sent = resolve(c, states[id], i, id);
          const before = JSON.stringify(t.bus.conversations());
          const other = JSON.stringify(t.bus.conversation(otherId));
          let ok = true;
          try {
            t.bus.send(sent.from, sent);
          } catch (err) {
            ok = false;
            expect((err as { code: string }).code).toMatch(/^A2A_/);
          }
          const expected = stepConversation(states[id], sent, 0, { maxTokens: 3, maxParticipants: 3 });
          expect(ok).toBe(expected.ok); // the bus decides as the pure machine does
          if (!ok) expect(JSON.stringify(t.bus.conversations())).toBe(before);
          else {
            states[id] = (expected as { state: ConversationState }).state;
            expect(t.bus.conversation(id)).toMatchObject({ status: states[id]!.status, messages: states[id]!.messages, lastPerformative: sent.performative });
          }
          expect(JSON.stringify(t.bus.conversation(otherId))).toBe(other);
        }
      }),
      { numRuns: 60 },
    );
  });
});
