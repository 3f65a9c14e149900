// The inspector server on a real socket: the page's files with their content
// types and nothing outside the UI folder (traversal in every spelling, dot
// files, symlinks out); the token rules (loopback needs none, any other
// interface refuses to start without one, with one the page and the sockets
// need it); a foreign Origin or a rebound Host refused; hostile frames answered
// or closed with a code, never a crash.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/index.js';
import { InspectorHub } from '../../../src/services/inspector/hub.js';
import { InspectorServer } from '../../../src/services/inspector/server.js';
import type { InspectorSource } from '../../../src/services/inspector/source.js';
import { tempDir } from '../../support/tmp.js';
import { Client, wsUrl } from './support.js';

const SECRET = 'top-secret-file-content';
const TOKEN = 'a-token-of-32-characters-0123456';
const tmp = tempDir('agentos-inspector-ui-');
const ui = join(tmp.dir, 'ui');

beforeAll(() => {
  mkdirSync(join(ui, 'sub'), { recursive: true });
  writeFileSync(join(ui, 'index.html'), '<!doctype html><title>agentos inspector</title>');
  writeFileSync(join(ui, 'app.js'), 'export const app = 1;');
  writeFileSync(join(ui, 'style.css'), 'body { margin: 0 }');
  writeFileSync(join(ui, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(ui, 'sub', 'part.js'), 'export const part = 2;');
  writeFileSync(join(ui, '.env'), SECRET);
  writeFileSync(join(tmp.dir, 'secret.txt'), SECRET);
  symlinkSync(join(tmp.dir, 'secret.txt'), join(ui, 'link.txt'));
});
afterAll(() => tmp.cleanup());

let server: InspectorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A source whose trace never answers (to hold requests in flight). */
const slowSource = (): InspectorSource => ({
  node: 'n1',
  tree: () => ({ id: 'root', kind: 'supervisor', path: '', restarts: 0, status: 'running', children: [] }),
  rows: () => [],
  approvals: () => [],
  auditHead: () => ({ head: null, length: 0 }),
  members: () => [],
  machine: (id) => ({ actor: id, node: 'n1', state: 'idle', definition: null }),
  logFields: () => [],
  approve: () => ({}),
  reject: () => ({}),
  trace: () => new Promise(() => {}),
  verifyAudit: () => ({ ok: true, size: 0 }),
});

async function start(options: Partial<Parameters<typeof InspectorServer.start>[0]> = {}): Promise<InspectorServer> {
  const hub = new InspectorHub({ node: 'n1', clock: new VirtualClock(0) });
  hub.attach(slowSource());
  server = await InspectorServer.start({ hub, port: 0, uiRoot: ui, ...options });
  return server;
}

/** A raw GET (the path is sent exactly as given, not normalised by a URL parser). */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static files', () => {
  it('serves the page and its files with their content types, and the ELK bundle from the installed package', async () => {
    const s = await start();
    expect(await get(s.port, '/')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', body: expect.stringContaining('agentos inspector') });
    expect(await get(s.port, '/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await get(s.port, '/sub/part.js')).toMatchObject({ status: 200, body: 'export const part = 2;' });
    expect(await get(s.port, '/style.css')).toMatchObject({ status: 200, type: 'text/css; charset=utf-8' });
    expect(await get(s.port, '/icon.svg')).toMatchObject({ status: 200, type: 'image/svg+xml' });
    const elk = await get(s.port, '/vendor/elk.js');
    expect(elk).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(elk.body).toContain('ELK');
    expect(await get(s.port, '/missing.js')).toMatchObject({ status: 404 });
    expect(await get(s.port, '/', {}, 'POST')).toMatchObject({ status: 405 });
    const page = await get(s.port, '/');
    expect(page.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' });
  });

  it('never serves a file outside the UI folder: traversal in any spelling, dot files, NULs, backslashes, symlinks out', async () => {
    const s = await start();
    const attempts = [
      '/../secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2fsecret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/..%5csecret.txt',
      '/sub\\..\\..\\secret.txt',
      '/.env',
      '/%2eenv',
      '/app.js%00.html',
      '/%c0%ae%c0%ae/secret.txt',
      '/link.txt',
      '//etc/passwd',
      `/${'../'.repeat(12)}etc/passwd`,
    ];
    for (const path of attempts) {
      const r = await get(s.port, path);
      expect([400, 403, 404], `${path} → ${r.status}`).toContain(r.status);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain('root:');
    }
    // The server is still there.
    expect((await get(s.port, '/')).status).toBe(200);
  });
});

describe('binding and tokens', () => {
  it('refuses to listen beyond loopback without a token, naming the field', async () => {
    await expect(start({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'INSPECTOR_TOKEN_REQUIRED', field: 'token' });
    await expect(start({ host: '0.0.0.0', token: 'short' })).rejects.toMatchObject({ code: 'INSPECTOR_INVALID_OPTIONS', field: 'token' });
    await expect(start({ port: 70_000 })).rejects.toMatchObject({ code: 'INSPECTOR_INVALID_OPTIONS', field: 'port' });
  });

  it('with a token, the page needs it (query, then the cookie it sets, or a bearer header); the sockets too, compared in constant time', async () => {
    const s = await start({ host: '0.0.0.0', token: TOKEN });
    expect((await get(s.port, '/')).status).toBe(401);
    expect((await get(s.port, `/?token=${TOKEN.slice(0, -1)}x`)).status).toBe(401);
    const page = await get(s.port, `/?token=${TOKEN}`);
    expect(page.status).toBe(200);
    const cookie = String((page.headers['set-cookie'] as string[])[0]).split(';')[0]!;
    expect(page.headers['set-cookie']).toEqual([expect.stringContaining('HttpOnly; SameSite=Strict')]);
    expect((await get(s.port, '/app.js', { cookie })).status).toBe(200);
    expect((await get(s.port, '/app.js', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(s.port, '/app.js', { authorization: 'Bearer nope' })).status).toBe(401);

    const refused = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`));
    expect(await refused.waitClosed()).toMatchObject({ code: 4001 });
    expect(refused.frames).toEqual([]);
    const stately = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`, 'stately'));
    expect(await stately.waitClosed()).toMatchObject({ code: 4001 });
    const ok = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`, `ws?token=${TOKEN}`));
    expect(await ok.next((f) => f.t === 'hello')).toMatchObject({ version: 1, served: 'n1' });
    await ok.next((f) => f.t === 'snapshot');
    ok.close();
    const viaCookie = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`), { headers: { cookie } });
    await viaCookie.next((f) => f.t === 'hello');
    viaCookie.close();
  });

  it('on loopback without a token: no auth, but a foreign Origin or a DNS-rebound Host is refused', async () => {
    const s = await start();
    const base = `http://127.0.0.1:${s.port}/`;
    expect((await get(s.port, '/', { host: `evil.example:${s.port}` })).status).toBe(403);
    expect((await get(s.port, '/', { host: `localhost:${s.port}` })).status).toBe(200);
    await expect(Client.open(wsUrl(base), { headers: { origin: 'http://evil.example' } })).rejects.toThrow(/403/);
    await expect(Client.open(wsUrl(base, 'stately'), { headers: { origin: 'https://stately.ai' } })).rejects.toThrow(/403/);
    await expect(Client.open(wsUrl(base), { headers: { host: `evil.example:${s.port}` } })).rejects.toThrow(/403/);
    const same = await Client.open(wsUrl(base), { headers: { origin: `http://127.0.0.1:${s.port}` } });
    await same.next((f) => f.t === 'hello');
    same.close();
    await expect(Client.open(wsUrl(base, 'elsewhere'))).rejects.toThrow(/404/);
  });

  it('lets a named origin in (a hosted Stately inspector, if the operator allows it)', async () => {
    const s = await start({ allowOrigins: ['https://stately.ai'] });
    const c = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`, 'stately'), { headers: { origin: 'https://stately.ai' } });
    expect(c.closed).toBeUndefined();
    c.close();
  });
});

describe('hostile frames', () => {
  it('answers malformed requests with typed error replies and carries on; binary and oversize frames close the socket with a code', async () => {
    const s = await start({ maxPayload: 4096, maxInFlight: 2 });
    const c = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`));
    await c.next((f) => f.t === 'snapshot');
    const raw = async (text: string): Promise<unknown> => {
      const from = c.frames.length;
      c.ws.send(text);
      return c.next((f) => f.t === 'reply', 2000, from);
    };
    expect(await raw('not json')).toMatchObject({ id: 0, ok: false, error: { code: 'INSPECTOR_BAD_REQUEST' } });
    expect(await raw('[1,2,3]')).toMatchObject({ id: 0, ok: false, error: { code: 'INSPECTOR_BAD_REQUEST' } });
    expect(await raw('null')).toMatchObject({ id: 0, ok: false, error: { code: 'INSPECTOR_BAD_REQUEST' } });
    expect(await raw('{"id":"x","op":"machine"}')).toMatchObject({ id: 0, ok: false, error: { code: 'INSPECTOR_BAD_REQUEST' } });
    expect(await raw('{"id":7,"op":"rm -rf","node":"n1"}')).toMatchObject({ id: 7, ok: false, error: { code: 'INSPECTOR_UNKNOWN_OP' } });
    expect(await raw('{"id":8,"op":"machine","node":"n1"}')).toMatchObject({ id: 8, ok: false, error: { code: 'INSPECTOR_BAD_REQUEST', message: expect.stringContaining('actor') } });
    expect(await raw('{"id":9,"op":"events","node":"n1","actor":"a","limit":1e9}')).toMatchObject({ id: 9, ok: false, error: { message: expect.stringContaining('limit') } });
    expect(await raw(`{"id":10,"op":"machine","node":"n1","actor":"${'a'.repeat(1100)}"}`)).toMatchObject({ id: 10, ok: false });
    expect(await raw('{"id":11,"op":"machine","node":"elsewhere","actor":"a"}')).toMatchObject({ id: 11, ok: false, error: { code: 'INSPECTOR_UNKNOWN_NODE' } });
    expect(await raw('{"id":14,"op":"watch","node":"n1","actor":42}')).toMatchObject({ id: 14, ok: false, error: { code: 'INSPECTOR_BAD_REQUEST', field: 'actor' } });
    expect(await raw('{"id":15,"op":"unwatch","node":"n1"}')).toMatchObject({ id: 15, ok: false, error: { code: 'INSPECTOR_BAD_REQUEST', field: 'actor' } });
    expect(await raw('{"id":12,"op":"approve","node":"n1","approval":"apr-1"}')).toMatchObject({ id: 12, ok: false, error: { message: expect.stringContaining('by') } });
    expect(await raw('{"id":13,"__proto__":{"polluted":true},"op":"machine","node":"n1","actor":"a"}')).toMatchObject({ id: 13, ok: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A valid request still works on the same socket.
    expect(await c.request({ op: 'machine', node: 'n1', actor: 'a1' })).toMatchObject({ ok: true, result: { actor: 'a1', state: 'idle' } });
    // Requests in flight are bounded per page.
    c.ws.send(JSON.stringify({ id: 20, op: 'trace', node: 'n1', ref: 'a#1' }));
    c.ws.send(JSON.stringify({ id: 21, op: 'trace', node: 'n1', ref: 'a#2' }));
    expect(await raw(JSON.stringify({ id: 22, op: 'trace', node: 'n1', ref: 'a#3' }))).toMatchObject({ id: 22, ok: false, error: { code: 'INSPECTOR_BUSY' } });

    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await c.waitClosed()).toMatchObject({ code: 1003 });
    const big = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`));
    big.ws.send('x'.repeat(8192));
    expect(await big.waitClosed()).toMatchObject({ code: 1009 });
    // The server is unharmed.
    const after = await Client.open(wsUrl(`http://127.0.0.1:${s.port}/`));
    await after.next((f) => f.t === 'snapshot');
    after.close();
  });
});
