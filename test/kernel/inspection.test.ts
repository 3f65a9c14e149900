// On-demand XState inspection (src/kernel/inspection.ts) on a real node: a
// watch delivers one actor's inspection events and nothing of the others';
// it follows the actor across a crash and restart to the new incarnation;
// unwatching stops delivery; '*' covers actors spawned later; a watcher that
// throws does not crash the actor; with nobody watching, inspection is off.
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type AgentOsNode } from '../../src/index.js';
import { ALL_ACTORS } from '../../src/kernel/inspection.js';
import { counterAgent, until } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';

let node: AgentOsNode | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
  cleanup?.();
  cleanup = undefined;
});

async function start(): Promise<AgentOsNode> {
  const tmp = tempDir('agentos-inspection-');
  cleanup = tmp.cleanup;
  node = await createNode({ name: 'n1', dataDir: tmp.dir, memory: false, blackboard: false });
  return node;
}

/** The message types (`@xstate.event`) a watcher saw for the XState actor named `id`. */
const messages = (seen: InspectionEvent[], id: string): string[] =>
  seen.filter((e): e is Extract<InspectionEvent, { type: '@xstate.event' }> => e.type === '@xstate.event' && (e.actorRef as AnyActorRef).id === id).map((e) => e.event.type);
const count = (id: string) => (node!.lookup(id)!.getSnapshot()?.context as { count: number } | undefined)?.count;

describe('on-demand inspection', () => {
  it('a watcher watching an actor and every actor gets each event once; ending one watch keeps the other, across a restart too', async () => {
    const n = await start();
    const a = await n.spawn(counterAgent(), { id: 'a' });
    const seen: InspectionEvent[] = [];
    const watcher = (e: InspectionEvent): void => void seen.push(e);
    const one = n.kernel.inspection.watch('a', watcher);
    const all = n.kernel.inspection.watch(ALL_ACTORS, watcher);
    expect(seen.filter((e) => e.type === '@xstate.actor' && (e.actorRef as AnyActorRef).id === 'a')).toHaveLength(1);
    a.send({ type: 'inc', by: 1 });
    await until(() => count('a') === 1);
    expect(messages(seen, 'a')).toEqual(['inc']);
    // A new incarnation is attached once as well.
    a.send({ type: 'crash' });
    await until(() => n.tree().children?.find((c) => c.id === 'a')?.restarts === 1);
    seen.length = 0;
    n.lookup('a')!.send({ type: 'inc', by: 1 });
    await until(() => count('a') === 1);
    expect(messages(seen, 'a')).toEqual(['inc']);
    all();
    n.lookup('a')!.send({ type: 'inc', by: 1 });
    await until(() => count('a') === 2);
    expect(messages(seen, 'a')).toEqual(['inc', 'inc']);
    one();
    expect(n.kernel.inspection.active).toBe(false);
    n.lookup('a')!.send({ type: 'inc', by: 1 });
    await until(() => count('a') === 3);
    expect(messages(seen, 'a')).toEqual(['inc', 'inc']);
  });

  it('a watch delivers its actor’s messages and snapshots (announced first), nothing of other actors, until unwatched', async () => {
    const n = await start();
    const a = await n.spawn(counterAgent(), { id: 'a' });
    const b = await n.spawn(counterAgent(), { id: 'b' });
    expect(n.kernel.inspection.active).toBe(false);
    const seen: InspectionEvent[] = [];
    const stop = n.kernel.inspection.watch('a', (e) => seen.push(e));
    expect(n.kernel.inspection.active).toBe(true);
    expect(n.kernel.inspection.watched()).toEqual(['a']);
    // Attached to an actor that already ran: it is announced to the watcher.
    expect(seen[0]).toMatchObject({ type: '@xstate.actor', actorRef: { id: 'a' } });
    a.send({ type: 'inc', by: 2 });
    b.send({ type: 'inc', by: 3 });
    await until(() => count('a') === 2 && count('b') === 3);
    expect(messages(seen, 'a')).toEqual(['inc']);
    expect(messages(seen, 'b')).toEqual([]);
    const snapshot = seen.find((e) => e.type === '@xstate.snapshot') as Extract<InspectionEvent, { type: '@xstate.snapshot' }>;
    expect(snapshot.snapshot).toMatchObject({ value: 'counting', context: { count: 2 } });
    stop();
    stop(); // twice is harmless
    expect(n.kernel.inspection.active).toBe(false);
    const before = seen.length;
    a.send({ type: 'inc', by: 1 });
    await until(() => count('a') === 3);
    expect(seen.length).toBe(before);
  });

  it('follows a watched actor across a crash and restart to its new incarnation', async () => {
    const n = await start();
    const a = await n.spawn(counterAgent(), { id: 'a' });
    const seen: InspectionEvent[] = [];
    n.kernel.inspection.watch('a', (e) => seen.push(e));
    const incarnation = () => [...n.kernel.inspection.cells()].find((c) => c.id === 'a')!.xstateActor;
    const old = incarnation();
    a.send({ type: 'crash' });
    await until(() => n.tree().children?.find((c) => c.id === 'a')?.restarts === 1);
    const fresh = incarnation();
    expect(fresh).not.toBe(old);
    // The new incarnation starts watched: its init, then its messages, reach the watcher.
    expect(seen.some((e) => e.type === '@xstate.event' && e.actorRef === fresh && e.event.type === 'xstate.init')).toBe(true);
    n.lookup('a')!.send({ type: 'inc', by: 5 });
    await until(() => count('a') === 5);
    expect(seen.some((e) => e.type === '@xstate.event' && e.actorRef === fresh && e.event.type === 'inc')).toBe(true);
  });

  it("'*' watches every actor, present and spawned later, and a watcher that throws does not crash any", async () => {
    const n = await start();
    const a = await n.spawn(counterAgent(), { id: 'a' });
    const seen: InspectionEvent[] = [];
    const stop = n.kernel.inspection.watch(ALL_ACTORS, (e) => {
      seen.push(e);
      throw new Error('a watcher bug');
    });
    const later = await n.spawn(counterAgent(), { id: 'later' });
    a.send({ type: 'inc', by: 1 });
    later.send({ type: 'inc', by: 7 });
    await until(() => count('a') === 1 && count('later') === 7);
    expect(messages(seen, 'a')).toEqual(['inc']);
    expect(messages(seen, 'later')).toEqual(['xstate.init', 'inc']);
    expect(n.tree().children?.map((c) => [c.id, c.status, c.restarts])).toEqual([
      ['a', 'running', 0],
      ['later', 'running', 0],
    ]);
    stop();
    expect(n.kernel.inspection.active).toBe(false);
    const before = seen.length;
    await n.spawn(counterAgent(), { id: 'after' });
    n.lookup('after')!.send({ type: 'inc', by: 1 });
    await until(() => count('after') === 1);
    expect(seen.length).toBe(before);
  });

  it('a watch on an actor not yet spawned attaches when it starts', async () => {
    const n = await start();
    const seen: InspectionEvent[] = [];
    n.kernel.inspection.watch('soon', (e) => seen.push(e));
    expect(n.kernel.inspection.has('soon')).toBe(false);
    const soon = await n.spawn(counterAgent(), { id: 'soon' });
    soon.send({ type: 'inc', by: 1 });
    await until(() => count('soon') === 1);
    expect(messages(seen, 'soon')).toEqual(['xstate.init', 'inc']);
  });
});
