// Delegation keeps scopes: a request that delegates makes the callee's calls for
// that conversation run with the intersection of both contracts (and of every
// principal up a chain). The delegation is audited once per conversation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentOsNode } from '../../../src/index.js';
import { inbox, inboxOf, msg, registerTools, settle, testNode, until, worker, type TestNode } from './support.js';

const records = (node: AgentOsNode) => Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);

describe('A2A delegation', () => {
  let t: TestNode;
  let ran: { tool: string; actor: string }[];
  beforeEach(async () => {
    t = await testNode('a2a-delegation');
    ran = registerTools(t).ran;
    await t.node.spawn(inbox('boss', { capabilities: ['crm.read'] }), { id: 'boss' });
    await t.node.spawn(worker({ capabilities: ['crm.read', 'mail.send', 'db.write'] }), { id: 'worker' });
  });
  afterEach(async () => t.stop());

  const answer = async (id: string, n: number) => {
    await until(() => inboxOf(t, id).length >= n);
    return inboxOf(t, id)[n - 1]!;
  };

  it('a delegated call is refused when the caller lacks the capability, even though the callee has it', async () => {
    t.bus.send('boss', msg({ performative: 'request', conversationId: 'd1', from: 'boss', to: 'worker', replyWith: 'r1', delegate: true, content: { tool: 'mail.send', args: {} } }));
    const failure = await answer('boss', 1);
    expect(failure).toMatchObject({ performative: 'failure', inReplyTo: 'r1', content: { code: 'CAPABILITY_DENIED' } });
    expect((failure.content as { message: string }).message).toContain('acting for "boss"');
    expect(ran).toEqual([]); // the tool never ran
    expect(t.bus.conversation('d1')).toMatchObject({ status: 'failed', delegation: { principals: ['boss'], delegate: 'worker' } });
    const log = records(t.node);
    const delegated = log.filter((r) => r.kind === 'a2a' && r.decision === 'delegated');
    expect(delegated).toHaveLength(1);
    expect(delegated[0]).toMatchObject({ actor: 'boss', subject: 'worker', data: { conversationId: 'd1', delegate: 'worker', principals: ['boss'] } });
    expect(log.some((r) => r.kind === 'policy' && r.decision === 'denied' && r.actor === 'worker' && r.subject === 'mail.send' && r.data?.onBehalfOf === 'boss')).toBe(true);
  });

  it('without delegation the callee uses its own contract; with it, what both may do is allowed', async () => {
    t.bus.send('boss', msg({ performative: 'request', conversationId: 'own', from: 'boss', to: 'worker', content: { tool: 'mail.send', args: {} } }));
    expect(await answer('boss', 1)).toMatchObject({ performative: 'inform', content: { result: { ok: 'mail.send' } } });
    await until(() => t.bus.conversation('own')?.status === 'done');
    t.bus.send('boss', msg({ performative: 'request', conversationId: 'both', from: 'boss', to: 'worker', onBehalfOf: 'boss', content: { tool: 'crm.read', args: {} } }));
    expect(await answer('boss', 2)).toMatchObject({ performative: 'inform', content: { result: { ok: 'crm.read' } } });
    expect(ran).toEqual([
      { tool: 'mail.send', actor: 'worker' },
      { tool: 'crm.read', actor: 'worker' },
    ]);
    // the delegated one is audited (once), the other is not a delegation
    expect(records(t.node).filter((r) => r.kind === 'a2a' && r.decision === 'delegated').map((r) => r.data.conversationId)).toEqual(['both']);
  });

  it('a chain keeps narrowing: A → B → C on A’s behalf gets only what A, B and C all hold', async () => {
    await t.node.spawn(inbox('helper', { capabilities: ['crm.read', 'db.write'] }), { id: 'helper' });
    // boss asks worker (delegating); worker asks helper on boss's behalf
    t.bus.send('boss', msg({ performative: 'request', conversationId: 'outer', from: 'boss', to: 'worker', delegate: true, content: { tool: 'crm.read', args: {} } }));
    const inner = t.bus.send('worker', msg({ performative: 'request', conversationId: 'inner', from: 'worker', to: 'helper', onBehalfOf: 'boss', content: {} }));
    expect(inner).toMatchObject({ delegate: true, onBehalfOf: 'worker' }); // the kernel checks the immediate principal
    expect(t.bus.conversation('inner')!.delegation).toEqual({ principals: ['boss', 'worker'], delegate: 'helper' });
    // helper ∩ worker would allow db.write; boss does not hold it
    await expect(t.bus.call('helper', 'inner', { kind: 'tool', name: 'db.write', args: {} })).rejects.toMatchObject({ code: 'CAPABILITY_DENIED', message: expect.stringContaining('acting for "boss"') });
    await expect(t.bus.call('helper', 'inner', { kind: 'tool', name: 'crm.read', args: {} })).resolves.toEqual({ ok: 'crm.read' });
    expect(ran.filter((r) => r.actor === 'helper')).toEqual([{ tool: 'crm.read', actor: 'helper' }]);
    expect(records(t.node).some((r) => r.decision === 'denied' && r.actor === 'helper' && r.subject === 'db.write' && r.data?.onBehalfOf === 'boss' && r.data?.conversationId === 'inner')).toBe(true);
  });

  it('a2aCall in a machine applies the whole chain; without a delegation it refuses', async () => {
    await t.node.spawn(inbox('mid', { capabilities: ['crm.read', 'db.write'] }), { id: 'mid' });
    await t.node.spawn(worker({ capabilities: ['crm.read', 'db.write'] }, 'a2aCall'), { id: 'helper' });
    t.bus.send('boss', msg({ performative: 'request', conversationId: 'outer', from: 'boss', to: 'mid', delegate: true }));
    // mid works for boss and asks helper on boss's behalf: helper ∩ mid holds db.write, boss does not
    t.bus.send('mid', msg({ performative: 'request', conversationId: 'c1', from: 'mid', to: 'helper', onBehalfOf: 'boss', content: { tool: 'db.write', args: {} } }));
    expect(await answer('mid', 2)).toMatchObject({ performative: 'failure', content: { code: 'CAPABILITY_DENIED' } }); // [0] is boss's request
    t.bus.send('mid', msg({ performative: 'request', conversationId: 'c2', from: 'mid', to: 'helper', onBehalfOf: 'boss', content: { tool: 'crm.read', args: {} } }));
    expect(await answer('mid', 3)).toMatchObject({ performative: 'inform', content: { result: { ok: 'crm.read' } } });
    // a request that does not delegate gives a2aCall nothing to act under
    t.bus.send('mid', msg({ performative: 'request', conversationId: 'c3', from: 'mid', to: 'helper', content: { tool: 'crm.read', args: {} } }));
    expect(await answer('mid', 4)).toMatchObject({ performative: 'failure', content: { code: 'A2A_NOT_DELEGATED' } });
    expect(ran).toEqual([{ tool: 'crm.read', actor: 'helper' }]);
    expect(t.bus.conversation('outer')!.status).toBe('open');
  });

  it('refuses delegations the sender does not hold, and delegated calls by anyone but the delegate', async () => {
    await t.node.spawn(inbox('helper', { capabilities: ['db.write'] }), { id: 'helper' });
    await t.node.spawn(inbox('outsider', { capabilities: ['db.write'] }), { id: 'outsider', tenant: 'acme' });
    // worker holds no authority of boss's: it cannot claim to act for boss
    expect(() => t.bus.send('worker', msg({ performative: 'request', conversationId: 'x1', from: 'worker', to: 'helper', onBehalfOf: 'boss' }))).toThrow(expect.objectContaining({ code: 'A2A_DELEGATION_DENIED', field: 'onBehalfOf' }));
    // only a request delegates
    expect(() => t.bus.send('boss', msg({ performative: 'inform', conversationId: 'x2', from: 'boss', to: 'worker', delegate: true }))).toThrow(expect.objectContaining({ code: 'A2A_INVALID_MESSAGE', field: 'delegate' }));
    // not across tenants
    expect(() => t.bus.send('boss', msg({ performative: 'request', conversationId: 'x3', from: 'boss', to: 'outsider', delegate: true }))).toThrow(expect.objectContaining({ code: 'A2A_DELEGATION_DENIED' }));
    t.bus.send('boss', msg({ performative: 'request', conversationId: 'x4', from: 'boss', to: 'helper', delegate: true }));
    await expect(t.bus.call('worker', 'x4', { kind: 'tool', name: 'db.write', args: {} })).rejects.toMatchObject({ code: 'A2A_NOT_DELEGATED' });
    await expect(t.bus.call('helper', 'nope', { kind: 'tool', name: 'db.write', args: {} })).rejects.toMatchObject({ code: 'A2A_NOT_DELEGATED' });
    // the delegate is refused what its principal lacks, by the kernel
    await expect(t.bus.call('helper', 'x4', { kind: 'tool', name: 'db.write', args: {} })).rejects.toMatchObject({ code: 'CAPABILITY_DENIED' });
    t.bus.send('boss', msg({ performative: 'cancel', conversationId: 'x4', from: 'boss', to: 'helper' }));
    await expect(t.bus.call('helper', 'x4', { kind: 'tool', name: 'crm.read', args: {} })).rejects.toMatchObject({ code: 'A2A_NOT_DELEGATED' });
    await settle();
    expect(ran).toEqual([]);
  });
});
