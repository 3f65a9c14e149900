// The same mount over Streamable HTTP: the fixture server runs as a child
// process listening on 127.0.0.1 (port 0), the node connects with the SDK's
// StreamableHTTPClientTransport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountMcpServer, type McpMount } from '../../../src/services/mcp/index.js';
import { caller, callThrough, httpFixture, records, testNode, until, type TestNode } from './support.js';

let t: TestNode;
let server: Awaited<ReturnType<typeof httpFixture>>;
let mount: McpMount;

beforeAll(async () => {
  server = await httpFixture();
  t = await testNode('mcp-http', { timeoutMs: 60_000 });
  mount = await mountMcpServer(t.node, { prefix: 'remote', transport: { http: { url: server.url } }, callTimeoutMs: 15_000 });
  await t.node.spawn(caller({ capabilities: ['remote.read_file', 'remote.echo'] }), { id: 'reader' });
  await t.node.spawn(caller({ capabilities: ['remote.read_file'] }), { id: 'narrow' });
  await t.node.spawn(caller({ capabilities: ['remote.*'], security: { consent_for: ['remote.read_file'] } }), { id: 'careful' });
});
afterAll(async () => {
  await mount?.close();
  await t?.stop();
  await server?.stop();
});

describe('mounting an MCP server over Streamable HTTP', () => {
  it('lists, pins and registers the remote tools; the audit names the endpoint without its query', () => {
    expect(mount.server).toBe(server.url);
    expect(mount.tools().filter((s) => s.state === 'active')).toHaveLength(7);
    expect(records(t.node).find((r) => r.kind === 'mcp' && r.decision === 'mounted')?.data.server).toBe(server.url);
  });

  it('an agent calls a mounted tool through syscall and gets its result', async () => {
    const out = await callThrough(t.node, 'reader', 'remote.read_file', { path: '/etc/motd' });
    expect(out.result).toEqual({ content: [{ type: 'text', text: 'contents of /etc/motd' }], structuredContent: { path: '/etc/motd', size: 9 } });
  });

  it('a tool outside the contract is CAPABILITY_DENIED', async () => {
    expect((await callThrough(t.node, 'narrow', 'remote.echo', { text: 'x' })).error?.code).toBe('CAPABILITY_DENIED');
  });

  it('consent_for puts the call behind node.approvals; a rejection means the server is never called', async () => {
    const ref = t.node.lookup('careful')!;
    ref.send({ type: 'call', tool: 'remote.read_file', args: { path: 'secret' } });
    await until(() => t.node.approvals.list().length === 1);
    t.node.approvals.reject(t.node.approvals.list()[0]!.id, { by: 'alice', reason: 'no' });
    await until(() => (ref.getSnapshot()?.context as { calls: number }).calls === 1);
    expect((ref.getSnapshot()?.context as { error?: { code: string } }).error?.code).toBe('CONSENT_REJECTED');
    const statsText = ((await t.node.syscall('careful', { kind: 'tool', name: 'remote.stats', args: {} })) as { content: { text: string }[] }).content[0]!.text;
    expect(JSON.parse(statsText).readFile).toBe(1); // only the reader's call above
  });

  it('malformed arguments are refused before any HTTP request', async () => {
    const out = await callThrough(t.node, 'reader', 'remote.read_file', { path: '' });
    expect(out.error).toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'path' });
  });

  it('when the server process dies in the middle of a call, the call fails with a typed error and the node keeps running', async () => {
    // The SDK's HTTP transport would wait out the call timeout (15 s here) for the stream to
    // resume; the stream error makes the mount ping, and a failed ping fails the call at once.
    const crashed = await callThrough(t.node, 'careful', 'remote.crash', {});
    expect(crashed.error).toMatchObject({ code: 'MCP_UNAVAILABLE', field: 'server' });
    await until(() => mount.status === 'unavailable');
    const out = await callThrough(t.node, 'reader', 'remote.echo', { text: 'still there?' });
    expect(out.error?.code).toBe('MCP_UNAVAILABLE');
    expect(t.node.lookup('reader')).toBeDefined();
    expect(await t.node.syscall('reader', { kind: 'tool', name: 'remote.echo', args: { text: 'x' } }).catch((e: { code: string }) => e.code)).toBe('MCP_UNAVAILABLE');
    await expect(mount.refresh()).rejects.toMatchObject({ code: 'MCP_UNAVAILABLE' });
    expect(records(t.node).some((r) => r.kind === 'mcp' && r.decision === 'unavailable')).toBe(true);
  });
});
