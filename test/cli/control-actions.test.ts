// The control routes that act on a node, in-process: a real node on a real
// LMDB, its endpoint on 127.0.0.1, requests over real sockets. send and ask
// are validated by the kernel; approvals go through the node's real queue
// (separation of duties, RBAC, expiry); audit answers the live, signed log.
import { afterEach, describe, expect, it } from 'vitest';
import { verifyTreeHead } from '../../src/kernel/audit/index.js';
import { readControlFile, startControlServer, type ApprovalsResponse, type AuditHeadResponse, type AuditVerifyResponse } from '../../src/node/control.js';
import { VirtualClock, createNode, type AgentOsNode } from '../../src/index.js';
import { until } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';
import { call } from './control-http.js';
import { counter, mailTool, mailer, nodeOptions } from './fixtures/serve-mailer.js';

let tmp: ReturnType<typeof tempDir> | undefined;
let node: AgentOsNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

/** A node with the counter and the mailer (mail.send needs alice's approval), serving its endpoint. */
async function start(clock?: VirtualClock) {
  tmp = tempDir('agentos-control-actions-');
  node = await createNode({ name: 'act', dataDir: tmp.dir, ...nodeOptions, tools: [mailTool()], ...(clock ? { clock } : {}) });
  await node.spawn(counter, { id: 'counter' });
  await node.spawn(mailer, { id: 'mailer' });
  const server = await startControlServer(node);
  const token = readControlFile(server.file)!.token;
  const get = (path: string) => call(server.port, path, { token });
  const post = (path: string, body: unknown) => call(server.port, path, { token, method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { node, get, post };
}

describe('control endpoint: send and ask', () => {
  it('send posts a message the kernel accepts (priority and deadline from the query); ask returns the reply', async () => {
    const { post } = await start();
    expect(await post('/v1/actors/counter/send?priority=7', { type: 'inc', by: 2 })).toMatchObject({ status: 200, body: { node: 'act', actor: 'counter', type: 'inc' } });
    expect((await post('/v1/actors/counter/send?deadlineMs=50', { type: 'inc', by: 3 })).status).toBe(200);
    expect(await post('/v1/actors/counter/ask?timeoutMs=2000', { type: 'get' })).toMatchObject({ status: 200, body: { node: 'act', actor: 'counter', reply: 5 } });
  });

  it.each([
    ['a body that is not JSON', 'counter', '', '{oops', 400, 'INVALID_JSON', 'body'],
    ['a message failing its schema', 'counter', '', { type: 'inc', by: 'x' }, 400, 'INVALID_MESSAGE', undefined],
    ['a message that is not an object', 'counter', '', 42, 400, 'INVALID_MESSAGE', 'message'],
    ['a type the actor does not take', 'counter', '', { type: 'dance' }, 400, 'UNKNOWN_MESSAGE_TYPE', undefined],
    ['an actor the node does not have', 'ghost', '', { type: 'inc', by: 1 }, 404, 'UNKNOWN_ACTOR', 'id'],
    ['a priority out of range', 'counter', '?priority=12', { type: 'inc', by: 1 }, 400, 'INVALID_OPTIONS', 'priority'],
    ['a priority that is not a number', 'counter', '?priority=high', { type: 'inc', by: 1 }, 400, 'CONTROL_BAD_REQUEST', 'priority'],
    ['an option send does not take', 'counter', '?timeoutMs=5', { type: 'inc', by: 1 }, 400, 'CONTROL_BAD_REQUEST', 'timeoutMs'],
  ])('send refuses %s with the kernel’s code, and nothing is delivered', async (_what, actor, query, body, status, code, field) => {
    const { post } = await start();
    const r = await post(`/v1/actors/${actor}/send${query}`, body);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    if (field !== undefined) expect(r.body.error.field).toBe(field);
    expect((await post('/v1/actors/counter/ask', { type: 'get' })).body.reply).toBe(0);
  });

  it('ask: no reply in time is a 504 ASK_TIMEOUT; a bad timeout is the kernel’s INVALID_OPTIONS; GET is a 405', async () => {
    const { post, get } = await start();
    const late = await post('/v1/actors/counter/ask?timeoutMs=30', { type: 'inc', by: 1 });
    expect(late.status).toBe(504);
    expect(late.body.error).toMatchObject({ code: 'ASK_TIMEOUT', message: 'ask "inc" to "counter" got no reply within 30 ms' });
    expect((await post('/v1/actors/counter/ask?timeoutMs=-1', { type: 'get' })).body.error).toMatchObject({ code: 'INVALID_OPTIONS', field: 'timeoutMs' });
    const wrong = await get('/v1/actors/counter/ask');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
  });
});

describe('control endpoint: approvals', () => {
  const mail = { type: 'mail', to: 'ops@example.org', body: 'password=hunter2hunter2' };

  async function pending(clock = new VirtualClock(1_000)) {
    const started = await start(clock);
    await started.post('/v1/actors/mailer/send', mail);
    await until(() => started.node.approvals.list().length === 1);
    const result = async () => (await started.post('/v1/actors/mailer/ask', { type: 'result' })).body.reply as { calls: number; result: any; error: string | null };
    return { ...started, clock, id: started.node.approvals.list()[0]!.id, result };
  }

  it('lists the pending request as node.approvals.list() shows it (redacted), by tenant; approve lets the call run once', async () => {
    const { get, post, node: n, id, result } = await pending();
    const listed = (await get('/v1/approvals')).body as ApprovalsResponse;
    expect(listed).toEqual(JSON.parse(JSON.stringify({ node: 'act', now: 1_000, approvals: n.approvals.list() })));
    expect(listed.approvals[0]).toMatchObject({ id, capability: 'mail.send', actor: 'mailer', tenant: 'default', args: { to: 'ops@example.org', body: 'password=[REDACTED:password]' } });
    expect((await get('/v1/approvals?tenant=default')).body.approvals).toHaveLength(1);
    expect((await get('/v1/approvals?tenant=acme')).body.approvals).toEqual([]);
    expect((await result()).calls).toBe(0);

    const granted = await post(`/v1/approvals/${id}/approve`, { by: 'alice', roles: ['approver'] });
    expect(granted).toMatchObject({ status: 200, body: { node: 'act', id, by: 'alice', expiresAt: expect.any(Number) } });
    await until(async () => (await result()).calls === 1);
    expect(await result()).toEqual({ calls: 1, result: { sent: true, n: 1 }, error: null });
    expect((await get('/v1/approvals')).body.approvals).toEqual([]);
  });

  it('the queue’s refusals keep their codes: separation of duties and RBAC 403, unknown 404, decided 409', async () => {
    const { post, id, result } = await pending();
    const refusals: Array<[unknown, number, string]> = [
      [{ by: 'mailer' }, 403, 'SOD_VIOLATION'],
      [{ by: 'bob' }, 403, 'APPROVER_NOT_AUTHORIZED'],
      [{ by: 'alice', roles: ['auditor'] }, 403, 'APPROVER_NOT_AUTHORIZED'],
    ];
    for (const [body, status, code] of refusals) {
      const r = await post(`/v1/approvals/${id}/approve`, body);
      expect([r.status, r.body.error.code]).toEqual([status, code]);
    }
    expect(await post('/v1/approvals/apr-nope/approve', { by: 'alice' })).toMatchObject({ status: 404, body: { error: { code: 'APPROVAL_NOT_FOUND', field: 'id' } } });
    expect(await post(`/v1/approvals/${id}/reject`, { by: 'alice', reason: 'wrong recipient' })).toMatchObject({ status: 200, body: { id, by: 'alice', reason: 'wrong recipient' } });
    await until(async () => (await result()).calls === 1);
    expect(await result()).toMatchObject({ calls: 1, error: 'CONSENT_REJECTED' });
    const again = await post(`/v1/approvals/${id}/approve`, { by: 'alice' });
    expect([again.status, again.body.error.code, again.body.error.message]).toEqual([409, 'APPROVAL_DECIDED', `Approval ${id} was already decided (rejected)`]);
  });

  it('an expired request can no longer be approved (409), and the call failed with CONSENT_EXPIRED', async () => {
    const { post, clock, id, result } = await pending();
    clock.advance(nodeOptions.consent.timeoutMs);
    await until(async () => (await result()).calls === 1);
    expect((await result()).error).toBe('CONSENT_EXPIRED');
    const r = await post(`/v1/approvals/${id}/approve`, { by: 'alice' });
    expect([r.status, r.body.error.code, r.body.error.message]).toEqual([409, 'APPROVAL_DECIDED', `Approval ${id} was already decided (expired)`]);
  });

  it.each([
    ['approve', [], 'body'],
    ['approve', {}, 'by'],
    ['approve', { by: '  ' }, 'by'],
    ['approve', { by: 'alice', roles: 'approver' }, 'roles'],
    ['approve', { by: 'alice', reason: 'x' }, 'reason'],
    ['reject', { by: 'alice' }, 'reason'],
    ['reject', { by: 'alice', reason: 7 }, 'reason'],
  ])('%s refuses the body %j naming the field "%s", and the request stays pending', async (verb, body, field) => {
    const { post, get } = await pending();
    const r = await post(`/v1/approvals/${(await get('/v1/approvals')).body.approvals[0].id}/${verb}`, body);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'CONTROL_BAD_REQUEST', field });
    expect((await get('/v1/approvals')).body.approvals).toHaveLength(1);
  });
});

describe('control endpoint: audit', () => {
  it('verify flushes and checks the whole log under a signed head; head is that head, and it verifies', async () => {
    const { get, node: n } = await start();
    const verified = (await get('/v1/audit/verify')).body as AuditVerifyResponse;
    const size = n.audit.size;
    expect(size).toBeGreaterThanOrEqual(2); // the two admissions at least
    expect(verified).toEqual({ node: 'act', result: { ok: true, size, signedSize: size }, rootHash: n.audit.head().rootHash });
    const { head } = (await get('/v1/audit/head')).body as AuditHeadResponse;
    expect(head).toMatchObject({ size, rootHash: verified.rootHash });
    expect(verifyTreeHead(head)).toBe(true);
    expect(verifyTreeHead({ ...head, size: size + 1 })).toBe(false);
  });
});
