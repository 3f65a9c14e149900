// serveMcp: a node's tools offered to the SDK's real Client, over Streamable
// HTTP (in process, 127.0.0.1 port 0) and over stdio (the `agentos mcp serve`
// command in a child process). The client acts as one admitted actor: it lists
// and calls only what that actor's contract allows; the rest are MCP error results.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assign, createMachine, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineTool, reply } from '../../../src/index.js';
import { mountMcpServer, serveMcp, type McpMount, type McpServing } from '../../../src/services/mcp/index.js';
import { tempDir } from '../../support/tmp.js';
import { records, repoRoot, stdioFixture, testNode, until, type TestNode } from './support.js';

const CLI = new URL('./fixtures/cli.ts', import.meta.url).pathname;
const TOOLS = new URL('./fixtures/tools.ts', import.meta.url).pathname;

const principal = (contract: Record<string, unknown>) =>
  defineAgent({ name: 'principal', messages: z.object({ type: z.literal('noop') }), machine: createMachine({ id: 'principal' }), contract });

const summarizeMessages = z.object({ type: z.literal('summarize'), text: z.string() });
const summarizer = defineAgent({
  name: 'summarizer',
  messages: summarizeMessages,
  machine: setup({ types: { context: {} as { n: number }, events: {} as z.infer<typeof summarizeMessages> } }).createMachine({
    context: { n: 0 },
    on: { summarize: { actions: [assign({ n: ({ context }) => context.n + 1 }), reply(({ event }) => ({ summary: `${event.text.split(' ').slice(0, 2).join(' ')}…` }))] } },
  }),
});

const text = (r: unknown): string => ((r as { content: { type: string; text: string }[] }).content[0]!.text);

describe('serveMcp over Streamable HTTP', () => {
  let t: TestNode;
  let mount: McpMount;
  let serving: McpServing;
  let client: Client;
  const sent: unknown[] = [];

  beforeAll(async () => {
    t = await testNode('mcp-serve', { timeoutMs: 60_000 });
    t.node.tools.register(
      defineTool({
        name: 'mail.send',
        description: 'Send an email.',
        input: z.object({ to: z.string().email(), body: z.string() }),
        output: z.object({ sent: z.boolean() }),
        execute: (args) => {
          sent.push(args);
          return { sent: true };
        },
      }),
    );
    t.node.tools.register(defineTool({ name: 'db.drop', description: 'Drop the database.', input: z.object({}), execute: () => 'dropped' }));
    mount = await mountMcpServer(t.node, { prefix: 'files', transport: stdioFixture() });
    // An agent's service interface as a tool (the registry's registerAgent): served like any tool.
    await t.node.spawn(summarizer, { id: 'summarizer' });
    t.node.tools.registerAgent('summarizer', { name: 'agents.summarize', description: 'Summarize a text (an agent).', input: z.object({ text: z.string() }), output: z.object({ summary: z.string() }), type: 'summarize' });
    await t.node.spawn(principal({ capabilities: ['mail.send', 'files.echo', 'files.control', 'agents.summarize'], security: { consent_for: ['mail.send'] } }), { id: 'assistant' });
    serving = await serveMcp(t.node, { as: 'assistant', transport: { http: { port: 0, token: 's3cret' } } });
    client = new Client({ name: 'test-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(serving.url!), { requestInit: { headers: { authorization: 'Bearer s3cret' } } }));
  });
  afterAll(async () => {
    await client?.close();
    await serving?.close();
    await mount?.close();
    await t?.stop();
  });

  it('lists only the tools the principal may call, with JSON Schemas (mounted tools with their approved definitions)', async () => {
    expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name)).toEqual(['agents.summarize', 'files.control', 'files.echo', 'mail.send']);
    const mail = tools.find((x) => x.name === 'mail.send')!;
    expect(mail.description).toBe('Send an email.');
    expect(mail.inputSchema).toMatchObject({ type: 'object', properties: { to: { type: 'string', format: 'email' }, body: { type: 'string' } }, required: ['to', 'body'] });
    expect(mail.outputSchema).toMatchObject({ type: 'object', properties: { sent: { type: 'boolean' } } });
    expect(tools.find((x) => x.name === 'files.echo')).toMatchObject({ description: 'Echo the text back.', inputSchema: { properties: { text: { type: 'string' } } } });
  });

  it('an allowed call runs through the kernel as the principal (audited as it)', async () => {
    const r = await client.callTool({ name: 'files.echo', arguments: { text: 'via mcp' } });
    expect(r).toMatchObject({ content: [{ type: 'text', text: 'echo: via mcp' }] });
    expect(r.isError).toBeFalsy();
    expect(records(t.node).some((x) => x.kind === 'policy' && x.actor === 'assistant' && x.subject === 'files.echo' && x.decision === 'allowed')).toBe(true);
  });

  it('an agent registered as a tool is called by the MCP client like any tool (the agent answers)', async () => {
    const r = await client.callTool({ name: 'agents.summarize', arguments: { text: 'a long story about agents and tools' } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ summary: 'a long…' });
  });

  it('a tool outside the contract is refused with an MCP error result, and never runs', async () => {
    const r = await client.callTool({ name: 'db.drop', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^CAPABILITY_DENIED: /);
    expect(r._meta).toMatchObject({ 'agentos/error': { code: 'CAPABILITY_DENIED' } });
    const unknown = await client.callTool({ name: 'no.such.tool', arguments: {} });
    expect(text(unknown)).toMatch(/^CAPABILITY_DENIED: /); // a denied caller learns nothing about what exists
  });

  it('bad arguments come back as INVALID_TOOL_ARGS, naming the field', async () => {
    const r = await client.callTool({ name: 'files.echo', arguments: { text: 5 } });
    expect(r).toMatchObject({ isError: true, _meta: { 'agentos/error': { code: 'INVALID_TOOL_ARGS', field: 'text' } } });
  });

  it('a consent_for tool waits for node.approvals; the reason names the MCP client', async () => {
    const pending = client.callTool({ name: 'mail.send', arguments: { to: 'a@example.org', body: 'hi' } });
    await until(() => t.node.approvals.list().length === 1);
    const [approval] = t.node.approvals.list();
    expect(approval).toMatchObject({ actor: 'assistant', capability: 'mail.send', args: { to: 'a@example.org', body: 'hi' } });
    expect(JSON.stringify(approval)).toContain('MCP client \\"test-client\\"');
    expect(sent).toEqual([]);
    t.node.approvals.approve(approval!.id, { by: 'alice' });
    const r = await pending;
    expect(r).toMatchObject({ structuredContent: { sent: true } });
    expect(sent).toHaveLength(1);
  });

  it('tells clients when the tool list changes (a mounted tool suspended, a tool registered); a suspended tool is no longer offered', async () => {
    let notified = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void notified++);
    await client.callTool({ name: 'files.control', arguments: { action: 'describe' } });
    await until(() => mount.tool('files.echo')?.state === 'suspended');
    await until(() => notified > 0);
    const before = notified;
    t.node.tools.register(defineTool({ name: 'misc.noop', description: 'Nothing.', input: z.object({}), execute: () => null }));
    await until(() => notified > before);
    expect((await client.listTools()).tools.map((x) => x.name)).toEqual(['agents.summarize', 'files.control', 'mail.send']);
    const r = await client.callTool({ name: 'files.echo', arguments: { text: 'x' } });
    expect(text(r)).toMatch(/^MCP_TOOL_SUSPENDED: /);
  });

  it('answers malformed HTTP requests with JSON-RPC errors and the right status, and keeps serving', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(serving.url!, { method: 'POST', body, headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } });
    const notJson = await post('{nope');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
    expect((await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))).status).toBe(400); // no session, not an initialize
    expect((await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { 'mcp-session-id': 'no-such-session' })).status).toBe(404);
    expect((await post(JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }))).status).toBe(413);
    expect((await fetch(serving.url!.replace('/mcp', '/other'), { headers: { authorization: 'Bearer s3cret' } })).status).toBe(404);
    expect((await client.callTool({ name: 'files.control', arguments: { action: 'add' } })).isError).toBeFalsy();
  });

  it('refuses a request without the bearer token, and a principal that is not admitted', async () => {
    const stranger = new Client({ name: 'stranger', version: '1' });
    await expect(stranger.connect(new StreamableHTTPClientTransport(new URL(serving.url!)))).rejects.toThrow(/401|bearer/i);
    await expect(serveMcp(t.node, { as: 'nobody', transport: { http: {} } })).rejects.toMatchObject({ code: 'MCP_UNKNOWN_PRINCIPAL', field: 'as' });
    expect(serving.sessions()).toBe(1);
  });
});

describe('agentos mcp serve (the CLI command, in a child process)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('agentos-mcp-cli-');
  });
  afterAll(() => tmp?.cleanup());

  it('over stdio: an MCP client lists the allowed tools, calls one, and is refused the other; the node stops when the client leaves', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', CLI, 'mcp', 'serve', '--data-dir', tmp.dir, '--node', 'cli-stdio', '--tools', TOOLS, '--as', 'assistant', '--allow', 'notes.*'],
      cwd: repoRoot,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'stdio-client', version: '1' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((x) => x.name)).toEqual(['notes.add', 'notes.list']);
      expect(await client.callTool({ name: 'notes.add', arguments: { text: 'buy milk' } })).toMatchObject({ structuredContent: { count: 1 } });
      expect(await client.callTool({ name: 'notes.list', arguments: {} })).toMatchObject({ structuredContent: { notes: ['buy milk'] } });
      const refused = await client.callTool({ name: 'admin.wipe', arguments: {} });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/^CAPABILITY_DENIED: /);
    } finally {
      await client.close();
    }
    expect(stderr).toContain('serving MCP over stdio as "assistant"');
    await until(() => stderr.includes('node "cli-stdio" stopped'));
    // The node released its data dir: another one can start on it.
    const again = await openWhenFree(tmp.dir, 'cli-stdio');
    await again.stop();
  });

  it('over HTTP: prints the URL, serves, and stops cleanly on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const { createInterface } = await import('node:readline');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'mcp', 'serve', '--data-dir', tmp.dir, '--node', 'cli-http', '--tools', TOOLS, '--as', 'helper', '--allow', 'notes.list', '--http'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const url = /(http:\/\/\S+)/.exec(line)![1]!;
    const client = new Client({ name: 'http-client', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    expect((await client.listTools()).tools.map((x) => x.name)).toEqual(['notes.list']);
    expect(text(await client.callTool({ name: 'notes.add', arguments: { text: 'x' } }))).toMatch(/^CAPABILITY_DENIED: /);
    await client.close();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const again = await openWhenFree(tmp.dir, 'cli-http');
    await again.stop();
  });

  it('refuses to start without a principal it can act as (usage error, exit 2)', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'mcp', 'serve', '--data-dir', tmp.dir, '--node', 'cli-bad', '--as', 'ghost'], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no actor "ghost"');
    expect(r.stdout).toBe('');
  });
});

/** A node on the same dir and name: succeeds only once the CLI's node released its lock. */
async function openWhenFree(dir: string, name: string) {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await createNode({ name, dataDir: dir, capacity: { cpu: '1', mem: '256Mi' } });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw last;
}
