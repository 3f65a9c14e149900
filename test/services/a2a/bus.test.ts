// The A2A bus on a real node (virtual clock): messages are checked, stepped
// through their conversation and routed as the sending actor; refusals are typed
// and change nothing; conversations expire on the node clock and closed ones are
// forgotten after the bound.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, type VirtualClock } from '../../../src/index.js';
import { A2AError, a2aSend, type A2AMessage } from '../../../src/services/a2a/index.js';
import { inbox, inboxOf, msg, replier, settle, testNode, until, type TestNode } from './support.js';

const codeOf = (fn: () => unknown): { code: string; field: string | undefined } => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(A2AError);
    return { code: (err as A2AError).code, field: (err as A2AError).field };
  }
  throw new Error('expected a refusal');
};

describe('A2A bus', () => {
  let t: TestNode;
  beforeEach(async () => {
    t = await testNode('a2a-bus', { bus: { retainClosed: 3 } });
    await t.node.spawn(inbox('alice'), { id: 'alice' });
    await t.node.spawn(inbox('bob'), { id: 'bob' });
    await t.node.spawn(inbox('carol'), { id: 'carol' });
  });
  afterEach(async () => t.stop());

  it('runs a FIPA request: request → agree → inform, delivered to mailboxes with the conversation on the envelope', async () => {
    t.bus.send('alice', msg({ performative: 'request', conversationId: 'c1', from: 'alice', to: 'bob', replyWith: 'r1', content: { q: 1 } }));
    expect(t.bus.conversation('c1')).toMatchObject({ status: 'open', initiator: 'alice', participants: ['alice', 'bob'], messages: 1, lastPerformative: 'request' });
    t.bus.send('bob', msg({ performative: 'agree', conversationId: 'c1', from: 'bob', to: 'alice', inReplyTo: 'r1' }));
    expect(t.bus.conversation('c1')).toMatchObject({ status: 'agreed', performer: 'bob' });
    t.bus.send('bob', msg({ performative: 'inform', conversationId: 'c1', from: 'bob', to: 'alice', content: { a: 2 } }));
    await settle();
    expect(inboxOf(t, 'bob').map((m) => m.performative)).toEqual(['request']);
    expect(inboxOf(t, 'alice').map((m) => m.performative)).toEqual(['agree', 'inform']);
    const c = t.bus.conversation('c1')!;
    expect(c).toMatchObject({ status: 'done', messages: 3, lastPerformative: 'inform', lastFrom: 'bob', lastTo: 'alice' });
    expect(JSON.parse(JSON.stringify(c))).toEqual(c); // plain JSON
    const types = t.events.filter((e) => e.type.startsWith('@agentos.a2a.')).map((e) => e.type);
    expect(types).toEqual(['@agentos.a2a.opened', '@agentos.a2a.message', '@agentos.a2a.message', '@agentos.a2a.message', '@agentos.a2a.closed']);
  });

  it('runs a contract net: cfp to two, one proposes, one refuses, the initiator accepts, the performer informs', () => {
    t.bus.send('alice', msg({ performative: 'cfp', conversationId: 'net', from: 'alice', to: 'bob', replyWith: 'cfp-b' }));
    t.bus.send('alice', msg({ performative: 'cfp', conversationId: 'net', from: 'alice', to: 'carol', replyWith: 'cfp-c' }));
    t.bus.send('bob', msg({ performative: 'propose', conversationId: 'net', from: 'bob', to: 'alice', inReplyTo: 'cfp-b', replyWith: 'p-b', content: { price: 5 } }));
    t.bus.send('carol', msg({ performative: 'refuse', conversationId: 'net', from: 'carol', to: 'alice', inReplyTo: 'cfp-c' }));
    expect(t.bus.conversation('net')).toMatchObject({ status: 'open', participants: ['alice', 'bob', 'carol'], proposals: ['bob'] });
    // carol made no proposal: accepting one from her is a protocol violation
    expect(codeOf(() => t.bus.send('alice', msg({ performative: 'accept-proposal', conversationId: 'net', from: 'alice', to: 'carol' }))).code).toBe('A2A_PROTOCOL_VIOLATION');
    t.bus.send('alice', msg({ performative: 'accept-proposal', conversationId: 'net', from: 'alice', to: 'bob', inReplyTo: 'p-b' }));
    expect(t.bus.conversation('net')).toMatchObject({ status: 'agreed', performer: 'bob', proposals: [] });
    // only the performer informs
    expect(codeOf(() => t.bus.send('carol', msg({ performative: 'inform', conversationId: 'net', from: 'carol', to: 'alice' }))).code).toBe('A2A_PROTOCOL_VIOLATION');
    t.bus.send('bob', msg({ performative: 'inform', conversationId: 'net', from: 'bob', to: 'alice', content: { delivered: true } }));
    expect(t.bus.conversation('net')!.status).toBe('done');
  });

  it('refuses protocol violations with A2A_PROTOCOL_VIOLATION and leaves the conversation as it was', () => {
    // accept-proposal without a prior propose; a reply to an unknown conversation; agree to nothing
    expect(codeOf(() => t.bus.send('alice', msg({ performative: 'accept-proposal', conversationId: 'x', from: 'alice', to: 'bob' })))).toEqual({ code: 'A2A_PROTOCOL_VIOLATION', field: 'conversationId' });
    expect(codeOf(() => t.bus.send('bob', msg({ performative: 'inform', conversationId: 'nope', from: 'bob', to: 'alice', inReplyTo: 'r9' }))).code).toBe('A2A_PROTOCOL_VIOLATION');
    t.bus.send('alice', msg({ performative: 'request', conversationId: 'c2', from: 'alice', to: 'bob', replyWith: 'r2' }));
    const before = t.bus.conversation('c2');
    for (const bad of [
      msg({ performative: 'accept-proposal', conversationId: 'c2', from: 'alice', to: 'bob' }), // no propose in a request
      msg({ performative: 'agree', conversationId: 'c2', from: 'alice', to: 'bob' }), // the initiator does not agree
      msg({ performative: 'inform', conversationId: 'c2', from: 'carol', to: 'alice' }), // a stranger
      msg({ performative: 'inform', conversationId: 'c2', from: 'bob', to: 'alice', inReplyTo: 'r-unknown' }), // quotes nothing
      msg({ performative: 'request', conversationId: 'c2', from: 'alice', to: 'bob' }), // a request re-opening an open conversation
      msg({ performative: 'cancel', conversationId: 'c2', from: 'bob', to: 'alice' }), // only the initiator cancels
    ]) {
      expect(codeOf(() => t.bus.send(bad.from, bad)).code).toBe('A2A_PROTOCOL_VIOLATION');
    }
    expect(t.bus.conversation('c2')).toEqual(before);
    t.bus.send('alice', msg({ performative: 'cancel', conversationId: 'c2', from: 'alice', to: 'bob' }));
    expect(t.bus.conversation('c2')!.status).toBe('cancelled');
    // a closed conversation takes nothing more
    expect(codeOf(() => t.bus.send('bob', msg({ performative: 'inform', conversationId: 'c2', from: 'bob', to: 'alice', inReplyTo: 'r2' }))).code).toBe('A2A_PROTOCOL_VIOLATION');
    const refusals = t.events.filter((e) => e.type === '@agentos.a2a.refused');
    expect(refusals.length).toBe(9);
    expect(refusals[0]).toMatchObject({ from: 'alice', to: 'bob', conversationId: 'x', performative: 'accept-proposal', code: 'A2A_PROTOCOL_VIOLATION' });
    expect(t.bus.stats()).toMatchObject({ refused: 9, opened: 1 });
    expect(t.node.deadLetters().filter((d) => d.reason === 'A2A_PROTOCOL_VIOLATION').length).toBe(9);
  });

  it('refuses malformed messages with A2A_INVALID_MESSAGE naming the field, and oversize content with A2A_CONTENT_TOO_LARGE; nothing is stored', async () => {
    const base = msg({ performative: 'request', conversationId: 'm1', from: 'alice', to: 'bob' });
    expect(codeOf(() => t.bus.send('alice', { ...base, performative: 'demand' }))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'performative' });
    const { conversationId: _c, ...noConversation } = base;
    expect(codeOf(() => t.bus.send('alice', noConversation))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'conversationId' });
    expect(codeOf(() => t.bus.send('alice', { ...base, conversationId: 'has space' }))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'conversationId' });
    expect(codeOf(() => t.bus.send('alice', { ...base, deadline: 'soon' }))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'deadline' });
    expect(codeOf(() => t.bus.send('alice', { ...base, partial: true }))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'partial' });
    expect(codeOf(() => t.bus.send('alice', null))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'message' });
    expect(codeOf(() => t.bus.send('alice', [base]))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'message' });
    expect(codeOf(() => t.bus.send('alice', { ...base, from: 'carol' }))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'from' }); // forging a sender
    expect(codeOf(() => t.bus.send('mallory', { ...base, from: 'mallory' }))).toEqual({ code: 'A2A_UNKNOWN_ACTOR', field: 'from' });
    expect(codeOf(() => t.bus.send('alice', { ...base, to: 'alice' }))).toEqual({ code: 'A2A_INVALID_MESSAGE', field: 'to' });
    expect(codeOf(() => t.bus.send('alice', { ...base, content: 'x'.repeat(300 * 1024) }))).toEqual({ code: 'A2A_CONTENT_TOO_LARGE', field: 'content' });
    // the kernel's own refusal (no such actor) leaves nothing behind either
    expect(() => t.bus.send('alice', { ...base, to: 'nobody' })).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTOR' }));
    await settle();
    expect(t.bus.conversations()).toEqual([]);
    expect(inboxOf(t, 'bob')).toEqual([]);
    // and the bus still works
    t.bus.send('alice', base);
    expect(t.bus.conversation('m1')!.status).toBe('open');
  });

  it('refuses a message past its deadline, and expires a conversation when its deadline passes on the node clock', async () => {
    const clock = t.clock as VirtualClock;
    const now = clock.now();
    expect(codeOf(() => t.bus.send('alice', msg({ performative: 'request', conversationId: 'late', from: 'alice', to: 'bob', deadline: now - 1 })))).toEqual({ code: 'A2A_DEADLINE_PASSED', field: 'deadline' });
    expect(t.bus.conversation('late')).toBeUndefined();
    t.bus.send('alice', msg({ performative: 'request', conversationId: 'd1', from: 'alice', to: 'bob', replyWith: 'r', deadline: now + 100 }));
    clock.advance(99);
    expect(t.bus.conversation('d1')!.status).toBe('open');
    clock.advance(1);
    expect(t.bus.conversation('d1')).toMatchObject({ status: 'expired', closedAt: now + 100, deadline: now + 100 });
    expect(t.events.find((e) => e.type === '@agentos.a2a.expired')).toMatchObject({ conversationId: 'd1', deadline: now + 100 });
    expect(codeOf(() => t.bus.send('bob', msg({ performative: 'inform', conversationId: 'd1', from: 'bob', to: 'alice', inReplyTo: 'r' })))).toEqual({ code: 'A2A_DEADLINE_PASSED', field: 'conversationId' });
    // a reply may move the deadline (agree with a new reply-by)
    t.bus.send('alice', msg({ performative: 'request', conversationId: 'd2', from: 'alice', to: 'bob', deadline: clock.now() + 10 }));
    t.bus.send('bob', msg({ performative: 'agree', conversationId: 'd2', from: 'bob', to: 'alice', deadline: clock.now() + 1000 }));
    clock.advance(500);
    expect(t.bus.conversation('d2')!.status).toBe('agreed');
    t.bus.send('bob', msg({ performative: 'inform', conversationId: 'd2', from: 'bob', to: 'alice' }));
    expect(t.bus.conversation('d2')!.status).toBe('done');
    expect(clock.pending()).toBeLessThan(20); // no deadline timer left behind by a closed conversation
    expect(t.bus.stats()).toMatchObject({ expired: 1, open: 0 });
  });

  it('forgets closed conversations beyond retainClosed (oldest first); a late reply to one is refused', () => {
    for (let i = 0; i < 10; i++) t.bus.send('alice', msg({ performative: 'inform', conversationId: `n${i}`, from: 'alice', to: 'bob', replyWith: `t${i}` }));
    const kept = t.bus.conversations();
    expect(kept.map((c) => c.id)).toEqual(['n7', 'n8', 'n9']);
    expect(kept.every((c) => c.status === 'done')).toBe(true);
    expect(t.bus.stats()).toMatchObject({ closed: 3, forgotten: 7, open: 0 });
    expect(codeOf(() => t.bus.send('bob', msg({ performative: 'inform', conversationId: 'n0', from: 'bob', to: 'alice', inReplyTo: 't0' }))).code).toBe('A2A_PROTOCOL_VIOLATION');
  });

  it('keeps tenants apart: a message to another tenant is CROSS_TENANT and opens nothing', async () => {
    await t.node.spawn(inbox('eve'), { id: 'eve', tenant: 'other' });
    expect(() => t.bus.send('alice', msg({ performative: 'request', conversationId: 'ct', from: 'alice', to: 'eve' }))).toThrow(expect.objectContaining({ code: 'CROSS_TENANT' }));
    expect(t.bus.conversation('ct')).toBeUndefined();
  });

  it('ask: a plain reply closes the request as its inform; an A2A reply is stepped through the conversation', async () => {
    await t.node.spawn(replier('plain', 'plain'), { id: 'plain' });
    await t.node.spawn(replier('formal', 'a2a'), { id: 'formal' });
    await expect(t.bus.ask('alice', msg({ performative: 'request', conversationId: 'q1', from: 'alice', to: 'plain', content: 'hi' }))).resolves.toEqual({ echoed: 'hi' });
    expect(t.bus.conversation('q1')).toMatchObject({ status: 'done', messages: 2, lastPerformative: 'inform', lastFrom: 'plain' });
    const answer = (await t.bus.ask('alice', msg({ performative: 'request', conversationId: 'q2', from: 'alice', to: 'formal', replyWith: 'rq', content: 'yo' }))) as A2AMessage;
    expect(answer).toMatchObject({ performative: 'inform', inReplyTo: 'rq', from: 'formal', to: 'alice', content: { echoed: 'yo' } });
    expect(t.bus.conversation('q2')).toMatchObject({ status: 'done', messages: 2 });
    // an answer sent with a2aSend (to the asker's mailbox) settles the ask when it closes the conversation
    await t.node.spawn(replier('sender', 'send'), { id: 'sender' });
    const sent = (await t.bus.ask('alice', msg({ performative: 'request', conversationId: 'q5', from: 'alice', to: 'sender', content: 'ping' }))) as A2AMessage;
    expect(sent).toMatchObject({ performative: 'inform', from: 'sender', to: 'alice', content: { sent: 'ping' } });
    await settle();
    expect(inboxOf(t, 'alice').at(-1)).toMatchObject({ performative: 'inform', conversationId: 'q5' });
    // an ask whose conversation expires fails with A2A_DEADLINE_PASSED (bob never answers)
    const clock = t.clock as VirtualClock;
    const late = t.bus.ask('alice', msg({ performative: 'request', conversationId: 'q6', from: 'alice', to: 'bob', deadline: clock.now() + 50 }), { timeoutMs: 10_000 });
    clock.advance(50);
    await expect(late).rejects.toMatchObject({ code: 'A2A_DEADLINE_PASSED' });
    expect(t.node.kernel.router.asks.size).toBe(0); // no ask outlives its conversation
    // a refused ask is a rejected promise, not a throw
    await expect(t.bus.ask('alice', msg({ performative: 'agree', conversationId: 'q3', from: 'alice', to: 'plain' }))).rejects.toMatchObject({ code: 'A2A_PROTOCOL_VIOLATION' });
    await expect(t.bus.ask('alice', msg({ performative: 'request', conversationId: 'q4', from: 'alice', to: 'plain' }), { timeoutMs: -1 })).rejects.toMatchObject({ code: 'A2A_INVALID_OPTIONS' });
  });

  it('a machine whose a2aSend is refused keeps running: the refusal is a dead letter and an event', async () => {
    const messages = z.discriminatedUnion('type', [z.object({ type: z.literal('go') })]);
    const rogue = defineAgent({
      name: 'rogue',
      messages,
      machine: setup({ types: { context: {} as { n: number }, events: {} as z.infer<typeof messages> } }).createMachine({
        context: { n: 0 },
        on: { go: { actions: [a2aSend({ performative: 'accept-proposal', conversationId: 'never-proposed', to: 'bob', content: null }), assign({ n: ({ context }) => context.n + 1 })] } },
      }),
    });
    const ref = await t.node.spawn(rogue, { id: 'rogue' });
    ref.send({ type: 'go' });
    ref.send({ type: 'go' });
    await until(() => (ref.getSnapshot() as { context: { n: number } }).context.n === 2);
    expect(ref.getSnapshot()!.status).toBe('active');
    expect(t.events.filter((e) => e.type === '@agentos.a2a.refused' && e.from === 'rogue')).toHaveLength(2);
    expect(t.node.deadLetters().filter((d) => d.from === 'rogue' && d.reason === 'A2A_PROTOCOL_VIOLATION')).toHaveLength(2);
    expect(inboxOf(t, 'bob')).toEqual([]);
  });

  it('refuses bad options and a second bus for the same node', () => {
    expect(() => new (t.bus.constructor as new (k: unknown, o?: unknown) => unknown)(t.node.kernel)).toThrow(expect.objectContaining({ code: 'A2A_INVALID_OPTIONS', field: 'kernel' }));
  });
});
