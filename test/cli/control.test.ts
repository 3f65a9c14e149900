// The control endpoint in-process: a real node on a real LMDB, a real HTTP
// server on 127.0.0.1, requests over real sockets. Auth, routing, query and
// body checks, the token file's lifecycle, and what `ps` reports.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentOsError, ErrorCodes } from '../../src/base/errors.js';
import { controlFilePath, readControlFile, startControlServer, type ControlServer, type PsResponse, type TreeResponse } from '../../src/node/control.js';
import { createNode, supervisor, type AgentOsNode } from '../../src/index.js';
import { guardAgent } from '../kernel/hrt/fixtures/guard.js';
import { counterAgent, until } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';
import { call } from './control-http.js';

let tmp: ReturnType<typeof tempDir> | undefined;
let node: AgentOsNode | undefined;
const servers: ControlServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await node?.stop();
  node = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

async function start(options: Parameters<typeof startControlServer>[1] = {}, nodeOptions: Partial<Parameters<typeof createNode>[0]> = {}) {
  tmp = tempDir('agentos-control-');
  node = await createNode({ name: 'ctl', dataDir: tmp.dir, capacity: { cpu: '2', mem: '1Gi' }, ...nodeOptions });
  const server = await startControlServer(node, options);
  servers.push(server);
  const token = readControlFile(server.file)!.token;
  return { node, server, token, get: (path: string, extra: Parameters<typeof call>[2] = {}) => call(server.port, path, { token, ...extra }) };
}

describe('control endpoint: the token file', () => {
  it('is control.json in the node directory, mode 0600, with the port, pid and a 256-bit token', async () => {
    const { server, node: n } = await start();
    expect(server.file).toBe(controlFilePath(n.dataDir, 'ctl'));
    expect(statSync(server.file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(server.file, 'utf8'))).toEqual({ version: 1, node: 'ctl', pid: process.pid, host: '127.0.0.1', port: server.port, token: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('is removed on close, and the port stops answering; close is idempotent', async () => {
    const { server, token } = await start();
    await server.close();
    await server.close();
    expect(existsSync(server.file)).toBe(false);
    await expect(call(server.port, '/v1/ps', { token })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('is removed when the node stops by itself, without a close', async () => {
    const { server, node: n } = await start();
    await n.stop();
    await until(() => !existsSync(server.file));
  });

  it('a second server for the node replaces the file; closing the first leaves the second one’s file', async () => {
    const { server: first, node: n } = await start();
    const second = await startControlServer(n);
    servers.push(second);
    const secondToken = readControlFile(second.file)!.token;
    await first.close();
    expect(readControlFile(second.file)).toMatchObject({ port: second.port, token: secondToken });
    expect((await call(second.port, '/v1/stats', { token: secondToken })).status).toBe(200);
  });

  it('refuses a host other than 127.0.0.1 and a bad port before listening', async () => {
    tmp = tempDir('agentos-control-');
    node = await createNode({ name: 'ctl', dataDir: tmp.dir });
    await expect(startControlServer(node, { host: '0.0.0.0' as '127.0.0.1' })).rejects.toMatchObject({ code: ErrorCodes.invalidOptions, field: 'host' });
    await expect(startControlServer(node, { port: 70_000 })).rejects.toMatchObject({ code: ErrorCodes.invalidOptions, field: 'port' });
    expect(existsSync(controlFilePath(tmp.dir, 'ctl'))).toBe(false);
  });

  it('listens on the loopback address only', async () => {
    const { server, token } = await start();
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    expect((await call(server.port, '/v1/stats', { token })).status).toBe(200);
    if (external) await expect(call(server.port, '/v1/stats', { token, host: external.address })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('control endpoint: requests it refuses', () => {
  it('401 without a token, with a wrong one (any length) or another scheme, and says where the token is', async () => {
    const { server, token } = await start();
    const wrong = `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`;
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${wrong}` }, { authorization: 'Bearer short' }, { authorization: `Basic ${token}` }];
    for (const headers of attempts) {
      const r = await call(server.port, '/v1/ps', { headers });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(r.body.error).toMatchObject({ code: 'CONTROL_UNAUTHORIZED', message: expect.stringContaining(server.file) });
    }
    // Unauthenticated, an unknown path is a 401 as well: nothing is learned without the token.
    expect((await call(server.port, '/v1/nope')).status).toBe(401);
  });

  it('403 for a browser request (an Origin header), even with the token', async () => {
    const { get } = await start();
    const r = await get('/v1/ps', { headers: { origin: 'http://evil.example' } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('CONTROL_FORBIDDEN');
  });

  it('404 for an unknown path, 405 with Allow for a wrong method', async () => {
    const { get } = await start();
    const missing = await get('/v1/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'CONTROL_NOT_FOUND', message: 'no endpoint /v1/nope', field: 'path' } });
    expect((await get('/ps')).status).toBe(404);
    const wrongMethod = await get('/v1/ps', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET');
    expect(wrongMethod.body.error).toMatchObject({ code: 'CONTROL_METHOD_NOT_ALLOWED', message: 'DELETE is not allowed on /v1/ps (allowed: GET)' });
  });

  it.each([
    ['/v1/ps?bogus=1', /unknown query parameter "bogus" for \/v1\/ps \(it accepts only system\)/],
    ['/v1/ps?system=maybe', /"system" must be 1, true, 0 or false/],
    ['/v1/ps?system=1&system=0', /"system" is given 2 times/],
    ['/v1/stats?system=1', /it accepts no query parameters/],
  ])('400 for a bad query: %s', async (path, message) => {
    const { get } = await start();
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'CONTROL_BAD_REQUEST', message: expect.stringMatching(message) });
  });

  it('caps request bodies (413), refuses one that is not JSON (400 INVALID_JSON), and hands a good one to the route', async () => {
    const echo = { method: 'POST' as const, path: '/v1/echo/:id', body: true, handle: ({ params, body }: { params: Record<string, string>; body: unknown }) => ({ id: params.id, body }) };
    const { get } = await start({ routes: [echo], maxBodyBytes: 1024 });
    const ok = await get('/v1/echo/a%20b', { method: 'POST', body: JSON.stringify({ x: 1 }) });
    expect(ok).toMatchObject({ status: 200, body: { id: 'a b', body: { x: 1 } } });
    const big = await get('/v1/echo/a', { method: 'POST', body: JSON.stringify({ x: 'y'.repeat(2000) }) });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'CONTROL_BODY_TOO_LARGE', message: 'request body over 1024 bytes' });
    // Streamed with no declared length: the server finds out while reading, and still answers 413.
    const chunked = await get('/v1/echo/a', { method: 'POST', chunks: Array.from({ length: 20 }, () => 'z'.repeat(500)) });
    expect(chunked.status).toBe(413);
    expect(chunked.headers.connection).toBe('close');
    const notJson = await get('/v1/echo/a', { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({ code: 'INVALID_JSON', field: 'body' });
    expect((await get('/v1/echo/a', { method: 'POST' })).body).toEqual({ error: { code: 'INVALID_JSON', message: 'expected a JSON body, got none', field: 'body' } });
  });

  it('a failing route answers an error and the node carries on: AgentOsError codes map to statuses, others are 500', async () => {
    const routes = [
      { method: 'GET' as const, path: '/v1/boom', handle: () => { throw new Error('kaboom'); } },
      { method: 'GET' as const, path: '/v1/missing', handle: () => { throw new AgentOsError(ErrorCodes.unknownActor, 'no actor "x"', { field: 'id' }); } },
      { method: 'GET' as const, path: '/v1/slow-boom', handle: async () => { await new Promise((r) => setTimeout(r, 1)); throw new Error('later'); } },
    ];
    const { get, node: n } = await start({ routes });
    expect(await get('/v1/boom')).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'kaboom' } } });
    expect(await get('/v1/missing')).toMatchObject({ status: 404, body: { error: { code: 'UNKNOWN_ACTOR', message: 'no actor "x"', field: 'id' } } });
    expect((await get('/v1/slow-boom')).status).toBe(500);
    const ref = await n.spawn(counterAgent(), { id: 'c' });
    ref.send({ type: 'inc', by: 2 });
    expect(await ref.ask({ type: 'get' })).toBe(2);
    expect((await get('/v1/stats')).body).toMatchObject({ node: 'ctl', actors: 1 });
  });
});

describe('control endpoint: ps, tree, stats', () => {
  it('ps has a row per actor with class, state, mailbox, wait p99, restarts and node; a crashed child shows restarts=1', async () => {
    const { get, node: n } = await start();
    await n.spawn(supervisor({ id: 'app', strategy: 'one_for_one', intensity: 3, periodMs: 5000, children: [{ id: 'c1', start: counterAgent() }, { id: 'c2', start: counterAgent() }] }), { id: 'app' });
    await n.spawn(counterAgent('solo', { class: { latency: 'DT' } }), { id: 'solo' });
    n.lookup('c1')!.send({ type: 'crash' });
    await until(() => n.tree().children![0]!.children![0]!.restarts === 1 && n.lookup('c1') !== undefined);
    n.lookup('c2')!.send({ type: 'inc', by: 1 });
    expect(await n.lookup('c2')!.ask({ type: 'get' })).toBe(1);
    const r = await get('/v1/ps');
    expect(r.status).toBe(200);
    const ps = r.body as PsResponse;
    expect(ps.node).toBe('ctl');
    expect(ps.actors.map((a) => [a.id, a.path, a.supervisor, a.agent, a.class, a.restarts, a.incarnation])).toEqual([
      ['c1', '/app/c1', '/app', 'counter', 'SRT', 1, 1],
      ['c2', '/app/c2', '/app', 'counter', 'SRT', 0, 0],
      ['solo', '/solo', '/', 'solo', 'DT', 0, 0],
    ]);
    for (const row of ps.actors) {
      expect(row).toMatchObject({ node: 'ctl', status: 'running', state: 'counting', mailbox: 0, tenant: 'default', system: false, lane: null });
      expect(row.waitP99Ms).toBeGreaterThanOrEqual(0);
    }
    expect(ps.actors[1]!.delivered).toBe(2);
  });

  it('ps?system=1 adds the kernel’s service actors, marked system', async () => {
    const { get } = await start();
    const rows = (await get('/v1/ps?system=1')).body.actors as PsResponse['actors'];
    expect(rows.map((r) => [r.id, r.system, r.state])).toEqual([
      ['agentos.tools', true, 'serving'],
      ['agentos.models', true, 'serving'],
      ['agentos.memory', true, 'serving'],
      ['agentos.blackboard', true, 'serving'],
    ]);
    expect((await get('/v1/ps?system=0')).body.actors).toEqual([]);
  });

  it('ps shows an HRT lane actor’s lane figures: its state on the lane, releases, misses, jitter, response, observed WCET', async () => {
    const { get, node: n } = await start({}, { hrt: { realtime: false, reportEveryMs: 20 } });
    await n.spawn(guardAgent, { id: 'guard', input: { limit: 2 } });
    let row: PsResponse['actors'][number] | undefined;
    await until(async () => {
      row = ((await get('/v1/ps')).body as PsResponse).actors[0];
      return (row?.lane?.releases ?? 0) >= 3 && (row?.lane?.completions ?? 0) > 0;
    });
    expect(row).toMatchObject({ id: 'guard', class: 'HRT', state: 'guarding', lane: { state: 'guarding', periodMs: 10, wcetMs: 1, queued: expect.any(Number) } });
    const lane = row!.lane!;
    for (const figure of [lane.misses, lane.jitterP99Ms, lane.jitterMaxMs, lane.responseP99Ms, lane.observedWcetMs]) expect(figure).toEqual(expect.any(Number));
    expect(lane.jitterMaxMs!).toBeGreaterThanOrEqual(lane.jitterP99Ms!);
    expect(row!.deadlineMisses).toBe(lane.misses);
  });

  it('tree returns the live supervision tree, and the system tree with ?system=1; stats the node’s counters', async () => {
    const { get, node: n } = await start();
    await n.spawn(counterAgent(), { id: 'c' });
    const tree = (await get('/v1/tree')).body as TreeResponse;
    expect(tree).toEqual(JSON.parse(JSON.stringify({ node: 'ctl', tree: n.tree() })));
    const withSystem = (await get('/v1/tree?system=true')).body as TreeResponse;
    expect(withSystem.system?.id).toBe('agentos.system');
    expect(withSystem.system?.children?.map((c) => c.id)).toEqual(['agentos.tools', 'agentos.models', 'agentos.memory', 'agentos.blackboard']);
    expect((await get('/v1/stats')).body).toMatchObject({ node: 'ctl', actors: 1, deadLetters: 0, scheduler: expect.any(Object) });
  });
});
