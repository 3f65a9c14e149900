// What operators see is redacted: pending approvals (list, get, events), system
// and XState inspection events, and dead letters pass through the node's
// Redactor (registered secrets and credential shapes), while the approval queue
// keeps the original args, so an approved call runs with them. Each hook is
// checked with a real Redactor and SecretStore from the tools service.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { z } from 'zod';
import { VirtualClock } from '../../src/base/clock.js';
import { DeadLetterLog } from '../../src/kernel/deadletters.js';
import { EventRelay, type SystemEvent } from '../../src/kernel/events.js';
import { ApprovalQueue, hashArgs, type ApprovalEvent } from '../../src/kernel/policy/index.js';
import { createNode, defineAgent, defineTool, type AgentOsNode } from '../../src/index.js';
import { Redactor } from '../../src/services/tools/redact.js';
import { SecretStore } from '../../src/services/tools/secrets.js';
import { tempDir } from '../support/tmp.js';

const SECRET = 'vault-Pa55w0rd-7f3e9c';
const API_KEY = 'sk-live-abcdefghijklmnop1234';
const ARGS = { path: 'kv/prod', note: `rotate ${SECRET} tonight`, headers: { 'x-trace': API_KEY } };

let secrets: SecretStore;
let redactor: Redactor;
const redact = (v: unknown): unknown => redactor.redact(v);
/** No whole secret nor key anywhere in the value, and both markers present. */
const scrubbed = (value: unknown): void => {
  const text = JSON.stringify(value);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(API_KEY);
  expect(text).toContain('[REDACTED:secret]');
  expect(text).toContain('[REDACTED:api-key]');
};

beforeEach(() => {
  secrets = new SecretStore({ 'vault.password': SECRET });
  redactor = new Redactor({ secrets });
});

describe('ApprovalQueue redactor', () => {
  const request = { actor: 'ops', tenant: 't1', requester: 'ops', capability: 'vault.write', timeoutMs: 1000, expiresInMs: 1000 };

  it('list, get and events show redacted args and reason; the hash, the grant and the stored args are the originals; each view is redacted once', async () => {
    const events: ApprovalEvent[] = [];
    const queue = new ApprovalQueue({ clock: new VirtualClock(), redact, onEvent: (e) => events.push(e) });
    const { id, promise } = queue.request({ ...request, args: ARGS, reason: `needs ${SECRET}` });
    const [listed] = queue.list();
    scrubbed(listed!.args);
    expect(listed!.reason).toBe('needs [REDACTED:secret]');
    expect(listed!.argsHash).toBe(hashArgs(ARGS));
    expect(Object.isFrozen((listed!.args as { headers: object }).headers)).toBe(true);
    expect(queue.get(id)).toBe(listed); // the same view, not redacted again
    expect(queue.list()[0]).toBe(listed);
    scrubbed(events[0]!.approval.args);
    expect(redactor.stats()).toMatchObject({ events: 3, byRule: { 'secret:vault.password': 2, 'api-key': 1 } });

    queue.approve(id, { by: 'alice' });
    const outcome = await promise;
    expect(outcome.status).toBe('granted');
    scrubbed(events[1]!.approval.args);
    if (outcome.status !== 'granted') return;
    // The grant is bound to the original args: they consume it, the redacted view would not.
    expect(() => queue.consume(outcome.grant, { args: listed!.args, tenant: 't1', capability: 'vault.write' })).toThrow(expect.objectContaining({ code: 'CONSENT_MISMATCH' }));
    expect(() => queue.consume(outcome.grant, { args: ARGS, tenant: 't1', capability: 'vault.write' })).not.toThrow();
  });

  it('a rejection reason is redacted in the event; setRedactor(undefined) shows args as given', () => {
    const events: ApprovalEvent[] = [];
    const queue = new ApprovalQueue({ clock: new VirtualClock(), onEvent: (e) => events.push(e) });
    const first = queue.request({ ...request, args: ARGS });
    expect(queue.list()[0]!.args).toEqual(ARGS);
    queue.setRedactor(redact);
    scrubbed(queue.list()[0]!.args);
    queue.reject(first.id, { by: 'alice', reason: `leaked ${API_KEY}` });
    expect(events.at(-1)).toMatchObject({ type: 'consent.rejected', reason: 'leaked [REDACTED:api-key]' });
    queue.setRedactor(undefined);
    queue.request({ ...request, args: ARGS });
    expect(queue.list()[0]!.args).toEqual(ARGS);
  });

  it('a redactor that throws hides the value instead of showing it', () => {
    const queue = new ApprovalQueue({
      clock: new VirtualClock(),
      redact: () => {
        throw new Error('broken');
      },
    });
    queue.request({ ...request, args: ARGS });
    expect(queue.list()[0]!.args).toBe('[REDACTED]');
  });
});

describe('DeadLetterLog redactor', () => {
  it('payloads and reasons are scrubbed as they enter the log', () => {
    const log = new DeadLetterLog(10, { redact });
    log.add({ id: 'm1', from: 'a', to: 'ghost', type: 'order', payload: ARGS }, `no actor; last said ${SECRET}`, 5);
    const [letter] = log.list();
    scrubbed(letter!.payload);
    expect(letter).toMatchObject({ id: 'm1', to: 'ghost', type: 'order', reason: 'no actor; last said [REDACTED:secret]' });
    expect(redactor.stats().byRule['api-key']).toBe(1);
  });
});

describe('EventRelay redactor', () => {
  it('@agentos events reach the listener scrubbed; the emitter’s object is unchanged', () => {
    const seen: unknown[] = [];
    const relay = new EventRelay((e) => seen.push(e), { redact });
    const event: SystemEvent = { type: '@agentos.tool.refused', tool: 'vault.write', reason: `bad args ${JSON.stringify(ARGS)}`, args: ARGS };
    relay.emit(event);
    scrubbed(seen[0]);
    expect(event.args).toBe(ARGS);
    expect(ARGS.note).toContain(SECRET);
  });

  it('XState events (the message sent) are scrubbed; snapshots pass as they are (scrubbing every context is O(context) per transition); the actor keeps its real context', () => {
    const seen: { type: string; event?: unknown; snapshot?: { context?: unknown } }[] = [];
    const relay = new EventRelay((e) => seen.push(e as (typeof seen)[number]), { redact });
    const machine = setup({ types: { context: {} as { note: string }, events: {} as { type: 'login'; note: string } } }).createMachine({
      context: { note: '' },
      on: { login: { actions: assign({ note: ({ event }) => event.note }) } },
    });
    const actor = createActor(machine, { inspect: relay.xstate! }).start();
    actor.send({ type: 'login', note: `${SECRET} ${API_KEY}` });
    expect(actor.getSnapshot().context.note).toBe(`${SECRET} ${API_KEY}`);
    const sent = seen.find((e) => e.type === '@xstate.event' && (e.event as { type?: string })?.type === 'login');
    const snap = seen.filter((e) => e.type === '@xstate.snapshot').at(-1);
    scrubbed(sent!.event);
    expect(snap!.snapshot!.context).toEqual({ note: `${SECRET} ${API_KEY}` });
    actor.stop();
  });

  it('an event the redactor cannot handle is not delivered', () => {
    const seen: unknown[] = [];
    const relay = new EventRelay((e) => seen.push(e));
    relay.setRedactor(() => {
      throw new Error('broken');
    });
    relay.emit({ type: '@agentos.x', secret: SECRET });
    expect(seen).toEqual([]);
  });
});

describe('on a node (hooks set as the node will wire them)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let node: AgentOsNode;
  const received: unknown[] = [];
  const idle = setup({}).createMachine({});
  beforeEach(async () => {
    tmp = tempDir();
    received.length = 0;
    node = await createNode({ name: 'redact', dataDir: tmp.dir, clock: new VirtualClock(0), secrets, memory: false });
    node.tools.register(defineTool({ name: 'vault.write', description: 'writes a vault entry', input: z.object({ path: z.string(), note: z.string(), headers: z.record(z.string(), z.string()) }), execute: (args) => (received.push(args), 'ok') }));
    node.kernel.governance.policy.approvals.setRedactor(redact);
    node.kernel.router.deadLetters.setRedactor(redact);
  });
  afterEach(async () => {
    await node.stop();
    tmp.cleanup();
  });

  it('node.approvals.list() shows the pending call redacted; once approved the tool runs with the original args', async () => {
    const contract = { capabilities: ['vault.write'], security: { consent_for: ['vault.write'] } };
    await node.spawn(defineAgent({ name: 'ops', machine: idle, messages: z.object({ type: z.literal('noop') }), contract }), { id: 'ops' });
    const call = node.syscall('ops', { kind: 'tool', name: 'vault.write', args: ARGS });
    for (let i = 0; i < 50 && node.approvals.list().length === 0; i++) await new Promise((r) => setImmediate(r));
    const [pending] = node.approvals.list();
    scrubbed(pending!.args);
    node.approvals.approve(pending!.id, { by: 'alice' });
    await expect(call).resolves.toBe('ok');
    expect(received).toEqual([ARGS]);
  });

  it('node.deadLetters() shows an undeliverable message redacted', () => {
    expect(() => node.kernel.send('nobody', { type: 'order', ...ARGS })).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTOR' }));
    const [letter] = node.deadLetters();
    expect(letter!.to).toBe('nobody');
    scrubbed(letter!.payload);
  });
});
