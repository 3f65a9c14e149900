// Mounting a real MCP server (the SDK's McpServer in a child process, over stdio)
// into a real node: its tools become kernel tools under a prefix, called by an
// agent through `syscall`, governed by the agent's contract like native tools.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountMcpServer, type McpMount } from '../../../src/services/mcp/index.js';
import { caller, callThrough, records, stdioFixture, testNode, until, type TestNode } from './support.js';

let t: TestNode;
let mount: McpMount;

beforeAll(async () => {
  t = await testNode('mcp-stdio', { timeoutMs: 60_000 });
  mount = await mountMcpServer(t.node, { prefix: 'files', transport: stdioFixture() });
  await t.node.spawn(caller({ capabilities: ['files.echo', 'files.read_file', 'files.fail', 'files.stats', 'files.slow'] }), { id: 'reader' });
  await t.node.spawn(caller({ capabilities: ['web.fetch'] }), { id: 'outsider' });
  await t.node.spawn(caller({ capabilities: ['files.*'], security: { consent_for: ['files.echo'] } }), { id: 'careful' });
});
afterAll(async () => {
  await mount?.close();
  await t?.stop();
});

const stats = async (): Promise<Record<string, number>> => {
  const r = await t.node.syscall('reader', { kind: 'tool', name: 'files.stats', args: {} });
  return JSON.parse((r as { content: { text: string }[] }).content[0]!.text) as Record<string, number>;
};

describe('mounting an MCP server over stdio', () => {
  it('registers each remote tool as <prefix>.<name>, mapping names to the registry pattern, all pinned and audited', () => {
    const tools = mount.tools();
    expect(tools.map((s) => [s.name, s.remote, s.state])).toEqual([
      ['files.echo', 'echo', 'active'],
      ['files.read_file', 'readFile', 'active'],
      ['files.fail', 'fail', 'active'],
      ['files.crash', 'crash', 'active'],
      ['files.slow', 'slow', 'active'],
      ['files.stats', 'stats', 'active'],
      ['files.control', 'control', 'active'],
    ]);
    for (const s of tools) expect(s.hash).toMatch(/^[0-9a-f]{64}$/);
    const kernelTools = t.node.kernel.syscalls.list().filter((s) => s.kind === 'tool').map((s) => s.name);
    expect(kernelTools).toEqual(expect.arrayContaining(tools.map((s) => s.name)));
    const mcp = records(t.node).filter((r) => r.kind === 'mcp');
    expect(mcp[0]).toMatchObject({ decision: 'mounted', subject: 'files', data: { prefix: 'files', active: 7 } });
    expect(mcp.filter((r) => r.decision === 'pinned').map((r) => [r.subject, r.hashes.tool])).toEqual(tools.map((s) => [s.name, s.hash]));
    expect(t.events.some((e) => e.type === '@agentos.mcp.mounted')).toBe(true);
  });

  it('an agent calls a mounted tool through syscall and gets the MCP result (content and structuredContent)', async () => {
    const echo = await callThrough(t.node, 'reader', 'files.echo', { text: 'hello' });
    expect(echo.error).toBeUndefined();
    expect(echo.result).toEqual({ content: [{ type: 'text', text: 'echo: hello' }] });
    const read = await callThrough(t.node, 'reader', 'files.read_file', { path: 'notes.txt' });
    expect(read.result).toEqual({ content: [{ type: 'text', text: 'contents of notes.txt' }], structuredContent: { path: 'notes.txt', size: 9 } });
    const allowed = records(t.node).filter((r) => r.kind === 'policy' && r.actor === 'reader' && r.decision === 'allowed').map((r) => r.subject);
    expect(allowed).toEqual(expect.arrayContaining(['files.echo', 'files.read_file']));
  });

  it('refuses a caller whose contract lacks the capability (CAPABILITY_DENIED, audited) and the server never sees the call', async () => {
    const before = await stats();
    const out = await callThrough(t.node, 'outsider', 'files.echo', { text: 'hi' });
    expect(out.error?.code).toBe('CAPABILITY_DENIED');
    expect(records(t.node).some((r) => r.kind === 'policy' && r.actor === 'outsider' && r.subject === 'files.echo' && r.decision === 'denied')).toBe(true);
    expect((await stats()).echo).toBe(before.echo);
  });

  it('a consent_for tool waits on node.approvals with the exact arguments, then runs once approved', async () => {
    const before = await stats();
    const ref = t.node.lookup('careful')!;
    ref.send({ type: 'call', tool: 'files.echo', args: { text: 'needs a human' } });
    await until(() => t.node.approvals.list().length === 1);
    const [pending] = t.node.approvals.list();
    expect(pending).toMatchObject({ capability: 'files.echo', actor: 'careful', args: { text: 'needs a human' } });
    expect((await stats()).echo).toBe(before.echo); // nothing reached the server while waiting
    t.node.approvals.approve(pending!.id, { by: 'alice' });
    await until(() => (ref.getSnapshot()?.context as { calls: number }).calls === 1);
    expect((ref.getSnapshot()?.context as { result: unknown }).result).toEqual({ content: [{ type: 'text', text: 'echo: needs a human' }] });
    expect(records(t.node).filter((r) => r.kind === 'consent' && r.actor === 'careful').map((r) => r.decision)).toEqual(['consent-requested', 'consent-granted']);
  });

  it('refuses malformed arguments against the pinned input schema before the server is called (or anyone asked to consent)', async () => {
    const before = await stats();
    const wrongType = await callThrough(t.node, 'reader', 'files.read_file', { path: 42 });
    expect(wrongType.error).toMatchObject({ code: 'INVALID_TOOL_ARGS' });
    expect(wrongType.error!.message).toContain('path');
    const missing = await callThrough(t.node, 'reader', 'files.read_file', {});
    expect(missing.error?.code).toBe('INVALID_TOOL_ARGS');
    const notAnObject = await callThrough(t.node, 'reader', 'files.echo', ['hello']);
    expect(notAnObject.error?.code).toBe('INVALID_TOOL_ARGS');
    const careful = t.node.lookup('careful')!;
    careful.send({ type: 'call', tool: 'files.echo', args: { text: 7 } });
    await until(() => (careful.getSnapshot()?.context as { calls: number }).calls === 2);
    expect((careful.getSnapshot()?.context as { error?: { code: string } }).error?.code).toBe('INVALID_TOOL_ARGS');
    expect(t.node.approvals.list()).toEqual([]);
    const after = await stats();
    expect([after.readFile, after.echo]).toEqual([before.readFile, before.echo]);
    expect(mount.stats().invalidArgs).toBeGreaterThanOrEqual(4);
  });

  it('a caller that gives up cancels the call on the server (notifications/cancelled) and gets CALL_ABORTED', async () => {
    const controller = new AbortController();
    const call = t.node.kernel.syscall('reader', { kind: 'tool', name: 'files.slow', args: {} }, controller.signal);
    const refused = call.catch((e: { code: string }) => e.code);
    let started = false;
    for (let i = 0; i < 200 && !started; i++) {
      started = ((await stats()).slow ?? 0) > 0;
      if (!started) await new Promise((r) => setTimeout(r, 10));
    }
    expect(started).toBe(true);
    controller.abort();
    expect(await refused).toBe('CALL_ABORTED');
    let cancelled = 0;
    for (let i = 0; i < 200 && cancelled === 0; i++) {
      cancelled = (await stats())['slow.cancelled'] ?? 0;
      if (cancelled === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(cancelled).toBe(1);
  });

  it('a tool that reports isError becomes MCP_TOOL_ERROR with its message', async () => {
    const out = await callThrough(t.node, 'reader', 'files.fail', {});
    expect(out.error).toMatchObject({ code: 'MCP_TOOL_ERROR' });
    expect(out.error!.message).toContain('disk on fire');
  });

  it('refuses a mount whose names do not fit in strict mode, naming the tool, and leaves nothing registered', async () => {
    const err = await mountMcpServer(t.node, { prefix: 'strict', names: 'strict', transport: stdioFixture() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MCP_INVALID_TOOL_NAME', field: 'tools.readFile' });
    expect(t.node.kernel.syscalls.list().filter((s) => s.name.startsWith('strict.'))).toEqual([]);
    await expect(mountMcpServer(t.node, { prefix: 'files', transport: stdioFixture() })).rejects.toMatchObject({ code: 'MCP_NAME_CONFLICT', field: 'prefix' });
    await expect(mountMcpServer(t.node, { prefix: 'files.sub', transport: stdioFixture() })).rejects.toMatchObject({ code: 'MCP_NAME_CONFLICT', field: 'prefix' });
    await expect(mountMcpServer(t.node, { prefix: 'Bad Prefix', transport: stdioFixture() })).rejects.toMatchObject({ code: 'MCP_INVALID_OPTIONS', field: 'prefix' });
  });
});

describe('tools that cannot be mounted', () => {
  it('two remote tools landing on one name fail the mount, or with onInvalid "skip" only the second is refused, saying why', async () => {
    const clash = { prefix: 'clash', transport: stdioFixture(), rename: { echo: 'stats' } };
    await expect(mountMcpServer(t.node, clash)).rejects.toMatchObject({ code: 'MCP_INVALID_TOOL_NAME', field: 'tools.stats' });
    const m = await mountMcpServer(t.node, { ...clash, onInvalid: 'skip' });
    try {
      expect(m.tool('clash.stats')).toMatchObject({ remote: 'echo', state: 'active' });
      expect(m.tool('stats')).toMatchObject({ state: 'refused', reason: expect.stringContaining('"echo" and "stats" would both be registered as "clash.stats"') });
      expect(records(t.node).some((r) => r.kind === 'mcp' && r.decision === 'refused' && r.subject === 'clash:stats')).toBe(true);
    } finally {
      await m.close();
    }
  });
});

describe('a server that dies', () => {
  it('a call in flight when the server process dies fails with MCP_UNAVAILABLE; the node keeps running; reconnect brings the tools back', async () => {
    const n = await testNode('mcp-crash');
    try {
      const m = await mountMcpServer(n.node, { prefix: 'files', transport: stdioFixture() });
      await n.node.spawn(caller({ capabilities: ['files.*', 'local.ping'] }), { id: 'a' });
      n.node.kernel.syscalls.register('tool', 'local.ping', () => 'pong');
      const crashed = await callThrough(n.node, 'a', 'files.crash', {});
      expect(crashed.error?.code).toBe('MCP_UNAVAILABLE');
      expect(m.status).toBe('unavailable');
      const after = await callThrough(n.node, 'a', 'files.echo', { text: 'anyone there?' });
      expect(after.error).toMatchObject({ code: 'MCP_UNAVAILABLE' });
      expect(await n.node.syscall('a', { kind: 'tool', name: 'local.ping' })).toBe('pong');
      expect(n.node.lookup('a')).toBeDefined();
      expect(records(n.node).some((r) => r.kind === 'mcp' && r.decision === 'unavailable')).toBe(true);
      expect(n.events.some((e) => e.type === '@agentos.mcp.unavailable')).toBe(true);
      const report = await m.reconnect();
      expect(report).toEqual({ added: [], suspended: [], restored: [], removed: [], refused: [] });
      expect((await callThrough(n.node, 'a', 'files.echo', { text: 'back' })).result).toEqual({ content: [{ type: 'text', text: 'echo: back' }] });
      await m.close();
      expect(n.node.kernel.syscalls.list().filter((s) => s.name.startsWith('files.'))).toEqual([]);
    } finally {
      await n.stop();
    }
  });

  it('a server command that does not exist fails the mount with MCP_UNAVAILABLE and registers nothing', async () => {
    const n = await testNode('mcp-missing');
    try {
      const err = await mountMcpServer(n.node, { prefix: 'gone', transport: { stdio: { command: '/nonexistent/mcp-server' } } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MCP_UNAVAILABLE' });
      expect(n.node.kernel.syscalls.list().filter((s) => s.kind === 'tool')).toEqual([]);
      // The prefix is free again.
      const m = await mountMcpServer(n.node, { prefix: 'gone', transport: stdioFixture() });
      await m.close();
    } finally {
      await n.stop();
    }
  });
});
