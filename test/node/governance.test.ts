import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createNode,
  defineAgent,
  defineTool,
  verifyInclusion,
  VirtualClock,
  type AgentOsError,
  type AgentOsNode,
} from '../../src/index.js';
import { counterMachine, counterMessages, settle } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';
import { caller } from '../support/caller.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let clock: VirtualClock;

beforeEach(async () => {
  tmp = tempDir();
  clock = new VirtualClock(0);
  node = await createNode({ name: 'gov', dataDir: tmp.dir, clock, capacity: { cpu: '2', mem: '1Gi' } });
});
afterEach(async () => {
  await node.stop();
  tmp.cleanup();
});

const guard = (name: string, wcet: number) =>
  defineAgent({
    name,
    machine: counterMachine,
    messages: counterMessages,
    contract: { class: { latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: wcet } } },
  });

const records = (n: AgentOsNode) => Array.from({ length: n.audit.size }, (_, i) => n.audit.record(i) as Record<string, any>);

describe('admission', () => {
  it('admits HRT actors while EDF utilisation fits and refuses the one that does not, saying by how much', async () => {
    await node.spawn(guard('g1', 4), { id: 'g1' });
    await node.spawn(guard('g2', 4), { id: 'g2' });
    let err: AgentOsError | undefined;
    try {
      await node.spawn(guard('g3', 4), { id: 'g3' });
    } catch (e) {
      err = e as AgentOsError;
    }
    expect(err?.code).toBe('ADMISSION_REFUSED');
    expect(err?.message).toContain('HRT utilisation would be 1.20 > 1.00');
    expect(node.lookup('g3')).toBeUndefined();
    expect(node.tree().children?.map((c) => c.id)).toEqual(['g1', 'g2']);
    const admissions = records(node).filter((r) => r.kind === 'admission');
    expect(admissions.map((r) => [r.actor, r.decision])).toEqual([
      ['g1', 'admitted'],
      ['g2', 'admitted'],
      ['g3', 'refused'],
    ]);
    expect(admissions[0]!.hashes.contract).toMatch(/^[0-9a-f]{64}$/);
  });

  it('frees an actor’s reservation when it stops, so another fits', async () => {
    const g1 = await node.spawn(guard('g1', 6), { id: 'g1' });
    await expect(node.spawn(guard('g2', 6), { id: 'g2' })).rejects.toMatchObject({ code: 'ADMISSION_REFUSED' });
    await g1.stop();
    await expect(node.spawn(guard('g2', 6), { id: 'g2' })).resolves.toBeDefined();
  });

  it('refuses compute beyond the node capacity and a model policy no catalog model satisfies', async () => {
    const big = defineAgent({ name: 'big', machine: counterMachine, messages: counterMessages, contract: { compute: { cpu: '3', mem: '1Mi' } } });
    await expect(node.spawn(big, { id: 'big' })).rejects.toMatchObject({ code: 'ADMISSION_REFUSED', field: 'compute.cpuMillis' });
    const cloud = defineAgent({
      name: 'cloud',
      machine: counterMachine,
      messages: counterMessages,
      contract: { modelPolicy: { allow: ['openai/*'], max_context_tokens: 8000 } },
    });
    await expect(node.spawn(cloud, { id: 'cloud' })).rejects.toMatchObject({ code: 'ADMISSION_REFUSED' });
  });

  it('rejects a malformed YAML contract with file, line and field, and the node stays up', async () => {
    const bad = defineAgent({
      name: 'bad',
      machine: counterMachine,
      messages: counterMessages,
      contract: 'apiVersion: agentos/v0.2\nkind: AgentContract\nname: bad\nclass:\n  latency: HRT\n  slo:\n    period_ms: 0\n    deadline_ms: 5\n    wcet_ms: 1\n',
    });
    await expect(node.spawn(bad, { id: 'bad' })).rejects.toMatchObject({ code: 'CONTRACT_INVALID', field: 'class.slo.period_ms' });
    await expect(node.spawn(bad, { id: 'bad' })).rejects.toThrow(/<inline>:7:\d+: class\.slo\.period_ms/);
    const ok = await node.spawn(guard('g1', 1), { id: 'g1' });
    ok.send({ type: 'inc', by: 1 });
    await settle();
    expect(ok.getSnapshot()?.context.count).toBe(1);
  });

  it('loads a contract from a YAML file', async () => {
    const path = new URL('../fixtures/contracts/guard.agent.yaml', import.meta.url).pathname;
    const g = defineAgent({ name: 'infusion-guard', machine: counterMachine, messages: counterMessages, contract: path });
    await node.spawn(g, { id: 'pump-guard' });
    expect(node.tree().children?.[0]?.info).toMatchObject({ class: 'HRT', contractHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});

describe('syscalls', () => {
  let invocations: unknown[];
  beforeEach(() => {
    invocations = [];
    node.tools.register(
      defineTool({
        name: 'mail.send',
        description: 'sends an email (records the invocation)',
        input: z.object({ to: z.string().email(), body: z.string() }),
        output: z.object({ sent: z.boolean() }),
        execute: (args) => {
          invocations.push(args);
          return { sent: true };
        },
      }),
    );
  });

  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 50 && !pred(); i++) await settle(2);
  };

  it('lets an actor call a tool its contract lists, and denies and audits one it does not', async () => {
    const ok = await node.spawn(caller({ capabilities: ['mail.send'] }), { id: 'ok' });
    ok.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'hi' } });
    await until(() => ok.getSnapshot()?.context.calls === 1);
    expect(ok.getSnapshot()?.context.result).toEqual({ sent: true });
    const no = await node.spawn(caller({ capabilities: ['web.fetch'] }), { id: 'no' });
    no.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'hi' } });
    await until(() => no.getSnapshot()?.context.calls === 1);
    expect(no.getSnapshot()?.context.error).toBe('CAPABILITY_DENIED');
    expect(invocations).toHaveLength(1);
    const policy = records(node).filter((r) => r.kind === 'policy');
    expect(policy.map((r) => [r.actor, r.subject, r.decision])).toEqual([
      ['ok', 'mail.send', 'allowed'],
      ['no', 'mail.send', 'denied'],
    ]);
    const argsHash = createHash('sha256').update(JSON.stringify({ body: 'hi', to: 'a@example.org' })).digest('hex');
    expect(policy[0]!.hashes.arguments).toBe(argsHash);
  });

  it('refuses tool arguments that fail the schema before the tool runs', async () => {
    const ok = await node.spawn(caller({ capabilities: ['mail.send'] }), { id: 'ok' });
    ok.send({ type: 'call', tool: 'mail.send', args: { to: 'not-an-email', body: 'hi' } });
    await until(() => ok.getSnapshot()?.context.calls === 1);
    expect(ok.getSnapshot()?.context.error).toBe('INVALID_TOOL_ARGS');
    expect(invocations).toHaveLength(0);
  });

  it('blocks a consent_for tool on a human approval bound to the exact arguments', async () => {
    const ref = await node.spawn(caller({ capabilities: ['mail.send'], security: { consent_for: ['mail.send'] } }), { id: 'mailer' });
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'permit approved' } });
    await until(() => node.approvals.list().length === 1);
    const [pending] = node.approvals.list();
    expect(pending).toMatchObject({ capability: 'mail.send', actor: 'mailer', args: { to: 'a@example.org', body: 'permit approved' } });
    expect(invocations).toHaveLength(0);
    expect(() => node.approvals.approve(pending!.id, { by: 'mailer' })).toThrow(expect.objectContaining({ code: 'SOD_VIOLATION' }));
    node.approvals.approve(pending!.id, { by: 'alice' });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    expect(ref.getSnapshot()?.context.result).toEqual({ sent: true });
    expect(invocations).toHaveLength(1);
    const consent = records(node).filter((r) => r.kind === 'consent').map((r) => r.decision);
    expect(consent).toEqual(['consent-requested', 'consent-granted']);
  });

  it('approvals raised and decided are system events (`@agentos.consent.*`), once each, with who and why', async () => {
    const seen: Array<Record<string, any>> = [];
    node.kernel.tap((e) => void (e.type.startsWith('@agentos.consent.') && seen.push(e)));
    const ref = await node.spawn(caller({ capabilities: ['mail.send'], security: { consent_for: ['mail.send'] } }), { id: 'mailer' });
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'one' } });
    await until(() => node.approvals.list().length === 1);
    const first = node.approvals.list()[0]!.id;
    node.approvals.reject(first, { by: 'alice', reason: 'not today' });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'b@example.org', body: 'two' } });
    await until(() => node.approvals.list().length === 1);
    const second = node.approvals.list()[0]!.id;
    node.approvals.approve(second, { by: 'bob' });
    await until(() => ref.getSnapshot()?.context.calls === 2);
    expect(seen.map((e) => [e.type, e.approval.id])).toEqual([
      ['@agentos.consent.requested', first],
      ['@agentos.consent.rejected', first],
      ['@agentos.consent.requested', second],
      ['@agentos.consent.granted', second],
    ]);
    expect(seen[1]).toMatchObject({ by: 'alice', reason: 'not today' });
    expect(seen[3]).toMatchObject({ by: 'bob' });
    expect(seen[0]!.approval).toMatchObject({ actor: 'mailer', capability: 'mail.send' });
  });

  it('a rejected approval fails the call and the tool never runs', async () => {
    const ref = await node.spawn(caller({ capabilities: ['mail.send'], security: { consent_for: ['mail.send'] } }), { id: 'mailer' });
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'x' } });
    await until(() => node.approvals.list().length === 1);
    node.approvals.reject(node.approvals.list()[0]!.id, { by: 'alice', reason: 'not today' });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    expect(ref.getSnapshot()?.context.error).toBe('CONSENT_REJECTED');
    expect(invocations).toHaveLength(0);
  });

  it('enforces model policy and token budgets on model calls, auditing the refusal', async () => {
    node.kernel.syscalls.unregister('model', 'local/echo');
    node.kernel.syscalls.register('model', 'local/echo', () => 'echo');
    const ref = await node.spawn(
      caller({ modelPolicy: { allow: ['local/*'], max_context_tokens: 4000 }, budgets: { tokens_per_minute: 100 } }),
      { id: 'talker' },
    );
    ref.send({ type: 'call', tool: 'local/echo', args: null, tokens: 80 });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    expect(ref.getSnapshot()?.context.result).toBe('echo');
    ref.send({ type: 'call', tool: 'local/echo', args: null, tokens: 80 });
    await until(() => ref.getSnapshot()?.context.calls === 2);
    expect(ref.getSnapshot()?.context.error).toBe('BUDGET_EXCEEDED');
    clock.advance(60_000);
    ref.send({ type: 'call', tool: 'local/echo', args: null, tokens: 80 });
    await until(() => ref.getSnapshot()?.context.calls === 3);
    expect(ref.getSnapshot()?.context.error).toBeUndefined();
    expect(records(node).some((r) => r.kind === 'budget' && r.decision === 'budget-refused' && r.actor === 'talker')).toBe(true);
  });

  it('gives a delegated call the intersection of both actors’ capabilities', async () => {
    await node.spawn(caller({ capabilities: ['mail.send', 'web.fetch'] }), { id: 'boss' });
    await node.spawn(caller({ capabilities: ['web.fetch'] }), { id: 'helper' });
    await expect(node.syscall('boss', { kind: 'tool', name: 'mail.send', args: { to: 'a@example.org', body: 'x' }, onBehalfOf: 'helper' })).rejects.toMatchObject({
      code: 'CAPABILITY_DENIED',
    });
    await expect(node.syscall('boss', { kind: 'tool', name: 'mail.send', args: { to: 'a@example.org', body: 'x' } })).resolves.toEqual({ sent: true });
  });

  it('refuses an unknown tool with a typed error', async () => {
    await node.spawn(caller({ capabilities: ['nope.*'] }), { id: 'any' });
    await expect(node.syscall('any', { kind: 'tool', name: 'nope.nothing' })).rejects.toMatchObject({ code: 'UNKNOWN_SYSCALL' });
  });
});

describe('audit log', () => {
  it('signs its head, proves inclusion of every record, verifies, and survives a restart', async () => {
    await node.spawn(guard('g1', 1), { id: 'g1' });
    await node.spawn(guard('g2', 1), { id: 'g2' });
    await node.audit.flushed();
    const head = node.audit.head();
    expect(head.size).toBe(2);
    expect(head.rootHash).toMatch(/^[0-9a-f]{64}$/);
    for (let i = 0; i < head.size; i++) {
      const [leaf] = node.audit.leaves(i, i + 1);
      const leafHash = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(leaf!)])).digest('hex');
      expect(verifyInclusion(leafHash, i, head.size, node.audit.proveInclusion(i, head.size), head.rootHash)).toBe(true);
    }
    expect(node.audit.verify()).toMatchObject({ ok: true, size: 2 });
    await node.stop();
    node = await createNode({ name: 'gov', dataDir: tmp.dir, clock });
    expect(node.audit.size).toBe(2);
    expect(node.audit.head().rootHash).toBe(head.rootHash);
    expect(node.audit.head().publicKey).toBe(head.publicKey);
    expect(node.audit.verify()).toMatchObject({ ok: true });
  });
});

describe('consent timeouts', () => {
  it('escalates an unanswered approval to the configured role, then expires it and fails the call', async () => {
    const t = tempDir();
    const c = new VirtualClock(0);
    const n = await createNode({ name: 'esc', dataDir: t.dir, clock: c, consent: { timeoutMs: 1000, escalateTo: 'duty-manager', escalationTimeoutMs: 2000 } });
    try {
      let ran = 0;
      n.tools.register(defineTool({ name: 'door.open', description: 'opens a door', input: z.object({}), execute: () => ++ran }));
      await n.spawn(caller({ capabilities: ['door.open'], security: { consent_for: ['door.open'] } }), { id: 'door' });
      const call = n.syscall('door', { kind: 'tool', name: 'door.open', args: {} });
      const outcome = call.then(
        () => 'ran',
        (e: AgentOsError) => e.code,
      );
      await settle();
      expect(n.approvals.list()).toEqual([expect.objectContaining({ escalationLevel: 0, deadline: 1000 })]);
      c.advance(1000);
      await settle();
      expect(n.approvals.list()).toEqual([expect.objectContaining({ escalationLevel: 1, escalateTo: 'duty-manager' })]);
      c.advance(2000);
      await expect(outcome).resolves.toBe('CONSENT_EXPIRED');
      expect(ran).toBe(0);
      expect(n.approvals.list()).toEqual([]);
      const decisions = records(n).filter((r) => r.kind === 'consent').map((r) => r.decision);
      expect(decisions).toEqual(['consent-requested', 'consent-expired']);
    } finally {
      await n.stop();
      t.cleanup();
    }
  });
});

describe('tenant and per-second budgets', () => {
  it('charges a tenant budget shared by its actors, and a per-second actor budget', async () => {
    const t = tempDir();
    const c = new VirtualClock(0);
    const n = await createNode({ name: 'tb', dataDir: t.dir, clock: c, tenants: { acme: { tokens_per_minute: 100 } } });
    try {
      n.kernel.syscalls.unregister('model', 'local/echo');
      n.kernel.syscalls.register('model', 'local/echo', () => 'echo');
      const policy = { modelPolicy: { allow: ['local/*'], max_context_tokens: 4000 } };
      await n.spawn(caller(policy), { id: 'a', tenant: 'acme' });
      await n.spawn(caller(policy), { id: 'b', tenant: 'acme' });
      await n.spawn(caller({ ...policy, budgets: { tokens_per_second: 10 } }), { id: 'fast' });
      await expect(n.syscall('a', { kind: 'model', name: 'local/echo', tokens: 60 })).resolves.toBe('echo');
      await expect(n.syscall('b', { kind: 'model', name: 'local/echo', tokens: 60 })).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
      await expect(n.syscall('fast', { kind: 'model', name: 'local/echo', tokens: 10 })).resolves.toBe('echo');
      await expect(n.syscall('fast', { kind: 'model', name: 'local/echo', tokens: 10 })).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
      c.advance(1000);
      await expect(n.syscall('fast', { kind: 'model', name: 'local/echo', tokens: 10 })).resolves.toBe('echo');
      await expect(createNode({ name: 'tb2', dataDir: t.dir, tenants: { acme: { tokens_per_hour: 5 } } as never })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        field: 'tenants.acme.tokens_per_hour',
      });
    } finally {
      await n.stop();
      t.cleanup();
    }
  });
});
