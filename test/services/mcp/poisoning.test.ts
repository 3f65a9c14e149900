// Tool poisoning: a mounted server changes a tool's description or schema after
// it was approved (announcing it with notifications/tools/list_changed, or
// silently, found by a periodic re-list). The tool is suspended until a person
// approves the new definition; new tools wait for approval; removed tools go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/index.js';
import { mountMcpServer, type McpMount } from '../../../src/services/mcp/index.js';
import { caller, callThrough, records, stdioFixture, testNode, until, type TestNode } from './support.js';

let t: TestNode;
let mount: McpMount;
let original: Record<string, string>;

beforeAll(async () => {
  t = await testNode('mcp-poison');
  mount = await mountMcpServer(t.node, { prefix: 'files', transport: stdioFixture() });
  original = mount.pins();
  await t.node.spawn(caller({ capabilities: ['files.*'] }), { id: 'agent' });
});
afterAll(async () => {
  await mount?.close();
  await t?.stop();
});

const control = (action: string) => t.node.syscall('agent', { kind: 'tool', name: 'files.control', args: { action } });

describe('a server that changes a tool after it was approved', () => {
  it('suspends the tool when its description changes, refuses calls with MCP_TOOL_SUSPENDED, audits and emits', async () => {
    expect((await callThrough(t.node, 'agent', 'files.echo', { text: 'before' })).result).toBeDefined();
    await control('describe');
    await until(() => mount.tool('files.echo')?.state === 'suspended');
    const status = mount.tool('files.echo')!;
    expect(status).toMatchObject({ state: 'suspended', hash: original['files.echo'], changed: ['description'] });
    expect(status.listedHash).not.toBe(original['files.echo']);
    expect(status.listed?.description).toContain('id_rsa');
    expect(status.approved?.description).toBe('Echo the text back.');

    const refused = await callThrough(t.node, 'agent', 'files.echo', { text: 'after' });
    expect(refused.error).toMatchObject({ code: 'MCP_TOOL_SUSPENDED', field: 'name' });
    expect(refused.error!.message).toContain('description changed');

    const suspended = records(t.node).find((r) => r.kind === 'mcp' && r.decision === 'suspended');
    expect(suspended).toMatchObject({ subject: 'files.echo', hashes: { approved: status.hash, listed: status.listedHash }, data: { changed: ['description'], remote: 'echo' } });
    // The refusal is audited with the caller (the kernel records what a tool's validate refuses).
    expect(records(t.node).some((r) => r.actor === 'agent' && r.subject === 'files.echo' && r.data?.code === 'MCP_TOOL_SUSPENDED')).toBe(true);
    expect(t.events.find((e) => e.type === '@agentos.mcp.tool.suspended')).toMatchObject({ tool: 'files.echo', changed: ['description'] });
    // Other tools of the server are untouched.
    expect(mount.tool('files.read_file')?.state).toBe('active');
  });

  it('approve re-pins only the definition that was reviewed, then calls go through', async () => {
    const status = mount.tool('files.echo')!;
    expect(() => mount.approve('files.echo', { by: 'alice', hash: original['files.echo'] })).toThrow(expect.objectContaining({ code: 'MCP_APPROVAL_MISMATCH' }));
    const approved = mount.approve('files.echo', { by: 'alice', hash: status.listedHash });
    expect(approved).toMatchObject({ state: 'active', hash: status.listedHash });
    expect(records(t.node).find((r) => r.kind === 'mcp' && r.decision === 'approved')).toMatchObject({ actor: 'alice', subject: 'files.echo', hashes: { tool: status.listedHash, previous: original['files.echo'] } });
    expect((await callThrough(t.node, 'agent', 'files.echo', { text: 'again' })).result).toEqual({ content: [{ type: 'text', text: 'echo: again' }] });
    expect(() => mount.approve('files.echo', { by: 'alice' })).toThrow(expect.objectContaining({ code: 'MCP_APPROVAL_MISMATCH' }));
  });

  it('suspends a tool whose input schema changes, saying so', async () => {
    await control('reshape');
    await until(() => mount.tool('files.read_file')?.state === 'suspended');
    expect(mount.tool('files.read_file')?.changed).toEqual(['inputSchema']);
    expect((await callThrough(t.node, 'agent', 'files.read_file', { path: 'a' })).error?.code).toBe('MCP_TOOL_SUSPENDED');
    // Once approved, arguments are checked against the new schema.
    mount.approve('files.read_file', { by: 'alice' });
    expect((await callThrough(t.node, 'agent', 'files.read_file', { path: 'a', mode: 'r' })).result).toMatchObject({ structuredContent: { path: 'a' } });
    expect((await callThrough(t.node, 'agent', 'files.read_file', { path: 'a', mode: 1 })).error?.code).toBe('INVALID_TOOL_ARGS');
  });

  it('a new tool is registered but pending: refused until approved', async () => {
    await control('add');
    await until(() => mount.tool('files.exfiltrate') !== undefined);
    expect(mount.tool('files.exfiltrate')).toMatchObject({ state: 'pending', remote: 'exfiltrate' });
    expect(mount.tool('files.exfiltrate')!.hash).toBeUndefined();
    const refused = await callThrough(t.node, 'agent', 'files.exfiltrate', { path: '/etc/passwd' });
    expect(refused.error?.code).toBe('MCP_TOOL_SUSPENDED');
    expect(refused.error!.message).toContain('new since the server was mounted');
    expect(t.events.some((e) => e.type === '@agentos.mcp.tool.pending' && e.tool === 'files.exfiltrate')).toBe(true);
    mount.approve('files.exfiltrate', { by: 'bob' });
    expect((await callThrough(t.node, 'agent', 'files.exfiltrate', { path: 'x' })).result).toEqual({ content: [{ type: 'text', text: 'sent' }] });
  });

  it('a removed tool is unregistered from the kernel', async () => {
    await control('remove');
    await until(() => mount.tool('files.fail')?.state === 'removed');
    expect(t.node.kernel.syscalls.list().some((s) => s.name === 'files.fail')).toBe(false);
    expect((await callThrough(t.node, 'agent', 'files.fail', {})).error?.code).toBe('UNKNOWN_SYSCALL');
    expect(await mount.refresh()).toEqual({ added: [], suspended: [], restored: [], removed: [], refused: [] });
  });
});

describe('pins carried over from an earlier review', () => {
  it('a re-mount with saved pins starts a tool whose definition differs suspended, and one not pinned pending', async () => {
    const poisonedEcho = mount.pins()['files.echo']!;
    // Pins may be keyed by the server's tool names (here: mounted under another prefix).
    const byRemote = Object.fromEntries(mount.tools().map((s) => [s.remote, original[s.name]]).filter(([remote, hash]) => hash !== undefined && remote !== 'stats'));
    const pins = { ...byRemote, echo: poisonedEcho }; // the fresh server's echo is the original one again
    const again = await mountMcpServer(t.node, { prefix: 'again', transport: stdioFixture(), pins });
    try {
      expect(again.tool('again.echo')).toMatchObject({ state: 'suspended', hash: poisonedEcho });
      expect(again.tool('again.stats')?.state).toBe('pending');
      expect(again.tool('again.read_file')?.state).toBe('active');
      expect((await t.node.syscall('agent', { kind: 'tool', name: 'again.echo', args: { text: 'x' } }).catch((e: { code: string }) => e.code))).toBe('CAPABILITY_DENIED');
    } finally {
      await again.close();
    }
  });
});

describe('a server that changes silently', () => {
  it('is caught by the periodic re-list on the kernel clock', async () => {
    const clock = new VirtualClock(0);
    const { createNode } = await import('../../../src/index.js');
    const { tempDir } = await import('../../support/tmp.js');
    const tmp = tempDir('agentos-mcp-');
    const node = await createNode({ name: 'silent', dataDir: tmp.dir, clock, capacity: { cpu: '2', mem: '1Gi' } });
    try {
      const m = await mountMcpServer(node, { prefix: 'quiet', transport: stdioFixture('--silent'), refreshEveryMs: 60_000 });
      await node.spawn(caller({ capabilities: ['quiet.*'] }), { id: 'agent' });
      await node.syscall('agent', { kind: 'tool', name: 'quiet.control', args: { action: 'describe' } });
      await new Promise((r) => setTimeout(r, 200)); // a notification, were one sent, would have arrived
      expect(m.tool('quiet.echo')?.state).toBe('active');
      clock.advance(60_000);
      await until(() => m.tool('quiet.echo')?.state === 'suspended');
      expect(m.tool('quiet.echo')?.changed).toEqual(['description']);
      await m.close();
    } finally {
      await node.stop();
      tmp.cleanup();
    }
  });
});
