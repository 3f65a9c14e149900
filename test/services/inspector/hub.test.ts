// The hub on a real node and on a virtual clock: nothing leaves before a flush;
// a flush maps messages, transitions and system events with a per-node seq;
// one actor's snapshots coalesce into one transition per flush while every
// message stays in the log; a crash becomes a restart event and the next view's
// restart count; payloads show only the contract's log_fields, cut to a bound;
// the inbox between flushes is bounded and says what it dropped.
import { setup } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, VirtualClock } from '../../../src/index.js';
import { InspectorHub } from '../../../src/services/inspector/hub.js';
import { REDACTED } from '../../../src/services/inspector/payload.js';
import type { InspectorEvent } from '../../../src/services/inspector/protocol.js';
import { counterAgent, settle, until } from '../../support/agents.js';
import { collect, inspectedNode, type Inspected } from './support.js';

let s: Inspected | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const of = (events: InspectorEvent[], actor: string) => events.filter((e) => 'actor' in e && e.actor === actor);

const noteAgent = (logFields: string[]) =>
  defineAgent({
    name: 'notes',
    machine: setup({}).createMachine({ id: 'notes', initial: 'open', states: { open: { on: { note: 'open' } } } }),
    messages: z.object({ type: z.literal('note'), text: z.string(), secret: z.string(), meta: z.object({ id: z.string(), token: z.string() }) }),
    contract: { observability: { log_fields: logFields } },
  });

describe('the inspector hub on a real node (virtual clock)', () => {
  it('maps a message, its transition and the actor start at the flush tick, each with a strictly increasing seq', async () => {
    const clock = new VirtualClock(1000);
    s = await inspectedNode({ clock, inspector: { serve: false, flushMs: 50 } });
    const seen = collect(s.hub);
    const ref = await s.node.spawn(counterAgent(), { id: 'c1' });
    ref.send({ type: 'inc', by: 2 });
    await settle();
    expect(ref.getSnapshot()?.context).toMatchObject({ count: 2 });
    expect(seen.events).toEqual([]); // parked, not sent: the hot path does nothing more
    clock.advance(50);
    const c1 = of(seen.events, 'c1');
    expect(c1.map((e) => (e.kind === 'event' ? `event:${e.event.type}` : e.kind))).toEqual(['event:xstate.init', 'actor.started', 'event:inc', 'transition']);
    expect(c1[1]).toMatchObject({ kind: 'actor.started', node: 'n1', info: { path: '/c1', parent: '/', incarnation: 0 } });
    // No contract log_fields: only the message type shows.
    expect(c1[2]).toMatchObject({ kind: 'event', event: { type: 'inc', by: REDACTED } });
    expect(c1[3]).toMatchObject({ kind: 'transition', state: 'counting', event: 'inc', coalesced: 2, at: 1000 });
    const seqs = seen.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('coalesces 1,000 transitions of one actor between flushes into one, with the latest state, and keeps every message in the log', async () => {
    const clock = new VirtualClock(0);
    s = await inspectedNode({ clock, inspector: { serve: false, inboxEvents: 2048 } });
    const ref = await s.node.spawn(counterAgent(), { id: 'c1' });
    clock.advance(50);
    const seen = collect(s.hub);
    for (let i = 0; i < 1000; i++) ref.send({ type: 'inc', by: 1 });
    ref.send({ type: 'finish' });
    await until(() => ref.getSnapshot() === undefined || ref.getSnapshot()?.status === 'done');
    clock.advance(50);
    const c1 = of(seen.events, 'c1');
    const transitions = c1.filter((e) => e.kind === 'transition');
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ state: 'done', event: 'finish', coalesced: 1001 });
    expect(c1.filter((e) => e.kind === 'event' && e.event.type === 'inc')).toHaveLength(1000);
  });

  it('a crash of a supervised actor is a restart event, and the next view counts the restart', async () => {
    const clock = new VirtualClock(0);
    s = await inspectedNode({ clock, inspector: { serve: false, statsMs: 1000 } });
    const seen = collect(s.hub);
    const ref = await s.node.spawn(counterAgent(), { id: 'c1' });
    clock.advance(1000);
    expect(seen.views.at(-1)?.actors.find((a) => a.id === 'c1')).toMatchObject({ restarts: 0, state: 'counting' });
    ref.send({ type: 'crash' });
    await until(() => s!.node.tree().children?.[0]?.restarts === 1);
    clock.advance(50);
    expect(of(seen.events, 'c1').find((e) => e.kind === 'restart')).toMatchObject({ supervisor: 'root', reason: 'error: counter crashed on purpose' });
    clock.advance(1000);
    expect(seen.views.at(-1)?.actors.find((a) => a.id === 'c1')).toMatchObject({ restarts: 1, incarnation: 1, node: 'n1' });
  });

  it('gives each actor row its message rate over the stats window (null in the first)', async () => {
    const clock = new VirtualClock(0);
    s = await inspectedNode({ clock, inspector: { serve: false, statsMs: 1000 } });
    const seen = collect(s.hub);
    const ref = await s.node.spawn(counterAgent(), { id: 'c1' });
    clock.advance(1000);
    expect(seen.views.at(-1)?.actors.find((a) => a.id === 'c1')?.rate).toBeNull();
    for (let i = 0; i < 30; i++) ref.send({ type: 'inc', by: 1 });
    await until(() => (ref.getSnapshot()?.context as { count: number }).count === 30);
    clock.advance(2000); // flushes every 50 ms: the view is taken at +1000, the next at +2000
    const views = seen.views.filter((v) => v.node === 'n1');
    expect(views.at(-2)?.actors.find((a) => a.id === 'c1')?.rate).toBe(30);
    expect(views.at(-1)?.actors.find((a) => a.id === 'c1')?.rate).toBe(0);
  });

  it('shows only the payload fields the contract log_fields allow, nested ones by path, cut to the size bound', async () => {
    const clock = new VirtualClock(0);
    s = await inspectedNode({ clock, inspector: { serve: false, payloadBytes: 512 } });
    const seen = collect(s.hub);
    const ref = await s.node.spawn(noteAgent(['text', 'meta.id']), { id: 'notes' });
    ref.send({ type: 'note', text: 'x'.repeat(5000), secret: 'hunter2', meta: { id: 'm-1', token: 'tok' } });
    ref.send({ type: 'note', text: 'short', secret: 'hunter2', meta: { id: 'm-2', token: 'tok' } });
    await settle();
    clock.advance(50);
    const notes = of(seen.events, 'notes').filter((e): e is Extract<InspectorEvent, { kind: 'event' }> => e.kind === 'event' && e.event.type === 'note');
    expect(notes[1]!.event).toEqual({ type: 'note', text: 'short', secret: REDACTED, meta: { id: 'm-2', token: REDACTED } });
    expect(notes[1]!.truncated).toBeUndefined();
    expect(notes[0]!.truncated).toBe(true);
    expect(JSON.stringify(notes[0]!.event).length).toBeLessThan(600);
    expect(JSON.stringify(seen.events)).not.toContain('hunter2');
  });
});

describe('the hub alone', () => {
  it('bounds what waits between flushes: the oldest raw events go, and a system event says how many', () => {
    const clock = new VirtualClock(0);
    const hub = new InspectorHub({ node: 'h', clock, inboxEvents: 10 });
    const seen = collect(hub);
    for (let i = 0; i < 25; i++) hub.listener({ type: '@agentos.test.tick', i });
    hub.flush();
    const ticks = seen.events.filter((e) => e.kind === 'system' && e.type === '@agentos.test.tick');
    expect(ticks.map((e) => (e as Extract<InspectorEvent, { kind: 'system' }>).data.i)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(seen.events.find((e) => e.kind === 'system' && e.type === '@agentos.inspector.dropped')).toMatchObject({ data: { events: 15 } });
  });

  it('maps supervisor and approval system events by their type, anything else to a bounded system event naming its actor', () => {
    const clock = new VirtualClock(7);
    const hub = new InspectorHub({ node: 'h', clock, payloadBytes: 256 });
    const seen = collect(hub);
    hub.listener({ type: '@agentos.supervisor.escalated', supervisor: 'sup', child: 'w1', reason: { kind: 'error', error: new Error('boom') } });
    hub.listener({ type: '@agentos.consent.requested', approval: { id: 'apr-1' } });
    hub.listener({ type: '@agentos.consent.rejected', approval: { id: 'apr-1' }, by: 'alice', reason: 'no' });
    hub.listener({ type: '@agentos.deadletter', to: 'ghost', messageType: 'inc', err: new Error('lost'), blob: 'y'.repeat(1000) });
    hub.flush();
    expect(seen.events.map(({ seq: _s, ...e }) => e)).toEqual([
      { kind: 'escalated', node: 'h', at: 7, actor: 'w1', supervisor: 'sup', reason: 'error: boom' },
      { kind: 'approval.requested', node: 'h', at: 7, approval: 'apr-1' },
      { kind: 'approval.decided', node: 'h', at: 7, approval: 'apr-1', decision: 'rejected', by: 'alice', reason: 'no' },
      expect.objectContaining({ kind: 'system', type: '@agentos.deadletter', actor: 'ghost' }),
    ]);
    const dead = seen.events[3] as Extract<InspectorEvent, { kind: 'system' }>;
    expect(JSON.stringify(dead.data).length).toBeLessThan(300);
    expect(dead.data.err).toEqual({ name: 'Error', message: 'lost' });
    expect(String(dead.data.blob).endsWith('…')).toBe(true);
  });

  it('sends nothing and takes no view while nobody listens, but keeps the replay buffer for the next page', () => {
    const clock = new VirtualClock(0);
    const hub = new InspectorHub({ node: 'h', clock });
    hub.start();
    hub.listener({ type: '@agentos.test.one' });
    clock.advance(50);
    expect(hub.snapshot().events.map((e) => e.kind === 'system' && e.type)).toEqual(['@agentos.test.one']);
    hub.stop();
    expect(clock.pending()).toBe(0);
  });
});
