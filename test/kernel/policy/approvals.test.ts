import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { AgentOsError, PolicyDenied } from '../../../src/base/errors.js';
import {
  ApprovalQueue,
  Rbac,
  hashArgs,
  type ApprovalEvent,
  type ApprovalOutcome,
  type ApprovalRequest,
  type GrantToken,
} from '../../../src/kernel/policy/index.js';

const ARGS = { to: 'ops@example.com', body: 'deploy v2' };

function base(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    actor: 'mailer',
    tenant: 't1',
    requester: 'planner',
    capability: 'email.send',
    args: ARGS,
    reason: 'notify ops',
    timeoutMs: 1_000,
    expiresInMs: 500,
    ...overrides,
  };
}

function setup(options: { rbac?: Rbac } = {}) {
  const clock = new VirtualClock(10_000);
  const events: ApprovalEvent[] = [];
  const queue = new ApprovalQueue({ clock, rbac: options.rbac, onEvent: (e) => events.push(e) });
  return { clock, queue, events };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof AgentOsError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

async function granted(promise: Promise<ApprovalOutcome>): Promise<GrantToken> {
  const outcome = await promise;
  if (outcome.status !== 'granted') throw new Error(`expected a grant, got ${outcome.status}`);
  return outcome.grant;
}

describe('ApprovalQueue: requests and listing', () => {
  it('lists a pending request with its full context', () => {
    const { queue, events } = setup();
    const { id } = queue.request(base({ escalateTo: 'manager' }));
    const [item] = queue.list();
    expect(item).toMatchObject({
      id,
      actor: 'mailer',
      tenant: 't1',
      requester: 'planner',
      capability: 'email.send',
      args: ARGS,
      argsHash: hashArgs(ARGS),
      reason: 'notify ops',
      createdAt: 10_000,
      deadline: 11_000,
      escalationLevel: 0,
      escalateTo: 'manager',
    });
    expect(events.map((e) => e.type)).toEqual(['consent.requested']);
  });

  it('filters by tenant', () => {
    const { queue } = setup();
    queue.request(base());
    queue.request(base({ tenant: 't2' }));
    expect(queue.list({ tenant: 't2' }).map((i) => i.tenant)).toEqual(['t2']);
    expect(queue.list()).toHaveLength(2);
  });

  it('shows the args as they were when requested, even if the caller mutates them afterwards', () => {
    const { queue } = setup();
    const args = { cmd: 'ls' };
    queue.request(base({ args }));
    args.cmd = 'rm -rf /';
    expect(queue.list()[0].args).toEqual({ cmd: 'ls' });
    expect(Object.isFrozen(queue.list()[0].args)).toBe(true);
  });

  it('refuses an argsHash that is not the hash of the args', () => {
    const { queue } = setup();
    expect(code(() => queue.request(base({ argsHash: hashArgs({ other: 1 }) })))).toBe('CONSENT_MISMATCH');
    expect(queue.list()).toHaveLength(0);
  });

  it('refuses malformed requests with INVALID_POLICY', () => {
    const { queue } = setup();
    expect(code(() => queue.request(base({ timeoutMs: 0 })))).toBe('INVALID_POLICY');
    expect(code(() => queue.request(base({ requester: '' })))).toBe('INVALID_POLICY');
  });
});

describe('ApprovalQueue: grants', () => {
  it('approve resolves the requester with a grant that can be consumed exactly once', async () => {
    const { queue, events } = setup();
    const { id, promise } = queue.request(base());
    const summary = queue.approve(id, { by: 'alice' });
    expect(summary).toEqual({ id, by: 'alice', expiresAt: 10_500 });
    expect(summary).not.toHaveProperty('grant');
    const grant = await granted(promise);
    expect(grant).toMatchObject({ approvalId: id, tenant: 't1', capability: 'email.send', argsHash: hashArgs(ARGS), approvedBy: 'alice' });
    expect(() => queue.consume(grant, { args: { ...ARGS }, tenant: 't1', capability: 'email.send' })).not.toThrow();
    expect(code(() => queue.consume(grant, { args: ARGS, tenant: 't1', capability: 'email.send' }))).toBe('CONSENT_REUSED');
    expect(events.map((e) => e.type)).toEqual(['consent.requested', 'consent.granted']);
    expect(queue.list()).toHaveLength(0);
  });

  it('changed args, another tenant or another capability are a mismatch, and do not burn the grant', async () => {
    const { queue } = setup();
    const { id, promise } = queue.request(base());
    queue.approve(id, { by: 'alice' });
    const grant = await granted(promise);
    expect(code(() => queue.consume(grant, { args: { ...ARGS, body: 'drop db' }, tenant: 't1', capability: 'email.send' }))).toBe(
      'CONSENT_MISMATCH',
    );
    expect(code(() => queue.consume(grant, { args: ARGS, tenant: 't2', capability: 'email.send' }))).toBe('CONSENT_MISMATCH');
    expect(code(() => queue.consume(grant, { args: ARGS, tenant: 't1', capability: 'email.sendAll' }))).toBe('CONSENT_MISMATCH');
    expect(code(() => queue.consume(grant, { args: ARGS, tenant: 't1', capability: 'email.send' }))).toBe('NO_ERROR');
  });

  it('a grant whose fields were edited is still judged by what was approved', async () => {
    const { queue } = setup();
    const { id, promise } = queue.request(base());
    queue.approve(id, { by: 'alice' });
    const grant = await granted(promise);
    const evil = { ...ARGS, to: 'attacker@example.com' };
    const edited: GrantToken = { ...grant, argsHash: hashArgs(evil), expiresAt: Number.MAX_SAFE_INTEGER };
    expect(code(() => queue.consume(edited, { args: evil, tenant: 't1', capability: 'email.send' }))).toBe('CONSENT_MISMATCH');
    const forged: GrantToken = { ...grant, token: 'guessed' };
    expect(code(() => queue.consume(forged, { args: ARGS, tenant: 't1', capability: 'email.send' }))).toBe('CONSENT_MISMATCH');
  });

  it('a grant expires at expiresAt, used or not', async () => {
    const { clock, queue } = setup();
    const { id, promise } = queue.request(base());
    queue.approve(id, { by: 'alice' });
    const grant = await granted(promise);
    clock.advance(499);
    const second = queue.request(base());
    queue.approve(second.id, { by: 'alice' });
    const other = await granted(second.promise);
    clock.advance(1);
    expect(code(() => queue.consume(grant, { args: ARGS, tenant: 't1', capability: 'email.send' }))).toBe('CONSENT_EXPIRED');
    expect(code(() => queue.consume(other, { args: ARGS, tenant: 't1', capability: 'email.send' }))).toBe('NO_ERROR');
  });
});

describe('ApprovalQueue: who may decide', () => {
  it('the requester, the actor and its principal cannot approve (SOD_VIOLATION); the request stays pending', () => {
    const { queue } = setup();
    const { id } = queue.request(base({ onBehalfOf: 'user-7' }));
    for (const by of ['planner', 'mailer', 'user-7']) {
      let err: unknown;
      try {
        queue.approve(id, { by });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PolicyDenied);
      expect((err as PolicyDenied).code).toBe('SOD_VIOLATION');
      expect((err as PolicyDenied).message).toContain(by);
    }
    expect(queue.get(id)).toBeDefined();
  });

  it('the requester may withdraw (reject) its own request', async () => {
    const { queue } = setup();
    const { id, promise } = queue.request(base());
    queue.reject(id, { by: 'planner', reason: 'changed my mind' });
    expect(await promise).toEqual({ status: 'rejected', id, by: 'planner', reason: 'changed my mind' });
  });

  it('with RBAC, approving needs approve:<capability> or approve:* in the tenant (or the team)', () => {
    const rbac = new Rbac({
      roles: { reviewer: { permissions: ['approve:email.*'] }, root: { permissions: ['approve:*'] }, viewer: {} },
      bindings: [
        { principal: 'rita', role: 'reviewer', tenant: 't1' },
        { principal: 'vic', role: 'viewer', tenant: 't1' },
        { principal: 'otto', role: 'root', tenant: 't2' },
        { principal: 'tess', role: 'root', tenant: 't1', team: 'comms' },
      ],
    });
    const { queue } = setup({ rbac });
    const a = queue.request(base());
    expect(code(() => queue.approve(a.id, { by: 'vic' }))).toBe('APPROVER_NOT_AUTHORIZED');
    expect(code(() => queue.approve(a.id, { by: 'otto' }))).toBe('APPROVER_NOT_AUTHORIZED');
    expect(code(() => queue.approve(a.id, { by: 'tess' }))).toBe('APPROVER_NOT_AUTHORIZED');
    expect(code(() => queue.reject(a.id, { by: 'vic', reason: 'no' }))).toBe('APPROVER_NOT_AUTHORIZED');
    expect(code(() => queue.approve(a.id, { by: 'rita' }))).toBe('NO_ERROR');
    const b = queue.request(base({ team: 'comms' }));
    expect(code(() => queue.approve(b.id, { by: 'tess' }))).toBe('NO_ERROR');
  });

  it('SoD holds even for a principal with every permission', () => {
    const rbac = new Rbac({ roles: { root: { permissions: ['*'] } }, bindings: [{ principal: 'planner', role: 'root', tenant: 't1' }] });
    const { queue } = setup({ rbac });
    const { id } = queue.request(base());
    expect(code(() => queue.approve(id, { by: 'planner' }))).toBe('SOD_VIOLATION');
  });

  it('unknown and already-decided ids are typed errors', async () => {
    const { clock, queue } = setup();
    expect(code(() => queue.approve('nope', { by: 'alice' }))).toBe('APPROVAL_NOT_FOUND');
    const a = queue.request(base());
    queue.approve(a.id, { by: 'alice' });
    expect(code(() => queue.approve(a.id, { by: 'bob' }))).toBe('APPROVAL_DECIDED');
    expect(code(() => queue.reject(a.id, { by: 'bob', reason: 'late' }))).toBe('APPROVAL_DECIDED');
    const b = queue.request(base());
    clock.advance(1_000);
    expect((await b.promise).status).toBe('expired');
    expect(code(() => queue.approve(b.id, { by: 'alice' }))).toBe('APPROVAL_DECIDED');
  });
});

describe('ApprovalQueue: timeouts and escalation', () => {
  it('without escalation, the request expires at its deadline', async () => {
    const { clock, queue, events } = setup();
    const { id, promise } = queue.request(base());
    clock.advance(999);
    expect(queue.get(id)).toBeDefined();
    clock.advance(1);
    expect(await promise).toEqual({ status: 'expired', id, escalated: false });
    expect(events.map((e) => e.type)).toEqual(['consent.requested', 'consent.expired']);
    expect(queue.list()).toHaveLength(0);
  });

  it('timeout escalates once to the escalateTo role with a new deadline, then expires', async () => {
    const { clock, queue, events } = setup();
    const { id, promise } = queue.request(base({ escalateTo: 'manager', escalationTimeoutMs: 2_000 }));
    clock.advance(1_000);
    expect(queue.get(id)).toMatchObject({ escalationLevel: 1, deadline: 13_000 });
    const escalated = events.find((e) => e.type === 'consent.escalated');
    expect(escalated).toMatchObject({ at: 11_000, role: 'manager', approval: { id, escalationLevel: 1 } });
    clock.advance(1_999);
    expect(queue.get(id)).toBeDefined();
    clock.advance(1);
    expect(await promise).toEqual({ status: 'expired', id, escalated: true });
    expect(events.map((e) => e.type)).toEqual(['consent.requested', 'consent.escalated', 'consent.expired']);
    expect(clock.pending()).toBe(0);
  });

  it('after escalation a holder of the escalation role may approve, and not before', async () => {
    const rbac = new Rbac({
      roles: { manager: {}, reviewer: { permissions: ['approve:*'] } },
      bindings: [
        { principal: 'max', role: 'manager', tenant: 't1' },
        { principal: 'rita', role: 'reviewer', tenant: 't1' },
      ],
    });
    const { clock, queue } = setup({ rbac });
    const { id, promise } = queue.request(base({ escalateTo: 'manager' }));
    expect(code(() => queue.approve(id, { by: 'max' }))).toBe('APPROVER_NOT_AUTHORIZED');
    clock.advance(1_000);
    queue.approve(id, { by: 'max' });
    expect((await promise).status).toBe('granted');
  });

  it('an approval before the deadline cancels the timer', async () => {
    const { clock, queue } = setup();
    const { id, promise } = queue.request(base({ escalateTo: 'manager' }));
    queue.reject(id, { by: 'alice', reason: 'not now' });
    expect((await promise).status).toBe('rejected');
    clock.advance(10_000);
    expect(clock.pending()).toBe(0);
  });

  it('close rejects what is pending and drops every timer', async () => {
    const { clock, queue } = setup();
    const a = queue.request(base());
    const b = queue.request(base());
    queue.approve(b.id, { by: 'alice' });
    await b.promise;
    queue.close();
    expect(await a.promise).toMatchObject({ status: 'rejected', by: 'system' });
    expect(clock.pending()).toBe(0);
  });
});

describe('ApprovalQueue: withdraw', () => {
  it('the requester, the actor or the principal may withdraw: gone from the list, timer cleared, event, withdrawn outcome', async () => {
    for (const by of ['planner', 'mailer', 'user-7']) {
      const { clock, queue, events } = setup();
      const { id, promise } = queue.request(base({ onBehalfOf: 'user-7', escalateTo: 'manager' }));
      expect(clock.pending()).toBe(1);
      queue.withdraw(id, { by, reason: 'caller crashed' });
      expect(queue.list()).toEqual([]);
      expect(queue.get(id)).toBeUndefined();
      expect(clock.pending()).toBe(0);
      expect(await promise).toEqual({ status: 'withdrawn', id });
      expect(events.map((e) => e.type)).toEqual(['consent.requested', 'consent.withdrawn']);
      expect(events[1]).toMatchObject({ at: 10_000, by, reason: 'caller crashed', approval: { id } });
      clock.advance(10_000);
      expect(events).toHaveLength(2);
    }
  });

  it('a withdrawn id cannot be approved, rejected or withdrawn again (APPROVAL_DECIDED)', () => {
    const { queue } = setup();
    const { id } = queue.request(base());
    queue.withdraw(id, { by: 'planner' });
    expect(code(() => queue.approve(id, { by: 'alice' }))).toBe('APPROVAL_DECIDED');
    expect(code(() => queue.reject(id, { by: 'alice', reason: 'late' }))).toBe('APPROVAL_DECIDED');
    expect(code(() => queue.withdraw(id, { by: 'planner' }))).toBe('APPROVAL_DECIDED');
    expect(code(() => queue.withdraw('nope', { by: 'planner' }))).toBe('APPROVAL_NOT_FOUND');
  });

  it('withdrawing after escalation clears the escalation timer', () => {
    const { clock, queue } = setup();
    const { id } = queue.request(base({ escalateTo: 'manager' }));
    clock.advance(1_000);
    expect(queue.get(id)).toMatchObject({ escalationLevel: 1 });
    expect(clock.pending()).toBe(1);
    queue.withdraw(id, { by: 'mailer' });
    expect(clock.pending()).toBe(0);
  });

  it('anyone else needs the rights reject needs; the default reason is "withdrawn"', async () => {
    const rbac = new Rbac({
      roles: { reviewer: { permissions: ['approve:email.*'] }, viewer: {} },
      bindings: [
        { principal: 'rita', role: 'reviewer', tenant: 't1' },
        { principal: 'vic', role: 'viewer', tenant: 't1' },
      ],
    });
    const { queue, events } = setup({ rbac });
    const { id, promise } = queue.request(base());
    expect(code(() => queue.withdraw(id, { by: 'vic' }))).toBe('APPROVER_NOT_AUTHORIZED');
    expect(code(() => queue.withdraw(id, { by: '' }))).toBe('INVALID_POLICY');
    expect(queue.get(id)).toBeDefined();
    queue.withdraw(id, { by: 'rita' });
    expect(await promise).toEqual({ status: 'withdrawn', id });
    expect(events.at(-1)).toMatchObject({ type: 'consent.withdrawn', by: 'rita', reason: 'withdrawn' });
  });
});
