// The hub on a real node and on a virtual clock: with nobody watching, XState
// inspection is off and every actor's state changes still show (sampled per
// flush); a watched actor's messages and exact transitions show, with a
// per-node seq, until its lease runs out or it is unwatched; one actor's
// snapshots coalesce into one transition per flush while every message stays in
// the log; a crash becomes a restart event and the next view's restart count;
// payloads show only the contract's log_fields, cut to a bound, secrets
// scrubbed; the inbox between flushes is bounded and says what it dropped.
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
const kinds = (events: InspectorEvent[]) => events.map((e) => (e.kind === 'event' ? `event:${e.event.type}` : e.kind));
const watch = (i: Inspected, actor: string) => i.hub.request({ id: 1, op: 'watch', node: i.node.name, actor });

const toggleAgent = defineAgent({
  name: 'toggle',
  machine: setup({}).createMachine({ id: 'toggle', initial: 'off', states: { off: { on: { switch: 'on' } }, on: { on: { switch: 'off' } } } }),
  messages: z.object({ type: z.literal('switch') }),
});

const noteAgent = (logFields: string[]) =>
  defineAgent({
    name: 'notes',
    machine: setup({}).createMachine({ id: 'notes', initial: 'open', states: { open: { on: { note: 'open' } } } }),
    messages: z.object({ type: z.literal('note'), text: z.string(), secret: z.string(), meta: z.object({ id: z.string(), token: z.string() }) }),
    contract: { observability: { log_fields: logFields } },
  });

describe('the inspector hub on a real node (virtual clock)', () => {
  it('reports at most inboxEvents sampled transitions per flush and counts the rest in one dropped event', async () => {
    const clock = new VirtualClock(1000);
    s = await inspectedNode({ clock, inspector: { serve: false, flushMs: 50, inboxEvents: 4 } });
    const seen = collect(s.hub);
    const refs = [];
    for (let i = 0; i < 10; i++) refs.push(await s.node.spawn(toggleAgent, { id: `t${i}` }));
    clock.advance(50); // the first sample notes where they are
    seen.events.length = 0;
    for (const r of refs) r.send({ type: 'switch' });
    await settle();
    clock.advance(50);
    expect(seen.events.filter((e) => e.kind === 'transition')).toHaveLength(4);
    expect(seen.events.filter((e) => e.kind === 'system' && e.type === '@agentos.inspector.dropped')).toEqual([expect.objectContaining({ data: expect.objectContaining({ transitions: 6 }) })]);
    // Not reported again: the views show each actor's state; the next change of each is reported as usual.
    seen.events.length = 0;
    clock.advance(50);
    expect(seen.events.filter((e) => e.kind === 'transition')).toEqual([]);
  });

  it('with nobody watching, XState inspection is off, yet every actor’s state changes show as sampled transitions', async () => {
    const clock = new VirtualClock(1000);
    s = await inspectedNode({ clock, inspector: { serve: false, flushMs: 50 } });
    const seen = collect(s.hub);
    clock.advance(50); // the first flush notes the actors there are
    const sw = await s.node.spawn(toggleAgent, { id: 'sw' });
    const counter = await s.node.spawn(counterAgent(), { id: 'c1' });
    for (let i = 0; i < 3; i++) sw.send({ type: 'switch' });
    counter.send({ type: 'inc', by: 2 });
    await settle();
    expect(sw.getSnapshot()?.value).toBe('on');
    // Neither every actor's inspection (the node's `inspect` path) nor any actor's on demand.
    expect(s.node.kernel.xstateInspect).toBeUndefined();
    expect(s.node.kernel.inspection.active).toBe(false);
    expect(of(seen.events, 'sw')).toEqual([]); // nothing before the flush
    clock.advance(50);
    // A new actor that handled messages: where it is now, the cause unknown; one that did nothing: only its start.
    expect(kinds(of(seen.events, 'sw'))).toEqual(['actor.started', 'transition']);
    expect(of(seen.events, 'sw')[0]).toMatchObject({ kind: 'actor.started', node: 'n1', info: { path: '/sw', parent: '/', incarnation: 0 } });
    expect(of(seen.events, 'sw')[1]).toEqual({ kind: 'transition', node: 'n1', seq: expect.any(Number), at: 1100, actor: 'sw', state: 'on', sampled: true, coalesced: 3 });
    // Moved again: one sampled transition per flush, counting the messages since the last one.
    sw.send({ type: 'switch' });
    counter.send({ type: 'inc', by: 1 });
    await settle();
    clock.advance(50);
    expect(of(seen.events, 'sw').at(-1)).toEqual({ kind: 'transition', node: 'n1', seq: expect.any(Number), at: 1150, actor: 'sw', state: 'off', sampled: true });
    // Back in the state it was in at the last flush, or a change of context only: nothing new to show.
    const before = seen.events.length;
    sw.send({ type: 'switch' });
    sw.send({ type: 'switch' });
    counter.send({ type: 'inc', by: 1 });
    await settle();
    clock.advance(50);
    expect(seen.events.length).toBe(before);
    // The counter: seen first with a message handled (where it is), then only context changes: nothing more.
    expect(of(seen.events, 'c1').map((e) => (e.kind === 'transition' ? `${e.kind}:${String(e.state)}@${e.at}` : e.kind))).toEqual(['actor.started', 'transition:counting@1100']);
    // Never a message: nobody watches.
    expect(seen.events.some((e) => e.kind === 'event')).toBe(false);
    expect(s.node.kernel.inspection.active).toBe(false);
    const seqs = seen.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a watched actor shows its messages and exact transitions until its lease runs out (renewed by watching again)', async () => {
    const clock = new VirtualClock(1000);
    s = await inspectedNode({ clock, inspector: { serve: false, flushMs: 50, watchLeaseMs: 1000 } });
    const seen = collect(s.hub);
    const ref = await s.node.spawn(counterAgent(), { id: 'c1' });
    clock.advance(50);
    expect(await watch(s, 'c1')).toEqual({ node: 'n1', actor: 'c1', leaseMs: 1000, expiresAt: 2050 });
    expect(s.node.kernel.inspection.watched()).toEqual(['c1']);
    ref.send({ type: 'inc', by: 2 });
    await settle();
    clock.advance(50);
    // No contract log_fields: only the message type shows.
    expect(of(seen.events, 'c1').slice(-2)).toEqual([
      expect.objectContaining({ kind: 'event', event: { type: 'inc', by: REDACTED } }),
      // At the time of the transition itself (sampled ones carry the flush's).
      expect.objectContaining({ kind: 'transition', state: 'counting', event: 'inc', at: 1050 }),
    ]);
    expect(of(seen.events, 'c1').at(-1)).not.toHaveProperty('sampled');
    // Renewed at 1900: runs to 2900 on the hub's clock.
    clock.advance(800);
    expect(await watch(s, 'c1')).toMatchObject({ expiresAt: 2900 });
    clock.advance(950); // 2850: still watched
    expect(s.hub.watched()).toEqual(['c1']);
    clock.advance(100); // 2950: the lease ran out, seen at the flush
    expect(s.hub.watched()).toEqual([]);
    expect(s.node.kernel.inspection.active).toBe(false);
    const logged = of(seen.events, 'c1').length;
    ref.send({ type: 'inc', by: 1 });
    await settle();
    clock.advance(50);
    // Unwatched again: no message, and a context-only change is not reported.
    expect(of(seen.events, 'c1').length).toBe(logged);
    expect((ref.getSnapshot()?.context as { count: number }).count).toBe(3);
  });

  it('refuses an unknown actor and more watched actors than maxWatched, with typed errors naming the field; unwatch frees a place', async () => {
    const clock = new VirtualClock(0);
    s = await inspectedNode({ clock, inspector: { serve: false, maxWatched: 2 } });
    for (const id of ['a', 'b', 'c']) await s.node.spawn(counterAgent(), { id });
    await expect(watch(s, 'ghost')).rejects.toMatchObject({ code: 'INSPECTOR_UNKNOWN_ACTOR', field: 'actor' });
    await watch(s, 'a');
    await watch(s, 'b');
    await expect(watch(s, 'c')).rejects.toMatchObject({ code: 'INSPECTOR_WATCH_LIMIT', field: 'actor' });
    await expect(watch(s, 'a')).resolves.toMatchObject({ actor: 'a' }); // renewing is not a new watch
    // Another holder's lease on the same actor: unwatched by one, still watched for the other.
    await s.hub.request({ id: 2, op: 'watch', node: 'n1', actor: 'a' }, 'page-9');
    expect(await s.hub.request({ id: 3, op: 'unwatch', node: 'n1', actor: 'a' })).toEqual({ node: 'n1', actor: 'a', watching: true });
    s.hub.release('page-9');
    expect(s.hub.watched()).toEqual(['b']);
    await watch(s, 'c');
    expect(s.node.kernel.inspection.watched().sort()).toEqual(['b', 'c']);
    await expect(watch(s, '*')).rejects.toMatchObject({ code: 'INSPECTOR_WATCH_LIMIT' });
    await s.hub.request({ id: 4, op: 'unwatch', node: 'n1', actor: 'b' });
    await watch(s, '*');
    expect(s.hub.watched().sort()).toEqual(['*', 'c']);
  });

  it('coalesces 1,000 transitions of one actor between flushes into one, with the latest state, and keeps every message in the log', async () => {
    const clock = new VirtualClock(0);
    s = await inspectedNode({ clock, inspector: { serve: false, inboxEvents: 2048 } });
    const ref = await s.node.spawn(counterAgent(), { id: 'c1' });
    clock.advance(50);
    await watch(s, 'c1');
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

  it('shows only the payload fields the contract log_fields allow, nested ones by path, cut to the size bound, the node’s secrets scrubbed', async () => {
    const clock = new VirtualClock(0);
    const key = 'sk-live-0123456789abcdef';
    s = await inspectedNode({ clock, inspector: { serve: false, payloadBytes: 512 }, node: { secrets: { api: key } } });
    const seen = collect(s.hub);
    const ref = await s.node.spawn(noteAgent(['text', 'meta.id']), { id: 'notes' });
    await watch(s, 'notes');
    ref.send({ type: 'note', text: 'x'.repeat(5000), secret: 'hunter2', meta: { id: 'm-1', token: 'tok' } });
    ref.send({ type: 'note', text: 'short', secret: 'hunter2', meta: { id: 'm-2', token: 'tok' } });
    ref.send({ type: 'note', text: `the key is ${key}`, secret: 'hunter2', meta: { id: key, token: 'tok' } });
    // A system event carrying the secret (what the kernel's tap delivers is unscrubbed).
    s.node.kernel.emit({ type: '@agentos.test.leak', actor: 'notes', detail: `key ${key}` });
    await settle();
    clock.advance(50);
    const notes = of(seen.events, 'notes').filter((e): e is Extract<InspectorEvent, { kind: 'event' }> => e.kind === 'event' && e.event.type === 'note');
    expect(notes).toHaveLength(3);
    // Hidden by the contract filter (and then by the redactor, which hides any value under such keys).
    const hidden = expect.stringMatching(/redacted/i);
    expect(notes[1]!.event).toEqual({ type: 'note', text: 'short', secret: hidden, meta: { id: 'm-2', token: hidden } });
    expect(notes[1]!.truncated).toBeUndefined();
    expect(notes[0]!.truncated).toBe(true);
    expect(JSON.stringify(notes[0]!.event).length).toBeLessThan(600);
    expect(String(notes[2]!.event.text)).toMatch(/^the key is \S+$/);
    expect(of(seen.events, 'notes').find((e) => e.kind === 'system' && e.type === '@agentos.test.leak')).toMatchObject({ data: { detail: expect.stringMatching(/^key /) } });
    expect(JSON.stringify(seen.events)).not.toContain('hunter2');
    expect(JSON.stringify(seen.events)).not.toContain(key);
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
