// Zero trust at the message path and the syscall path: no forged replies, no
// cross-tenant messages, tenants that do not leak across respawns, policy
// before discovery, and typed refusals for malformed calls.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineTool, supervisor, syscall, tell, VirtualClock, type AgentOsNode } from '../../src/index.js';
import { AskRegistry } from '../../src/kernel/asks.js';
import { counterAgent, settle } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let clock: VirtualClock;
beforeEach(async () => {
  tmp = tempDir();
  clock = new VirtualClock(0);
  node = await createNode({ name: 'iso', dataDir: tmp.dir, clock, capacity: { cpu: 1, mem: '1Gi' }, maxPayloadBytes: 1000 });
});
afterEach(async () => {
  await node.stop();
  tmp.cleanup();
});

const records = () => Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);
const count = (id: string) => node.lookup(id)?.getSnapshot()?.context.count;

// An agent that forwards a `poke` to a target with `tell`.
const pokeMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('poke'), target: z.string(), by: z.number() })]);
const poker = defineAgent({
  name: 'poker',
  messages: pokeMessages,
  machine: setup({ types: { events: {} as z.infer<typeof pokeMessages> } }).createMachine({
    on: {
      poke: {
        actions: tell(
          ({ event }) => event.target,
          ({ event }) => ({ type: 'inc', by: event.by }),
          // a forged reply address and sender: must be ignored
          () => ({ replyTo: '@ask', correlationId: 'iso:ask:1', from: 'victim' }) as never,
        ),
      },
    },
  }),
});

describe('messages', () => {
  it('an actor may message actors of its own tenant but not of another', async () => {
    await node.spawn(counterAgent(), { id: 'victim', tenant: 'ta' });
    await node.spawn(counterAgent('peer'), { id: 'peer', tenant: 'tb' });
    const attacker = await node.spawn(poker, { id: 'attacker', tenant: 'tb' });
    attacker.send({ type: 'poke', target: 'victim', by: 100 });
    attacker.send({ type: 'poke', target: 'peer', by: 1 });
    await settle();
    expect(count('victim')).toBe(0);
    expect(count('peer')).toBe(1);
    expect(node.deadLetters()).toEqual([expect.objectContaining({ to: 'victim', from: 'attacker', reason: 'CROSS_TENANT' })]);
    expect(records().some((r) => r.kind === 'policy' && r.decision === 'denied' && r.actor === 'attacker' && r.subject === 'message:victim')).toBe(true);
  });

  it('a caller cannot set the sender or reply address of a message', async () => {
    const victim = await node.spawn(counterAgent(), { id: 'victim' });
    const asked = victim.ask({ type: 'inc', by: 1 }, { timeoutMs: 100 });
    victim.send({ type: 'get' }, { replyTo: '@ask', correlationId: 'iso:ask:1', from: 'x' } as never);
    await settle();
    clock.advance(100);
    await expect(asked).rejects.toMatchObject({ code: 'ASK_TIMEOUT' });
  });

  it('an ask is settled only by the actor that was asked', () => {
    const asks = new AskRegistry(clock, 'n:ask:');
    const { correlationId, reply } = asks.open('victim', 'get', 1000);
    expect(correlationId).toMatch(/^n:ask:1\.[0-9a-f]{16}$/);
    expect(asks.resolve(correlationId, 666, 'attacker')).toBe(false);
    expect(asks.resolve(correlationId, 1, 'victim')).toBe(true);
    return expect(reply).resolves.toBe(1);
  });

  it('an ask whose handling crashes the actor fails at once, not at its timeout', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c' });
    await expect(ref.ask({ type: 'crash' }, { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'ACTOR_STOPPED' });
  });

  it('malformed send and ask options are refused with typed errors, never thrown raw', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c' });
    ref.send({ type: 'inc', by: 1 }, null as never);
    await expect(ref.ask({ type: 'get' }, null as never)).resolves.toBe(1);
    await expect(ref.ask({ type: 'get' }, { timeoutMs: -5 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'timeoutMs' });
    await expect(ref.ask({ type: 'get' }, { timeoutMs: Infinity })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(() => ref.send({ type: 'inc', by: 1 }, { priority: 12 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'priority' }));
  });

  it('keeps no oversize body in the dead-letter log', async () => {
    const ref = await node.spawn(counterAgent(), { id: 'c' });
    expect(() => ref.send({ type: 'inc', by: 1, junk: 'x'.repeat(5000) } as never)).toThrow();
    expect(node.deadLetters()).toEqual([expect.objectContaining({ reason: 'PAYLOAD_TOO_LARGE', payload: undefined })]);
  });

  it('a throwing inspect listener does not break spawn or delivery', async () => {
    const t = tempDir();
    const n = await createNode({ name: 'noisy', dataDir: t.dir, inspect: () => { throw new Error('listener bug'); } });
    try {
      const ref = await n.spawn(counterAgent(), { id: 'c' });
      ref.send({ type: 'inc', by: 2 });
      await expect(ref.ask({ type: 'get' })).resolves.toBe(2);
    } finally {
      await n.stop();
      t.cleanup();
    }
  });
});

describe('tenants and ids', () => {
  it('a tree respawned under another tenant runs under the new one', async () => {
    const tree = () => supervisor({ id: 'app', children: [{ id: 'sub', start: supervisor({ id: 'sub', children: [{ id: 'w', start: counterAgent() }] }) }] });
    const first = await node.spawn(tree(), { id: 'app', tenant: 't1' });
    await first.stop();
    await node.spawn(tree(), { id: 'app', tenant: 't2' });
    const w = node.tree().children?.[0]?.children?.[0]?.children?.[0];
    expect(w?.id).toBe('w');
    expect(w?.info?.tenant).toBe('t2');
  });

  it('refuses a malformed tenant without leaking the reservation', async () => {
    const cpu = (name: string) => counterAgent(name, { compute: { cpu: 1, mem: '1Mi' } });
    await expect(node.spawn(cpu('a'), { id: 'a', tenant: '' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'tenant' });
    await expect(node.spawn(cpu('b'), { id: 'b', tenant: 42 as never })).rejects.toMatchObject({ field: 'tenant' });
    await expect(node.spawn(cpu('c'), { id: 'c', tenant: 'ok' })).resolves.toBeDefined();
  });

  it('ids are node-wide: a second tree reusing a nested supervisor id is refused whole', async () => {
    const tree = (id: string) => supervisor({ id, children: [{ id: 'x', start: supervisor({ id: 'x', children: [{ id: `${id}-w`, start: counterAgent() }] }) }] });
    await node.spawn(tree('A'), { id: 'A' });
    await expect(node.spawn(tree('B'), { id: 'B' })).rejects.toMatchObject({ code: 'DUPLICATE_ACTOR', field: 'children.x' });
    expect(node.lookup('B-w')).toBeUndefined();
    await node.lookup('A-w')!.stop();
  });
});

describe('syscalls', () => {
  let ran: unknown[];
  beforeEach(async () => {
    ran = [];
    node.tools.register(defineTool({ name: 'mail.send', description: 'mail', input: z.object({ to: z.string().email() }), execute: (a) => (ran.push(a), 'ok') }));
    node.kernel.syscalls.unregister('model', 'local/echo');
    node.kernel.syscalls.register('model', 'local/echo', () => 'echo');
  });

  it('checks policy before revealing whether a tool exists', async () => {
    await node.spawn(counterAgent('none', { capabilities: ['web.fetch'] }), { id: 'none' });
    await node.spawn(counterAgent('some', { capabilities: ['nope.*'] }), { id: 'some' });
    await expect(node.syscall('none', { kind: 'tool', name: 'nope.missing' })).rejects.toMatchObject({ code: 'CAPABILITY_DENIED' });
    await expect(node.syscall('some', { kind: 'tool', name: 'nope.missing' })).rejects.toMatchObject({ code: 'UNKNOWN_SYSCALL' });
    expect(records().filter((r) => r.decision === 'denied').map((r) => r.actor)).toEqual(['none']);
  });

  it('refuses invalid arguments before anyone is asked to consent to them', async () => {
    await node.spawn(counterAgent('m', { capabilities: ['mail.send'], security: { consent_for: ['mail.send'] } }), { id: 'm' });
    await expect(node.syscall('m', { kind: 'tool', name: 'mail.send', args: { to: 'nope' } })).rejects.toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'to' });
    expect(node.approvals.list()).toEqual([]);
    expect(ran).toEqual([]);
  });

  it('refuses a malformed request with a typed error', async () => {
    await node.spawn(counterAgent(), { id: 'c' });
    await expect(node.syscall('c', null as never)).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'request' });
    await expect(node.syscall('c', { kind: 'shell', name: 'x' } as never)).rejects.toMatchObject({ field: 'kind' });
  });

  it('a delegated model call needs both actors to allow the model, in one tenant', async () => {
    const allowing = { modelPolicy: { allow: ['local/*'], max_context_tokens: 1000 } };
    await node.spawn(counterAgent('rich', allowing), { id: 'rich', tenant: 'ta' });
    await node.spawn(counterAgent('poor'), { id: 'poor', tenant: 'ta' });
    await node.spawn(counterAgent('other', allowing), { id: 'other', tenant: 'tb' });
    await expect(node.syscall('rich', { kind: 'model', name: 'local/echo' })).resolves.toBe('echo');
    await expect(node.syscall('rich', { kind: 'model', name: 'local/echo', onBehalfOf: 'poor' })).rejects.toMatchObject({ code: 'MODEL_DENIED' });
    await expect(node.syscall('rich', { kind: 'model', name: 'local/echo', onBehalfOf: 'other' })).rejects.toMatchObject({ code: 'CROSS_TENANT' });
  });
});

describe('consent and crashes', () => {
  it('a consent request from an incarnation that crashed is withdrawn and its tool never runs', async () => {
    let runs = 0;
    node.tools.register(defineTool({ name: 'pump.stop', description: 'stops the pump', input: z.object({}), execute: () => ++runs }));
    const msgs = z.discriminatedUnion('type', [z.object({ type: z.literal('stop') }), z.object({ type: z.literal('crash') })]);
    const agent = defineAgent({
      name: 'stopper',
      messages: msgs,
      contract: { capabilities: ['pump.stop'], security: { consent_for: ['pump.stop'] } },
      machine: setup({
        types: { events: {} as z.infer<typeof msgs> },
        actors: { syscall },
        actions: {
          boom: () => {
            throw new Error('crash while waiting for consent');
          },
        },
      }).createMachine({
        initial: 'idle',
        states: {
          idle: { on: { stop: 'stopping' } },
          stopping: {
            invoke: { src: 'syscall', input: { kind: 'tool', name: 'pump.stop', args: {} }, onDone: 'idle', onError: 'idle' },
            on: { crash: { actions: 'boom' } },
          },
        },
      }),
    });
    const ref = await node.spawn(agent, { id: 'stopper' });
    ref.send({ type: 'stop' });
    for (let i = 0; i < 500 && node.approvals.list().length === 0; i++) await settle(1);
    const [pending] = node.approvals.list();
    expect(pending?.actor).toBe('stopper');
    ref.send({ type: 'crash' });
    await settle();
    expect(node.approvals.list()).toEqual([]);
    expect(() => node.approvals.approve(pending!.id, { by: 'alice' })).toThrow(expect.objectContaining({ code: 'APPROVAL_DECIDED' }));
    await settle();
    expect(runs).toBe(0);
    expect(records().some((r) => r.decision === 'consent-withdrawn' && r.actor === 'stopper')).toBe(true);
  });
});
