import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { AgentOsError, BudgetExceeded, PolicyDenied, type ContractError } from '../../../src/base/errors.js';
import {
  PolicyEngine,
  Rbac,
  allows,
  covers,
  hashArgs,
  type ActorPolicy,
  type ApprovalEvent,
  type CheckRequest,
  type Decision,
} from '../../../src/kernel/policy/index.js';

function setup(options: { rbac?: Rbac; onDecision?: (d: Decision) => void } = {}) {
  const clock = new VirtualClock();
  const decisions: Decision[] = [];
  const events: ApprovalEvent[] = [];
  const engine = new PolicyEngine({
    clock,
    rbac: options.rbac,
    onDecision: options.onDecision ?? ((d) => decisions.push(d)),
    onApprovalEvent: (e) => events.push(e),
    consent: { timeoutMs: 1_000, expiresInMs: 100 },
  });
  return { clock, engine, decisions, events };
}

async function rejection(p: Promise<unknown>): Promise<AgentOsError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AgentOsError) return e;
    throw e;
  }
  throw new Error('expected the check to be refused');
}

const tool = (name: string, extra: Partial<CheckRequest> = {}): CheckRequest => ({ kind: 'tool', name, ...extra });

describe('PolicyEngine: capabilities', () => {
  it('allows a listed capability and reports "allowed"', async () => {
    const { engine, decisions } = setup();
    engine.register('a1', { tenant: 't1', capabilities: ['web.fetch'] });
    const d = await engine.check('a1', tool('web.fetch', { args: { url: 'https://x' } }));
    expect(d).toMatchObject({ actor: 'a1', tenant: 't1', kind: 'tool', name: 'web.fetch', decision: 'allowed', argsHash: hashArgs({ url: 'https://x' }) });
    expect(decisions).toEqual([d]);
  });

  it('denies anything else with CAPABILITY_DENIED naming actor and capability, and reports it', async () => {
    const { engine, decisions } = setup();
    engine.register('a1', { tenant: 't1', capabilities: ['web.fetch'] });
    const err = await rejection(engine.check('a1', tool('shell.exec', { args: { cmd: 'id' } })));
    expect(err).toBeInstanceOf(PolicyDenied);
    expect(err.code).toBe('CAPABILITY_DENIED');
    expect(err.message).toContain('"a1"');
    expect(err.message).toContain('"shell.exec"');
    expect(decisions).toEqual([
      expect.objectContaining({ decision: 'denied', code: 'CAPABILITY_DENIED', name: 'shell.exec', argsHash: hashArgs({ cmd: 'id' }) }),
    ]);
  });

  it('wildcard capabilities cover names under their prefix only', async () => {
    const { engine } = setup();
    engine.register('a1', { tenant: 't1', capabilities: ['web.*', 'model.gpt-small'] });
    await expect(engine.check('a1', tool('web.search.deep'))).resolves.toMatchObject({ decision: 'allowed' });
    await expect(engine.check('a1', { kind: 'model', name: 'model.gpt-small' })).resolves.toMatchObject({ kind: 'model' });
    expect((await rejection(engine.check('a1', tool('web')))).code).toBe('CAPABILITY_DENIED');
    expect((await rejection(engine.check('a1', { kind: 'model', name: 'model.gpt-large' }))).code).toBe('CAPABILITY_DENIED');
  });

  it('an unregistered actor is denied with UNKNOWN_ACTOR, and so is one after unregister', async () => {
    const { engine, decisions } = setup();
    expect((await rejection(engine.check('ghost', tool('web.fetch')))).code).toBe('UNKNOWN_ACTOR');
    engine.register('a1', { tenant: 't1', capabilities: ['*'] });
    expect(engine.unregister('a1')).toBe(true);
    expect((await rejection(engine.check('a1', tool('web.fetch')))).code).toBe('UNKNOWN_ACTOR');
    expect(decisions.map((d) => [d.decision, d.tenant])).toEqual([
      ['denied', undefined],
      ['denied', undefined],
    ]);
  });

  it('a malformed call (unknown kind, non-string name) is denied', async () => {
    const { engine } = setup();
    engine.register('a1', { tenant: 't1', capabilities: ['*'] });
    expect((await rejection(engine.check('a1', { kind: 'shell' as never, name: 'x' }))).code).toBe('CAPABILITY_DENIED');
    expect((await rejection(engine.check('a1', { kind: 'tool', name: 7 as never }))).code).toBe('CAPABILITY_DENIED');
  });

  it('args that cannot be hashed are denied with INVALID_ARGS', async () => {
    const { engine, decisions } = setup();
    engine.register('a1', { tenant: 't1', capabilities: ['*'] });
    expect((await rejection(engine.check('a1', tool('x', { args: { when: new Date() } })))).code).toBe('INVALID_ARGS');
    expect(decisions[0]).toMatchObject({ decision: 'denied', code: 'INVALID_ARGS' });
  });

  it('register validates the policy', () => {
    const { engine } = setup();
    const fails = (id: string, p: ActorPolicy): ContractError => {
      try {
        engine.register(id, p);
      } catch (e) {
        return e as ContractError;
      }
      throw new Error('expected register to throw');
    };
    expect(fails('a1', { tenant: 't1', capabilities: ['web.*x'] })).toMatchObject({ code: 'INVALID_CAPABILITY', field: 'actors.a1.capabilities' });
    expect(fails('a1', { tenant: 't1', capabilities: [], consentFor: ['*.x'] })).toMatchObject({ field: 'actors.a1.consentFor' });
    expect(fails('a1', { tenant: '', capabilities: [] }).code).toBe('INVALID_POLICY');
    expect(fails('a1', { tenant: 't1', capabilities: [], roles: ['x'] }).code).toBe('INVALID_POLICY');
    expect(fails('a1', { tenant: 't1', capabilities: [], consent: { timeoutMs: -1 } }).field).toBe('actors.a1.consent.timeoutMs');
    engine.register('a1', { tenant: 't1', capabilities: [] });
    expect(fails('a1', { tenant: 't1', capabilities: [] }).code).toBe('DUPLICATE_ACTOR');
  });

  it('if onDecision throws, the check fails with that error (fail closed)', async () => {
    const { engine } = setup({
      onDecision: () => {
        throw new Error('audit log unavailable');
      },
    });
    engine.register('a1', { tenant: 't1', capabilities: ['*'] });
    await expect(engine.check('a1', tool('web.fetch'))).rejects.toThrow('audit log unavailable');
  });
});

describe('PolicyEngine: delegation', () => {
  it('an actor acting for another gets the intersection of both capability sets', async () => {
    const { engine, decisions } = setup();
    engine.register('agent', { tenant: 't1', capabilities: ['web.*', 'db.read'] });
    engine.register('user', { tenant: 't1', capabilities: ['web.fetch', 'email.send'] });
    expect(engine.effectiveCapabilities('agent', 'user')).toEqual(['web.fetch']);
    await expect(engine.check('agent', tool('web.fetch', { onBehalfOf: 'user' }))).resolves.toMatchObject({ onBehalfOf: 'user' });
    const err = await rejection(engine.check('agent', tool('db.read', { onBehalfOf: 'user' })));
    expect(err.code).toBe('CAPABILITY_DENIED');
    expect(err.message).toContain('acting for "user"');
    expect((await rejection(engine.check('agent', tool('email.send', { onBehalfOf: 'user' })))).code).toBe('CAPABILITY_DENIED');
    expect(decisions.map((d) => d.decision)).toEqual(['allowed', 'denied', 'denied']);
  });

  it('acting for an actor of another tenant is CROSS_TENANT; for an unknown one UNKNOWN_ACTOR', async () => {
    const { engine } = setup();
    engine.register('agent', { tenant: 't1', capabilities: ['*'] });
    engine.register('other', { tenant: 't2', capabilities: ['*'] });
    expect((await rejection(engine.check('agent', tool('x', { onBehalfOf: 'other' })))).code).toBe('CROSS_TENANT');
    expect((await rejection(engine.check('agent', tool('x', { onBehalfOf: 'nobody' })))).code).toBe('UNKNOWN_ACTOR');
    expect(engine.effectiveCapabilities('agent', 'other')).toEqual([]);
  });

  const segment = fc.constantFrom('a', 'b', 'c');
  const name = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));
  const pattern = fc.oneof(name, fc.array(segment, { maxLength: 2 }).map((s) => [...s, '*'].join('.')));
  const caps = fc.array(pattern, { maxLength: 5 });

  it('property: the effective set is within both sets, and a check passes exactly on names both sets allow', async () => {
    await fc.assert(
      fc.asyncProperty(caps, caps, fc.array(name, { minLength: 1, maxLength: 8 }), async (mine, theirs, names) => {
        const { engine } = setup();
        engine.register('agent', { tenant: 't1', capabilities: mine });
        engine.register('user', { tenant: 't1', capabilities: theirs });
        const effective = engine.effectiveCapabilities('agent', 'user');
        for (const p of effective) {
          expect(mine.some((m) => covers(m, p))).toBe(true);
          expect(theirs.some((t) => covers(t, p))).toBe(true);
        }
        for (const n of names) {
          const expected = allows(mine, n) && allows(theirs, n);
          expect(allows(effective, n)).toBe(expected);
          const passed = await engine.check('agent', tool(n, { onBehalfOf: 'user' })).then(
            () => true,
            () => false,
          );
          expect(passed).toBe(expected);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('PolicyEngine: consent', () => {
  const policy: ActorPolicy = { tenant: 't1', capabilities: ['email.*', 'web.fetch'], consentFor: ['email.send'] };
  const ARGS = { to: 'ops@example.com', body: 'hi' };

  it('a consent_for call waits for approval, then is allowed once; the next call asks again', async () => {
    const { engine, decisions } = setup();
    engine.register('mailer', policy);
    const pending = engine.check('mailer', tool('email.send', { args: ARGS, reason: 'weekly report' }));
    const [item] = engine.approvals.list();
    expect(item).toMatchObject({ actor: 'mailer', requester: 'mailer', capability: 'email.send', args: ARGS, reason: 'weekly report' });
    expect(decisions.map((d) => d.decision)).toEqual(['consent-requested']);
    engine.approvals.approve(item.id, { by: 'alice' });
    const d = await pending;
    expect(d).toMatchObject({ decision: 'consent-granted', by: 'alice', approvalId: item.id, argsHash: hashArgs(ARGS) });
    expect(decisions.map((x) => x.decision)).toEqual(['consent-requested', 'consent-granted']);
    // No standing permission: the same call needs a fresh approval.
    void engine.check('mailer', tool('email.send', { args: ARGS }));
    expect(engine.approvals.list()).toHaveLength(1);
    // Calls outside consent_for do not wait.
    await expect(engine.check('mailer', tool('web.fetch'))).resolves.toMatchObject({ decision: 'allowed' });
  });

  it('a rejection refuses the call with CONSENT_REJECTED and who rejected it', async () => {
    const { engine, decisions } = setup();
    engine.register('mailer', policy);
    const pending = engine.check('mailer', tool('email.send', { args: ARGS }));
    engine.approvals.reject(engine.approvals.list()[0].id, { by: 'alice', reason: 'spam' });
    const err = await rejection(pending);
    expect(err.code).toBe('CONSENT_REJECTED');
    expect(err.message).toContain('"alice"');
    expect(err.message).toContain('spam');
    expect(decisions.at(-1)).toMatchObject({ decision: 'consent-rejected', by: 'alice', code: 'CONSENT_REJECTED' });
  });

  it('no answer: escalation, then CONSENT_EXPIRED', async () => {
    const { clock, engine, decisions } = setup();
    engine.register('mailer', { ...policy, consent: { timeoutMs: 100, escalateTo: 'manager', escalationTimeoutMs: 300 } });
    const pending = engine.check('mailer', tool('email.send', { args: ARGS }));
    clock.advance(100);
    expect(engine.approvals.list()[0]).toMatchObject({ escalationLevel: 1, deadline: 400 });
    clock.advance(300);
    const err = await rejection(pending);
    expect(err.code).toBe('CONSENT_EXPIRED');
    expect(err.message).toContain('after escalation');
    expect(decisions.map((d) => d.decision)).toEqual(['consent-requested', 'consent-expired']);
  });

  it('args changed while waiting for approval are a CONSENT_MISMATCH, not an allowed call', async () => {
    const { engine, decisions } = setup();
    engine.register('mailer', policy);
    const args = { to: 'ops@example.com', body: 'hi' };
    const pending = engine.check('mailer', tool('email.send', { args }));
    args.to = 'attacker@example.com';
    const [item] = engine.approvals.list();
    expect(item.args).toEqual({ to: 'ops@example.com', body: 'hi' });
    engine.approvals.approve(item.id, { by: 'alice' });
    expect((await rejection(pending)).code).toBe('CONSENT_MISMATCH');
    expect(decisions.at(-1)).toMatchObject({ decision: 'denied', code: 'CONSENT_MISMATCH' });
  });

  it('the actor, the requester and the principal cannot approve (SOD_VIOLATION)', async () => {
    const { engine } = setup();
    engine.register('mailer', policy);
    engine.register('user', { tenant: 't1', capabilities: ['email.send'] });
    const pending = engine.check('mailer', tool('email.send', { args: ARGS, onBehalfOf: 'user', requester: 'bob' }));
    const [item] = engine.approvals.list();
    expect(item).toMatchObject({ requester: 'bob', onBehalfOf: 'user' });
    for (const by of ['mailer', 'user', 'bob']) {
      expect(() => engine.approvals.approve(item.id, { by })).toThrow(expect.objectContaining({ code: 'SOD_VIOLATION' }));
    }
    engine.approvals.approve(item.id, { by: 'carol' });
    await expect(pending).resolves.toMatchObject({ decision: 'consent-granted', by: 'carol' });
  });

  it("the principal's consent_for applies to a delegate", async () => {
    const { engine } = setup();
    engine.register('agent', { tenant: 't1', capabilities: ['db.*'] });
    engine.register('user', { tenant: 't1', capabilities: ['db.*'], consentFor: ['db.write'] });
    await expect(engine.check('agent', tool('db.write'))).resolves.toMatchObject({ decision: 'allowed' });
    void engine.check('agent', tool('db.write', { onBehalfOf: 'user' }));
    expect(engine.approvals.list()).toHaveLength(1);
  });

  it('an actor unregistered while waiting is denied even when approved', async () => {
    const { engine } = setup();
    engine.register('mailer', policy);
    const pending = engine.check('mailer', tool('email.send', { args: ARGS }));
    engine.unregister('mailer');
    engine.approvals.approve(engine.approvals.list()[0].id, { by: 'alice' });
    expect((await rejection(pending)).code).toBe('UNKNOWN_ACTOR');
  });

  it('with RBAC, approvers need approve:<capability>; roles given at register bind the actor', async () => {
    const rbac = new Rbac({ roles: { approver: { permissions: ['approve:email.*'] } } });
    const { engine } = setup({ rbac });
    engine.register('mailer', policy);
    engine.register('supervisor-agent', { tenant: 't1', capabilities: [], roles: ['approver'] });
    const pending = engine.check('mailer', tool('email.send', { args: ARGS }));
    const { id } = engine.approvals.list()[0];
    expect(() => engine.approvals.approve(id, { by: 'alice' })).toThrow(expect.objectContaining({ code: 'APPROVER_NOT_AUTHORIZED' }));
    engine.approvals.approve(id, { by: 'supervisor-agent' });
    await expect(pending).resolves.toMatchObject({ by: 'supervisor-agent' });
    engine.unregister('supervisor-agent');
    expect(rbac.rolesOf('supervisor-agent', { tenant: 't1' })).toEqual([]);
    // A failed register leaves no binding behind.
    expect(() => engine.register('x', { tenant: 't1', capabilities: [], roles: ['approver'], budgets: { tpm: -1 } })).toThrow();
    expect(rbac.rolesOf('x', { tenant: 't1' })).toEqual([]);
    expect(() => engine.register('y', { tenant: 't1', capabilities: [], consent: { escalateTo: 'ghost' } })).toThrow(/unknown role "ghost"/);
  });
});

describe('PolicyEngine: budgets', () => {
  it('charges tokens per actor and refuses beyond the rate with BUDGET_EXCEEDED, reported as budget-refused', async () => {
    const { clock, engine, decisions } = setup();
    engine.register('a1', { tenant: 't1', capabilities: ['model.*'], budgets: { tps: 100 } });
    await engine.check('a1', { kind: 'model', name: 'model.small', tokens: 80 });
    const err = await rejection(engine.check('a1', { kind: 'model', name: 'model.small', tokens: 40 }));
    expect(err).toBeInstanceOf(BudgetExceeded);
    expect(err.code).toBe('BUDGET_EXCEEDED');
    expect(err.message).toContain('tokens-per-second limit 100');
    expect(decisions.at(-1)).toMatchObject({ decision: 'budget-refused', code: 'BUDGET_EXCEEDED', tokens: 40 });
    clock.advance(200);
    await expect(engine.check('a1', { kind: 'model', name: 'model.small', tokens: 40 })).resolves.toMatchObject({ tokens: 40 });
  });

  it('tenant budgets are shared by the actors of the tenant', async () => {
    const { engine } = setup();
    engine.budgets.setTenant('t1', { tpm: 1_000 });
    engine.register('a1', { tenant: 't1', capabilities: ['*'] });
    engine.register('a2', { tenant: 't1', capabilities: ['*'] });
    await engine.check('a1', { kind: 'model', name: 'm', tokens: 700 });
    expect((await rejection(engine.check('a2', { kind: 'model', name: 'm', tokens: 400 }))).code).toBe('BUDGET_EXCEEDED');
  });

  it('a denied call charges nothing', async () => {
    const { engine } = setup();
    engine.register('a1', { tenant: 't1', capabilities: ['model.small'], budgets: { tokens: 100 } });
    await rejection(engine.check('a1', { kind: 'model', name: 'model.large', tokens: 100 }));
    await expect(engine.check('a1', { kind: 'model', name: 'model.small', tokens: 100 })).resolves.toBeDefined();
  });
});

describe('PolicyEngine: every decision reaches onDecision', () => {
  type Step = { name: string; tokens?: number; answer: 'approve' | 'reject' | 'timeout' };
  const step: fc.Arbitrary<Step> = fc.record({
    name: fc.constantFrom('web.fetch', 'email.send', 'shell.exec', 'model.small'),
    tokens: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    answer: fc.constantFrom('approve', 'reject', 'timeout'),
  });
  const terminal = new Set(['allowed', 'denied', 'consent-granted', 'consent-rejected', 'consent-expired', 'budget-refused']);
  const expectedFor: Record<string, string> = {
    CAPABILITY_DENIED: 'denied',
    CONSENT_REJECTED: 'consent-rejected',
    CONSENT_EXPIRED: 'consent-expired',
    BUDGET_EXCEEDED: 'budget-refused',
  };

  it('property: each check yields one terminal decision matching its outcome, plus consent-requested when consent was asked', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const { clock, engine, decisions } = setup();
        engine.register('a1', { tenant: 't1', capabilities: ['web.*', 'email.*', 'model.*'], consentFor: ['email.send'], budgets: { tps: 100 } });
        for (const s of steps) {
          const before = decisions.length;
          const p = engine.check('a1', { kind: 'tool', name: s.name, tokens: s.tokens, args: { n: before } }).then(
            (d) => ({ ok: true as const, d }),
            (e: AgentOsError) => ({ ok: false as const, e }),
          );
          const asked = engine.approvals.list()[0];
          if (asked !== undefined) {
            if (s.answer === 'approve') engine.approvals.approve(asked.id, { by: 'human' });
            else if (s.answer === 'reject') engine.approvals.reject(asked.id, { by: 'human', reason: 'no' });
            else clock.advance(1_000);
          }
          const result = await p;
          const mine = decisions.slice(before);
          const finals = mine.filter((d) => terminal.has(d.decision));
          expect(finals).toHaveLength(1);
          seen.add(finals[0].decision);
          expect(mine.filter((d) => d.decision === 'consent-requested')).toHaveLength(asked === undefined ? 0 : 1);
          expect(mine.every((d) => d.actor === 'a1' && d.name === s.name && d.tenant === 't1')).toBe(true);
          if (result.ok) {
            expect(finals[0]).toBe(result.d);
            expect(result.d.decision).toBe(asked === undefined ? 'allowed' : 'consent-granted');
          } else {
            expect(finals[0].code).toBe(result.e.code);
            expect(finals[0].decision).toBe(expectedFor[result.e.code]);
          }
          clock.advance(100);
        }
      }),
      { numRuns: 100 },
    );
    // The generator must reach every kind of terminal decision, or the property proves little.
    expect([...seen].sort()).toEqual([...terminal].sort());
  });
});

describe('PolicyEngine: cancellation (options.signal)', () => {
  const policy: ActorPolicy = { tenant: 't1', capabilities: ['email.*', 'web.fetch'], consentFor: ['email.send'] };
  const ARGS = { to: 'ops@example.com', body: 'hi' };
  const send = () => tool('email.send', { args: ARGS });

  it('an already aborted signal refuses with CALL_ABORTED, reported as "aborted", and asks no one', async () => {
    const { clock, engine, decisions, events } = setup();
    engine.register('mailer', policy);
    const ctrl = new AbortController();
    ctrl.abort(new Error('actor crashed'));
    const err = await rejection(engine.check('mailer', send(), { signal: ctrl.signal }));
    expect(err).toBeInstanceOf(PolicyDenied);
    expect(err.code).toBe('CALL_ABORTED');
    expect(err.message).toContain('actor crashed');
    expect(engine.approvals.list()).toEqual([]);
    expect(events).toEqual([]);
    expect(clock.pending()).toBe(0);
    expect(decisions).toEqual([
      expect.objectContaining({ decision: 'aborted', code: 'CALL_ABORTED', actor: 'mailer', tenant: 't1', name: 'email.send', argsHash: hashArgs(ARGS) }),
    ]);
    // Calls that need no consent are refused too.
    expect((await rejection(engine.check('mailer', tool('web.fetch'), { signal: ctrl.signal }))).code).toBe('CALL_ABORTED');
    expect(decisions.map((d) => d.decision)).toEqual(['aborted', 'aborted']);
  });

  it('aborting while awaiting consent withdraws the approval; approving it later fails; a retry asks once', async () => {
    const { clock, engine, decisions, events } = setup();
    engine.register('mailer', policy);
    const timersBefore = clock.pending();
    const ctrl = new AbortController();
    const pending = engine.check('mailer', send(), { signal: ctrl.signal });
    const [item] = engine.approvals.list();
    expect(clock.pending()).toBe(timersBefore + 1);
    ctrl.abort(new Error('actor crashed'));
    // Synchronously gone, its timer with it.
    expect(engine.approvals.list()).toEqual([]);
    expect(engine.approvals.get(item.id)).toBeUndefined();
    expect(clock.pending()).toBe(timersBefore);
    expect(events.map((e) => e.type)).toEqual(['consent.requested', 'consent.withdrawn']);
    expect(events[1]).toMatchObject({ approval: { id: item.id }, by: 'mailer', reason: expect.stringContaining('actor crashed') });
    const err = await rejection(pending);
    expect(err).toBeInstanceOf(PolicyDenied);
    expect(err.code).toBe('CALL_ABORTED');
    expect(decisions.map((d) => d.decision)).toEqual(['consent-requested', 'consent-withdrawn']);
    expect(decisions[1]).toMatchObject({ code: 'CALL_ABORTED', approvalId: item.id, argsHash: hashArgs(ARGS) });
    // A human acting on the stale request gets a typed error, not a side effect.
    expect(() => engine.approvals.approve(item.id, { by: 'alice' })).toThrow(expect.objectContaining({ code: 'APPROVAL_DECIDED' }));
    expect(() => engine.approvals.reject(item.id, { by: 'alice', reason: 'late' })).toThrow(expect.objectContaining({ code: 'APPROVAL_DECIDED' }));
    // The restarted incarnation asks again: exactly one approval is listed, and it runs once.
    const again = engine.check('mailer', send(), { signal: new AbortController().signal });
    const listed = engine.approvals.list();
    expect(listed).toHaveLength(1);
    expect(listed[0].id).not.toBe(item.id);
    engine.approvals.approve(listed[0].id, { by: 'alice' });
    await expect(again).resolves.toMatchObject({ decision: 'consent-granted', by: 'alice' });
    clock.advance(10_000);
    expect(decisions.map((d) => d.decision)).toEqual(['consent-requested', 'consent-withdrawn', 'consent-requested', 'consent-granted']);
  });

  it('an abort raised by a hook while the approval is being requested still withdraws it', async () => {
    const ctrl = new AbortController();
    const seen: Decision[] = [];
    const { engine } = setup({
      onDecision: (d) => {
        seen.push(d);
        if (d.decision === 'consent-requested') ctrl.abort();
      },
    });
    engine.register('mailer', policy);
    const pending = engine.check('mailer', send(), { signal: ctrl.signal });
    expect(engine.approvals.list()).toEqual([]);
    expect((await rejection(pending)).code).toBe('CALL_ABORTED');
    expect(seen.map((d) => d.decision)).toEqual(['consent-requested', 'consent-withdrawn']);
  });

  it('aborting after the grant but before the check returns refuses without consuming the grant', async () => {
    const { engine, decisions } = setup();
    engine.register('mailer', policy);
    const consume = vi.spyOn(engine.approvals, 'consume');
    const ctrl = new AbortController();
    const pending = engine.check('mailer', send(), { signal: ctrl.signal });
    const [item] = engine.approvals.list();
    engine.approvals.approve(item.id, { by: 'alice' });
    ctrl.abort();
    const err = await rejection(pending);
    expect(err.code).toBe('CALL_ABORTED');
    expect(consume).not.toHaveBeenCalled();
    expect(decisions.map((d) => d.decision)).toEqual(['consent-requested', 'aborted']);
    expect(decisions[1]).toMatchObject({ code: 'CALL_ABORTED', approvalId: item.id, by: 'alice' });
  });

  it('aborting after the check completed is a no-op', async () => {
    const { clock, engine, decisions, events } = setup();
    engine.register('mailer', policy);
    const withdraw = vi.spyOn(engine.approvals, 'withdraw');
    const ctrl = new AbortController();
    const pending = engine.check('mailer', send(), { signal: ctrl.signal });
    engine.approvals.approve(engine.approvals.list()[0].id, { by: 'alice' });
    await expect(pending).resolves.toMatchObject({ decision: 'consent-granted' });
    await expect(engine.check('mailer', tool('web.fetch'), { signal: ctrl.signal })).resolves.toMatchObject({ decision: 'allowed' });
    const [d, e, timers] = [decisions.length, events.length, clock.pending()];
    ctrl.abort();
    await Promise.resolve();
    expect(withdraw).not.toHaveBeenCalled();
    expect([decisions.length, events.length, clock.pending()]).toEqual([d, e, timers]);
  });

  it('a rejection or expiry is unaffected by an unaborted signal', async () => {
    const { clock, engine } = setup();
    engine.register('mailer', policy);
    const signal = new AbortController().signal;
    const rejected = engine.check('mailer', send(), { signal });
    engine.approvals.reject(engine.approvals.list()[0].id, { by: 'alice', reason: 'no' });
    expect((await rejection(rejected)).code).toBe('CONSENT_REJECTED');
    const expired = engine.check('mailer', send(), { signal });
    clock.advance(1_000);
    expect((await rejection(expired)).code).toBe('CONSENT_EXPIRED');
  });

  it('a request withdrawn through the queue refuses the check with CALL_ABORTED', async () => {
    const { engine, decisions } = setup();
    engine.register('mailer', policy);
    const pending = engine.check('mailer', send());
    engine.approvals.withdraw(engine.approvals.list()[0].id, { by: 'mailer', reason: 'shutting down' });
    expect((await rejection(pending)).code).toBe('CALL_ABORTED');
    expect(decisions.at(-1)).toMatchObject({ decision: 'consent-withdrawn', code: 'CALL_ABORTED' });
  });

  it('a signal that is not an AbortSignal is refused with INVALID_POLICY', async () => {
    const { engine, decisions } = setup();
    engine.register('mailer', policy);
    const err = await rejection(engine.check('mailer', tool('web.fetch'), { signal: { aborted: false } as AbortSignal }));
    expect(err.code).toBe('INVALID_POLICY');
    expect(decisions).toEqual([expect.objectContaining({ decision: 'denied', code: 'INVALID_POLICY' })]);
  });
});
