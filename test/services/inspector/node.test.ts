// The inspector on a real node, over a real WebSocket: an approval decided
// with the `approve` op unblocks the consent call waiting on it (audited, with
// who and why); a bad decision is a typed error reply; `machine`, `events`,
// `trace` and `audit.verify` answer from the node; and the Stately package's own
// WebSocket receiver gets `@xstate.actor` / `@xstate.snapshot` from a real actor,
// its payloads scrubbed of the node's secrets, every actor watched only while a
// receiver is attached.
import { createWebSocketReceiver } from '@statelyai/inspect';
import { setup } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, defineTool, supervisor, VirtualClock } from '../../../src/index.js';
import { inspectorHub, startInspector } from '../../../src/node/inspector.js';
import type { InspectorEvent, ServerFrame } from '../../../src/services/inspector/protocol.js';
import { counterAgent, until } from '../../support/agents.js';
import { caller } from '../../support/caller.js';
import { Client, inspectedNode, wsUrl, type Inspected } from './support.js';

let s: Inspected | undefined;
let client: Client | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await s?.close();
  s = undefined;
});

const sent: unknown[] = [];
const mail = defineTool({
  name: 'mail.send',
  description: 'sends an email (records it)',
  input: z.object({ to: z.string(), body: z.string() }),
  output: z.object({ sent: z.boolean() }),
  execute: (args) => (sent.push(args), { sent: true }),
});

const SECRET = 'sk-live-9f8e7d6c5b4a3210';
const noteMessages = z.object({ type: z.literal('note'), text: z.string() });
const noteAgent = defineAgent({
  name: 'notes',
  machine: setup({ types: { events: {} as z.infer<typeof noteMessages> } }).createMachine({ id: 'notes', initial: 'open', states: { open: { on: { note: 'open' } } } }),
  messages: noteMessages,
  contract: { observability: { log_fields: ['text'] } },
});

const events = (c: Client): InspectorEvent[] => c.frames.flatMap((f) => (f.t === 'delta' || f.t === 'snapshot' ? f.events : []));
const records = (i: Inspected) => Array.from({ length: i.node.audit.size }, (_, k) => i.node.audit.record(k) as { kind: string; decision: string; actor?: string; subject?: string; reason?: string; data?: Record<string, unknown> });

describe('the inspector on a real node', () => {
  it('an approval decided with the approve op unblocks the waiting consent call, recorded with who and why', async () => {
    s = await inspectedNode({ inspector: { flushMs: 10, statsMs: 50 }, node: { tools: [mail] } });
    const ref = await s.node.spawn(caller({ capabilities: ['mail.send'], security: { consent_for: ['mail.send'] } }), { id: 'mailer' });
    client = await Client.open(wsUrl(s.inspector.url!));
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'hello' } });
    const requested = await client.next((f) => f.t === 'delta' && f.events.some((e) => e.kind === 'approval.requested'));
    const approval = (requested as Extract<ServerFrame, { t: 'delta' }>).events.find((e) => e.kind === 'approval.requested') as Extract<InspectorEvent, { approval: string }>;
    // The page sees it in the node's view too, with its (redacted) context.
    await client.next((f) => f.t === 'delta' && (f.nodes ?? []).some((v) => v.approvals.some((a) => a.id === approval.approval && a.capability === 'mail.send')));
    expect(sent).toHaveLength(0);

    // Separation of duties holds here as everywhere: the actor cannot approve its own call.
    expect(await client.request({ op: 'approve', node: 'n1', approval: approval.approval, by: 'mailer' })).toMatchObject({ ok: false, error: { code: 'SOD_VIOLATION' } });
    expect(await client.request({ op: 'approve', node: 'n1', approval: 'apr-nope', by: 'alice' })).toMatchObject({ ok: false, error: { code: 'APPROVAL_NOT_FOUND' } });
    expect(await client.request({ op: 'approve', node: 'n1', approval: approval.approval, by: 'alice', reason: 'customer asked' })).toMatchObject({ ok: true, result: { id: approval.approval, by: 'alice' } });
    await until(() => (ref.getSnapshot()?.context as { calls: number }).calls === 1);
    expect(ref.getSnapshot()?.context).toMatchObject({ result: { sent: true } });
    expect(sent).toHaveLength(1);

    const decided = await client.next((f) => f.t === 'delta' && f.events.some((e) => e.kind === 'approval.decided'));
    expect((decided as Extract<ServerFrame, { t: 'delta' }>).events.find((e) => e.kind === 'approval.decided')).toMatchObject({ approval: approval.approval, decision: 'approved', by: 'alice', reason: 'customer asked' });
    const audit = records(s);
    expect(audit.find((r) => r.kind === 'consent' && r.decision === 'consent-granted')).toMatchObject({ data: { approvalId: approval.approval, by: 'alice' } });
    expect(audit.find((r) => r.kind === 'inspector')).toMatchObject({ decision: 'approve', actor: 'alice', subject: approval.approval, reason: 'customer asked' });
    // A second decision on it is refused.
    expect(await client.request({ op: 'reject', node: 'n1', approval: approval.approval, by: 'bob', reason: 'late' })).toMatchObject({ ok: false, error: { code: 'APPROVAL_DECIDED' } });
  });

  it('a rejection from the page fails the call; the decision event carries who and why even when decided elsewhere', async () => {
    s = await inspectedNode({ inspector: { flushMs: 10, statsMs: 50 }, node: { tools: [mail] } });
    const ref = await s.node.spawn(caller({ capabilities: ['mail.send'], security: { consent_for: ['mail.send'] } }), { id: 'mailer' });
    client = await Client.open(wsUrl(s.inspector.url!));
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'one' } });
    await until(() => s!.node.approvals.list().length === 1);
    const first = s.node.approvals.list()[0]!.id;
    expect(await client.request({ op: 'reject', node: 'n1', approval: first, by: 'alice', reason: 'not today' })).toMatchObject({ ok: true });
    await until(() => (ref.getSnapshot()?.context as { calls: number }).calls === 1);
    expect(ref.getSnapshot()?.context).toMatchObject({ error: 'CONSENT_REJECTED' });
    // Decided through the node API, not the page: the outcome is read back from the audit log.
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'two' } });
    await until(() => s!.node.approvals.list().length === 1);
    const second = s.node.approvals.list()[0]!.id;
    // (The queue's own events do not reach the inspector: it sees an approval that lives at least one flush.)
    await client.next((f) => f.t === 'delta' && f.events.some((e) => e.kind === 'approval.requested' && e.approval === second));
    s.node.approvals.approve(second, { by: 'carol' });
    await client.next((f) => f.t === 'delta' && f.events.some((e) => e.kind === 'approval.decided' && e.approval === second));
    const decisions = events(client).filter((e) => e.kind === 'approval.decided');
    expect(decisions).toEqual([
      expect.objectContaining({ approval: first, decision: 'rejected', by: 'alice', reason: 'not today' }),
      expect.objectContaining({ approval: second, decision: 'approved', by: 'carol' }),
    ]);
  });

  it('answers machine, events, trace and audit.verify from the node, with typed errors for what it does not have', async () => {
    s = await inspectedNode({ inspector: { flushMs: 10, statsMs: 50 } });
    const ref = await s.node.spawn(counterAgent(), { id: 'c1' });
    client = await Client.open(wsUrl(s.inspector.url!));
    // Watched, so its messages (and exact transitions) are logged.
    expect(await client.request({ op: 'watch', node: 'n1', actor: 'c1' })).toMatchObject({ ok: true, result: { node: 'n1', actor: 'c1', leaseMs: 30_000 } });
    expect(await client.request({ op: 'watch', node: 'n1', actor: 'ghost' })).toMatchObject({ ok: false, error: { code: 'INSPECTOR_UNKNOWN_ACTOR' } });
    ref.send({ type: 'inc', by: 3 });
    const machine = await client.request({ op: 'machine', node: 'n1', actor: 'c1' });
    expect(machine).toMatchObject({ ok: true, result: { actor: 'c1', node: 'n1', state: 'counting', definition: { id: 'counter', initial: { target: ['#counter.counting'] } } } });
    const def = (machine as { result: { definition: { states: Record<string, { on?: Record<string, unknown> }> } } }).result.definition;
    expect(Object.keys(def.states)).toEqual(['counting', 'done']);
    expect(Object.keys(def.states.counting!.on!)).toEqual(['inc', 'get', 'crash', 'finish']);
    expect(await client.request({ op: 'machine', node: 'n1', actor: 'ghost' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_ACTOR' } });
    // A supervisor's child (never registered by itself) is drawn from its running machine.
    await s.node.spawn(supervisor({ id: 'app', strategy: 'one_for_one', intensity: 1, periodMs: 1000, children: [{ id: 'kid', start: counterAgent('kid-counter') }] }), { id: 'app' });
    expect(await client.request({ op: 'machine', node: 'n1', actor: 'kid' })).toMatchObject({ ok: true, result: { actor: 'kid', state: 'counting', definition: { id: 'counter' } } });
    await client.next((f) => (f.t === 'delta' || f.t === 'snapshot') && f.events.some((e) => e.kind === 'transition' && e.actor === 'c1'));
    const recent = await client.request({ op: 'events', node: 'n1', actor: 'c1', limit: 2 });
    expect((recent as { result: InspectorEvent[] }).result.map((e) => e.kind)).toEqual(['event', 'transition']);
    expect(await client.request({ op: 'trace', node: 'n1', ref: 'c1#1' })).toMatchObject({ ok: false, error: { code: 'LINEAGE_NOT_FOUND' } });
    expect(await client.request({ op: 'trace', node: 'n1', ref: '../../etc' })).toMatchObject({ ok: false, error: { code: 'LINEAGE_BAD_ID' } });
    expect(await client.request({ op: 'audit.verify', node: 'n1' })).toMatchObject({ ok: true, result: { ok: true, size: s.node.audit.size } });
    await client.next((f) => f.t === 'delta' && (f.nodes ?? []).some((v) => v.audit.verified === true && v.audit.length > 0 && typeof v.audit.head === 'string'));
  });

  it("speaks the Stately protocol: @statelyai/inspect's own WebSocket receiver gets a real actor's @xstate.actor, @xstate.event and @xstate.snapshot", async () => {
    s = await inspectedNode({ inspector: { flushMs: 10 } });
    const ref = await s.node.spawn(counterAgent('counter', { observability: { log_fields: ['by', 'count'] } }), { id: 'c1' });
    const got: Record<string, unknown>[] = [];
    const receiver = createWebSocketReceiver({ server: wsUrl(s.inspector.url!, 'stately') });
    receiver.subscribe((e: unknown) => got.push(e as Record<string, unknown>));
    // Told about the actors already running when it attached.
    await until(() => got.some((e) => e.type === '@xstate.actor' && e.name === 'c1'));
    ref.send({ type: 'inc', by: 5 });
    await until(() => got.some((e) => e.type === '@xstate.snapshot' && (e.event as { type: string }).type === 'inc'));
    const actor = got.find((e) => e.type === '@xstate.actor' && e.name === 'c1')!;
    expect(actor).toMatchObject({ sessionId: expect.any(String), rootId: actor.sessionId, _version: expect.any(String), createdAt: expect.any(String), id: null, snapshot: { status: 'active', value: 'counting' } });
    expect(JSON.parse(actor.definition as string)).toMatchObject({ id: 'counter', initial: 'counting', states: { counting: {}, done: { type: 'final' } } });
    const event = got.find((e) => e.type === '@xstate.event' && e.sessionId === actor.sessionId && (e.event as { type: string }).type === 'inc')!;
    expect(event).toMatchObject({ event: { type: 'inc', by: 5 }, rootId: actor.sessionId, _version: expect.any(String), createdAt: expect.any(String), id: null });
    const snapshot = got.find((e) => e.type === '@xstate.snapshot' && e.sessionId === actor.sessionId && (e.event as { type: string }).type === 'inc')!;
    // The context shows as the contract's log_fields allow: `count` is listed, `seen` is not.
    expect(snapshot).toMatchObject({ event: { type: 'inc', by: 5 }, snapshot: { status: 'active', value: 'counting', context: { count: 5, seen: '[redacted]' } }, rootId: actor.sessionId, _version: expect.any(String), id: null });
    expect(Number(snapshot.createdAt)).toBeGreaterThan(0);
  });

  it('a Stately receiver has every actor watched while it is attached, and gets payloads scrubbed of the node’s secrets', async () => {
    s = await inspectedNode({ inspector: { flushMs: 10 }, node: { secrets: { api: SECRET } } });
    const ref = await s.node.spawn(noteAgent, { id: 'notes' });
    expect(s.node.kernel.inspection.active).toBe(false);
    const receiver = await Client.open(wsUrl(s.inspector.url!, 'stately'));
    const frames = (): Record<string, unknown>[] => receiver.frames as unknown as Record<string, unknown>[];
    await until(() => frames().some((e) => e.type === '@xstate.actor' && e.name === 'notes'));
    expect(s.hub.watched()).toEqual(['*']);
    ref.send({ type: 'note', text: `the key is ${SECRET}` });
    await until(() => frames().some((e) => e.type === '@xstate.snapshot' && (e.event as { type: string }).type === 'note'));
    const event = frames().find((e) => e.type === '@xstate.event' && (e.event as { type: string }).type === 'note')!;
    expect(String((event.event as { text: string }).text)).toMatch(/^the key is /);
    expect(JSON.stringify(frames())).not.toContain(SECRET);
    receiver.close();
    await until(() => !s!.node.kernel.inspection.active);
    expect(s.hub.watched()).toEqual([]);
  });
});

describe('wiring', () => {
  it('checks the inspector options with typed errors naming the field', () => {
    const clock = new VirtualClock(0);
    expect(() => inspectorHub('n', clock, { flushMs: 0 })).toThrow(expect.objectContaining({ code: 'INSPECTOR_INVALID_OPTIONS', field: 'inspector.flushMs' }));
    expect(() => inspectorHub('n', clock, { bufferEvents: 1.5 })).toThrow(expect.objectContaining({ field: 'inspector.bufferEvents' }));
    expect(() => inspectorHub('n', clock, { serve: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ field: 'inspector.serve' }));
    expect(() => inspectorHub('n', clock, { watchLeaseMs: -5 })).toThrow(expect.objectContaining({ code: 'INSPECTOR_INVALID_OPTIONS', field: 'inspector.watchLeaseMs' }));
    expect(() => inspectorHub('n', clock, { maxWatched: 0 })).toThrow(expect.objectContaining({ code: 'INSPECTOR_INVALID_OPTIONS', field: 'inspector.maxWatched' }));
  });

  it('the user’s own inspect listener still gets every actor’s events, scrubbed, beside the inspector; a page closing ends its watches', async () => {
    const seen: { type: string; event?: { type: string; text?: string } }[] = [];
    s = await inspectedNode({ node: { inspect: (e) => seen.push(e as never), secrets: { api: SECRET } } });
    const ref = await s.node.spawn(noteAgent, { id: 'notes' });
    ref.send({ type: 'note', text: `key ${SECRET}` });
    await until(() => seen.some((e) => e.type === '@xstate.event' && e.event?.type === 'note'));
    const note = seen.find((e) => e.type === '@xstate.event' && e.event?.type === 'note')!;
    expect(note.event!.text).not.toContain(SECRET);
    // The inspector itself watches nothing (the user's listener is the node's `inspect`, not on-demand inspection).
    expect(s.node.kernel.inspection.active).toBe(false);
    client = await Client.open(wsUrl(s.inspector.url!));
    await client.request({ op: 'watch', node: 'n1', actor: 'notes' });
    expect(s.node.kernel.inspection.watched()).toEqual(['notes']);
    client.close();
    await until(() => !s!.node.kernel.inspection.active);
  });

  it('a port already taken fails the start with INSPECTOR_LISTEN_FAILED (the OS error as its cause), and the hub stops again', async () => {
    s = await inspectedNode();
    const taken = s.inspector.port!;
    const clock = new VirtualClock(0);
    const hub = inspectorHub('n1', clock);
    await expect(startInspector(s.node, hub, { port: taken })).rejects.toMatchObject({ code: 'INSPECTOR_LISTEN_FAILED', field: 'port', cause: expect.objectContaining({ code: 'EADDRINUSE' }) });
    expect(clock.pending()).toBe(0);
  });
});
