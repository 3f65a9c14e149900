import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentOsNode, type AgentOsError } from '../../src/index.js';
import { counterAgent, settle } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';

let node: AgentOsNode;
let clock: VirtualClock;
let tmp: ReturnType<typeof tempDir>;
const events: { type: string; [k: string]: unknown }[] = [];

beforeEach(async () => {
  tmp = tempDir();
  clock = new VirtualClock(1000);
  events.length = 0;
  node = await createNode({ name: 'n1', dataDir: tmp.dir, clock, inspect: (e) => events.push(e as never), maxPayloadBytes: 4096 });
});
afterEach(async () => {
  await node.stop();
  tmp.cleanup();
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as AgentOsError).code;
  }
  return undefined;
};

describe('send and ask', () => {
  it('delivers validated messages in order and answers an ask with the machine reply', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    ref.send({ type: 'inc', by: 1 });
    ref.send({ type: 'inc', by: 2 });
    ref.send({ type: 'inc', by: 3 });
    await expect(ref.ask({ type: 'get' })).resolves.toBe(6);
    expect(ref.getSnapshot()?.context.seen).toEqual(['inc1', 'inc2', 'inc3']);
  });

  it('refuses a message that fails its schema, names the field, and never delivers it', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    let err: AgentOsError | undefined;
    try {
      ref.send({ type: 'inc', by: 'lots' } as never);
    } catch (e) {
      err = e as AgentOsError;
    }
    expect(err?.code).toBe('INVALID_MESSAGE');
    expect(err?.field).toBe('by');
    expect(err?.message).toContain('"inc" to "c1"');
    await expect(ref.ask({ type: 'inc', by: 1.5 } as never)).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(ref.ask({ type: 'get' })).resolves.toBe(0);
    expect(node.deadLetters().map((d) => d.reason)).toEqual(['INVALID_MESSAGE', 'INVALID_MESSAGE']);
    expect(events.filter((e) => e.type === '@agentos.deadletter')).toHaveLength(2);
  });

  it('refuses unknown message types, listing the accepted ones', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    let err: AgentOsError | undefined;
    try {
      ref.send({ type: 'reset' } as never);
    } catch (e) {
      err = e as AgentOsError;
    }
    expect(err?.code).toBe('UNKNOWN_MESSAGE_TYPE');
    expect(err?.message).toContain('inc, get, crash, finish');
  });

  it('refuses an oversize payload at the edge and the actor keeps working', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    expect(codeOf(() => ref.send({ type: 'inc', by: 1, junk: 'x'.repeat(5000) } as never))).toBe('PAYLOAD_TOO_LARGE');
    ref.send({ type: 'inc', by: 1 });
    await expect(ref.ask({ type: 'get' })).resolves.toBe(1);
  });

  it('refuses non-object messages and a missing type', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    expect(codeOf(() => ref.send(null as never))).toBe('INVALID_MESSAGE');
    expect(codeOf(() => ref.send('inc' as never))).toBe('INVALID_MESSAGE');
    expect(codeOf(() => ref.send({ by: 1 } as never))).toBe('INVALID_MESSAGE');
  });

  it('refuses messages to an unknown actor and a duplicate id', async () => {
    await node.spawn(counterAgent(), { id: 'c1' });
    expect(codeOf(() => node.kernel.send('nobody', { type: 'get' }))).toBe('UNKNOWN_ACTOR');
    await expect(node.spawn(counterAgent(), { id: 'c1' })).rejects.toMatchObject({ code: 'DUPLICATE_ACTOR', field: 'id' });
    await expect(node.spawn(counterAgent(), { id: '' })).rejects.toMatchObject({ field: 'id' });
    await expect(node.spawn({} as never, { id: 'x' })).rejects.toMatchObject({ code: 'INVALID_AGENT' });
  });

  it('times out an ask on the virtual clock when the machine never replies', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    const asked = ref.ask({ type: 'inc', by: 1 }, { timeoutMs: 250 });
    await settle();
    clock.advance(249);
    await settle();
    let settled = false;
    void asked.then(
      () => (settled = true),
      () => (settled = true),
    );
    await settle();
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(asked).rejects.toMatchObject({ code: 'ASK_TIMEOUT', field: 'timeoutMs' });
  });

  it('rejects with MAILBOX_FULL when a reject-policy mailbox is full', async () => {
    const ref = await node.spawn(counterAgent('small', { mailbox: { capacity: 2, overflow: 'reject' } }), { id: 'c1' });
    ref.pause();
    ref.send({ type: 'inc', by: 1 });
    ref.send({ type: 'inc', by: 1 });
    expect(codeOf(() => ref.send({ type: 'inc', by: 1 }))).toBe('MAILBOX_FULL');
    expect(node.deadLetters().map((d) => d.reason)).toEqual(['MAILBOX_FULL']);
    ref.resume();
    await settle();
    await expect(ref.ask({ type: 'get' })).resolves.toBe(2);
  });

  it('drop-oldest keeps the newest messages and dead-letters the evicted one', async () => {
    const ref = await node.spawn(counterAgent('small', { mailbox: { capacity: 2, overflow: 'drop-oldest' } }), { id: 'c1' });
    ref.pause();
    ref.send({ type: 'inc', by: 1 });
    ref.send({ type: 'inc', by: 10 });
    ref.send({ type: 'inc', by: 100 });
    ref.resume();
    await settle();
    expect(ref.getSnapshot()?.context.count).toBe(110);
    expect(node.deadLetters()).toHaveLength(1);
    expect(node.deadLetters()[0]).toMatchObject({ to: 'c1', type: 'inc', reason: 'overflow:drop-oldest' });
  });
});

describe('lifecycle', () => {
  it('queues while paused and delivers on resume', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    ref.pause();
    ref.send({ type: 'inc', by: 5 });
    await settle();
    expect(ref.getSnapshot()?.context.count).toBe(0);
    ref.resume();
    await settle();
    expect(ref.getSnapshot()?.context.count).toBe(5);
  });

  it('stop() ends the actor with reason shutdown; later sends are refused', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    await ref.stop();
    expect(node.lookup('c1')).toBeUndefined();
    expect(codeOf(() => ref.send({ type: 'get' }))).toBe('UNKNOWN_ACTOR');
    expect(events.some((e) => e.type === '@agentos.actor.stopped' && e.id === 'c1' && e.reason === 'shutdown')).toBe(true);
  });

  it('a crash restarts a transient actor from its initial state and keeps the queued messages', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    ref.send({ type: 'inc', by: 7 });
    ref.send({ type: 'crash' });
    ref.send({ type: 'inc', by: 1 });
    await settle();
    await expect(ref.ask({ type: 'get' })).resolves.toBe(1);
    const restarts = events.filter((e) => e.type === '@agentos.supervisor.restart');
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatchObject({ supervisor: 'root', child: 'c1' });
    const started = events.filter((e) => e.type === '@agentos.actor.started' && e.id === 'c1');
    expect(started.map((e) => e.incarnation)).toEqual([0, 1]);
  });

  it('reaching a final state is a normal exit: a transient actor is not restarted', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    ref.send({ type: 'finish' });
    await settle();
    expect(events.some((e) => e.type === '@agentos.actor.stopped' && e.id === 'c1' && e.reason === 'normal')).toBe(true);
    expect(events.some((e) => e.type === '@agentos.supervisor.restart')).toBe(false);
  });

  it('a temporary actor that crashes is not restarted and its mailbox becomes dead letters', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1', restart: 'temporary' });
    ref.pause();
    ref.send({ type: 'crash' });
    ref.send({ type: 'inc', by: 1 });
    ref.resume();
    await settle();
    expect(node.lookup('c1')).toBeUndefined();
    expect(node.deadLetters().map((d) => d.type)).toEqual(['inc']);
  });

  it('emits XState inspection events beside @agentos events', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c1' });
    ref.send({ type: 'inc', by: 1 });
    await settle();
    const types = new Set(events.map((e) => e.type));
    expect(types.has('@agentos.actor.started')).toBe(true);
    expect(types.has('@xstate.snapshot')).toBe(true);
    expect(types.has('@xstate.event')).toBe(true);
  });
});
