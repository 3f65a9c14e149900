// Mounted MCP tools as tool-registry entries, with their pins kept in LMDB:
// a node restarted on the same data re-mounts an unchanged server as it was
// (same versions and manifest hashes, so contract bindings still hold) and
// suspends a tool that changed while it was down; `approve` is checked against
// the node's RBAC and audited; calls get the registry's stats, redaction, dry
// runs and spans like any native tool.
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { open, type RootDatabase } from 'lmdb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '@opentelemetry/api';
import { createNode, SecretStore, ToolRegistry, type AgentOsNode } from '../../../src/index.js';
import { Rbac } from '../../../src/kernel/policy/index.js';
import { startSpan, type Telemetry } from '../../../src/kernel/trace.js';
import { mcpBindingEntries, mountMcpServer, type McpMount } from '../../../src/services/mcp/index.js';
import { LmdbApprovedTools } from '../../../src/services/tools/tool.js';
import { tempDir } from '../../support/tmp.js';
import { caller, callThrough, records, stdioFixture } from './support.js';

const SECRET = 'sk-live-0123456789abcdefXYZ';
const spans = new InMemorySpanExporter();
const telemetry: Telemetry = {
  tracer: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('t'),
  meter: metrics.getMeterProvider().getMeter('t'),
  enabled: true,
  time: () => undefined,
};
const rbac = () =>
  new Rbac({
    roles: { 'tool-admin': { permissions: ['approve-tool:files.*'] }, viewer: { permissions: ['approve:files.echo'] } },
    bindings: [
      { principal: 'alice', role: 'tool-admin', tenant: 'default' },
      { principal: 'alice', role: 'viewer', tenant: 'default' },
      { principal: 'mallory', role: 'viewer', tenant: 'default' },
    ],
  });

/** A node on `dir` whose tool registry keeps approvals in an LMDB environment beside it (what node.ts will pass: its own). */
interface Running {
  node: AgentOsNode;
  db: RootDatabase;
  tools: ToolRegistry;
  mount: McpMount;
  stop(): Promise<void>;
}

async function boot(dir: string, ...flags: string[]): Promise<Running> {
  const db = open({ path: join(dir, 'tools-lmdb') });
  const node = await createNode({ name: 'pins', dataDir: dir, capacity: { cpu: '2', mem: '1Gi' }, rbac: rbac(), registry: mcpBindingEntries(new LmdbApprovedTools(db)) });
  const tools = new ToolRegistry(node.kernel, { db, telemetry, secrets: new SecretStore({ 'svc.key': SECRET }) });
  const mount = await mountMcpServer({ kernel: node.kernel, tools }, { prefix: 'files', transport: stdioFixture(...flags) });
  return {
    node,
    db,
    tools,
    mount,
    stop: async () => {
      await mount.close();
      await tools.close();
      await node.stop();
      await db.close();
    },
  };
}

const fileManifests = (tools: ToolRegistry) => tools.manifests().filter((m) => m.name.startsWith('files.')).map((m) => [m.name, m.version, m.hash]);

let tmp: ReturnType<typeof tempDir>;
let run: Running | undefined;
beforeAll(() => {
  tmp = tempDir('agentos-mcp-pins-');
});
afterEach(async () => {
  await run?.stop();
  run = undefined;
});
afterAll(() => tmp.cleanup());

describe('MCP pins kept in the node’s LMDB', () => {
  let first: (string | undefined)[][];
  let pins: Record<string, string>;

  it('the first mount pins every tool on disk', async () => {
    run = await boot(tmp.dir);
    pins = run.mount.pins();
    first = fileManifests(run.tools);
    expect(first).toHaveLength(7);
    const kept = new LmdbApprovedTools(run.db).under('files');
    expect(kept.map((r) => [r.name, r.hash, r.version])).toEqual(Object.entries(pins).sort().map(([name, hash]) => [name, hash, '1']));
    expect(kept.find((r) => r.name === 'files.echo')?.definition).toMatchObject({ description: 'Echo the text back.' });
    expect(records(run.node).filter((r) => r.kind === 'mcp' && r.decision === 'mounted').at(-1)?.data.pins).toBe('first-use');
  });

  it('after a restart, the unchanged server mounts active with the same versions and manifest hashes', async () => {
    run = await boot(tmp.dir);
    expect(run.mount.tools().map((s) => s.state)).toEqual(Array(7).fill('active'));
    expect(run.mount.pins()).toEqual(pins);
    expect(fileManifests(run.tools)).toEqual(first);
    expect(records(run.node).filter((r) => r.kind === 'mcp' && r.decision === 'mounted').at(-1)?.data.pins).toBe('stored');
  });

  it('a tool changed while the node was down is suspended after the restart, the approved definition kept for review', async () => {
    run = await boot(tmp.dir, '--poisoned');
    const echo = run.mount.tool('files.echo')!;
    expect(echo).toMatchObject({ state: 'suspended', hash: pins['files.echo'], changed: ['description'], version: '1' });
    expect(echo.approved?.description).toBe('Echo the text back.');
    expect(echo.listed?.description).toContain('id_rsa');
    expect(run.mount.tool('files.read_file')?.state).toBe('active');
    // The registry still runs (and a binding can name) the approved version, suspended.
    expect(fileManifests(run.tools)).toEqual(first);
    await run.node.spawn(caller({ capabilities: ['files.*'] }), { id: 'agent' });
    expect((await callThrough(run.node, 'agent', 'files.echo', { text: 'x' })).error).toMatchObject({ code: 'MCP_TOOL_SUSPENDED', field: 'name' });
  });

  it('a contract bound to the version approved before the restart is refused once the changed definition is approved as the next version', async () => {
    run = await boot(tmp.dir, '--poisoned');
    await run.node.spawn(caller({ capabilities: ['files.*'], prefer: { echo: 'files.echo_v1' } }), { id: 'old' });
    await run.node.spawn(caller({ capabilities: ['files.*'] }), { id: 'new' });
    const listed = run.mount.tool('files.echo')!.listedHash!;
    const approved = run.mount.approve('files.echo', { by: 'alice', hash: listed });
    expect(approved).toMatchObject({ state: 'active', hash: listed, version: '2' });
    expect(run.tools.versions('files.echo').map((m) => m.version)).toEqual(['1', '2']);
    expect((await callThrough(run.node, 'new', 'files.echo', { text: 'hi' })).result).toEqual({ content: [{ type: 'text', text: 'echo: hi' }] });
    expect((await callThrough(run.node, 'old', 'files.echo', { text: 'hi' })).error).toMatchObject({ code: 'TOOL_VERSION_UNAVAILABLE', field: 'version' });
    const kept = new LmdbApprovedTools(run.db).get('files.echo')!;
    expect(kept).toMatchObject({ hash: listed, version: '2', by: 'alice', manifest: run.tools.manifest('files.echo')!.hash });
    pins = run.mount.pins();
  });

  it('the new pin survives the next restart; the server going back to the old definition is now the change', async () => {
    run = await boot(tmp.dir, '--poisoned');
    expect(run.mount.tool('files.echo')).toMatchObject({ state: 'active', hash: pins['files.echo'], version: '2' });
    await run.stop();
    run = await boot(tmp.dir);
    expect(run.mount.tool('files.echo')).toMatchObject({ state: 'suspended', changed: ['description'], version: '2' });
  });
});

describe('approving a mounted tool', () => {
  it('needs the permission approve-tool:<tool> (consent approvers are not enough); a refusal changes nothing and is audited', async () => {
    run = await boot(tmp.dir); // echo is suspended: the stored pin is the poisoned description
    await run.node.spawn(caller({ capabilities: ['files.*'] }), { id: 'agent' });
    const before = new LmdbApprovedTools(run.db).get('files.echo');
    const err = (() => {
      try {
        run!.mount.approve('files.echo', { by: 'mallory' });
      } catch (e) {
        return e as { code: string; field: string; message: string };
      }
    })();
    expect(err).toMatchObject({ code: 'APPROVER_NOT_AUTHORIZED', field: 'by' });
    expect(err!.message).toContain('approve-tool:files.echo');
    expect(() => run!.mount.approve('files.echo', { by: 'alice', roles: ['viewer'] })).toThrow(expect.objectContaining({ code: 'APPROVER_NOT_AUTHORIZED' }));
    expect(() => run!.mount.approve('files.echo', { by: '' })).toThrow(expect.objectContaining({ code: 'MCP_INVALID_OPTIONS', field: 'by' }));
    expect(run.mount.tool('files.echo')?.state).toBe('suspended');
    expect(new LmdbApprovedTools(run.db).get('files.echo')).toEqual(before);
    expect((await callThrough(run.node, 'agent', 'files.echo', { text: 'x' })).error?.code).toBe('MCP_TOOL_SUSPENDED');
    const refused = records(run.node).filter((r) => r.kind === 'mcp' && r.decision === 'approval-refused');
    expect(refused.map((r) => r.actor)).toEqual(['mallory', 'alice']);
    expect(refused[0]).toMatchObject({ subject: 'files.echo', tenant: 'default', data: { permission: 'approve-tool:files.echo' } });

    run.mount.approve('files.echo', { by: 'alice' });
    expect((await callThrough(run.node, 'agent', 'files.echo', { text: 'x' })).result).toBeDefined();
    const approved = records(run.node).filter((r) => r.kind === 'mcp' && r.decision === 'approved').at(-1); // the log outlives restarts
    expect(approved).toMatchObject({ actor: 'alice', subject: 'files.echo', hashes: { toolManifest: run.tools.manifest('files.echo')!.hash }, data: { version: '3' } });
  });
});

describe('mounted tools get what native tools get', () => {
  it('stats, redaction of results, dry runs, and an agentos.tool span naming the server', async () => {
    run = await boot(tmp.dir);
    const { tools, mount, node } = run;
    await node.spawn(caller({ capabilities: ['files.*'] }), { id: 'agent' });
    // Redaction: the server echoes a registered secret back; the caller never sees it.
    expect((await callThrough(node, 'agent', 'files.echo', { text: `key ${SECRET}` })).result).toEqual({ content: [{ type: 'text', text: 'echo: key [REDACTED:secret]' }] });
    expect((await callThrough(node, 'agent', 'files.read_file', { path: 7 })).error?.code).toBe('INVALID_TOOL_ARGS');
    expect(tools.stats().tools['files.echo']).toMatchObject({ calls: 1, invalidInputs: 0 });
    expect(tools.stats().tools['files.read_file']).toMatchObject({ calls: 1, invalidInputs: 1, passRate: 0 });
    expect(mount.stats()).toMatchObject({ calls: 2, invalidArgs: 1 });
    // Dry run: the server is not called.
    tools.setDryRun({ tools: ['files.echo'] });
    expect((await callThrough(node, 'agent', 'files.echo', { text: 'not sent' })).result).toMatchObject({ dryRun: true, tool: 'files.echo' });
    expect(tools.intended().at(-1)).toMatchObject({ tool: 'files.echo', args: { text: 'not sent' } });
    tools.setDryRun(false);
    // A span under the syscall's, with the manifest and the server.
    spans.reset();
    const entry = node.kernel.syscalls.resolve('tool', 'files.echo');
    const parent = startSpan(telemetry, 'agentos.syscall', undefined);
    await entry.handler(entry.validate!({ text: 'traced' }), { actor: 'agent', tenant: 'default', kernel: node.kernel, span: parent });
    parent.end();
    const span = spans.getFinishedSpans().find((s) => s.name === 'agentos.tool')!;
    expect(span.parentSpanContext?.spanId).toBe(parent.span.spanContext().spanId);
    expect(span.attributes).toMatchObject({
      'agentos.tool.name': 'files.echo',
      'agentos.tool.version': mount.tool('files.echo')!.version,
      'agentos.tool.hash': tools.manifest('files.echo')!.hash,
      'agentos.tool.sandbox': 'none',
      'agentos.tool.dry_run': false,
      'agentos.tool.redactions': 0,
      'agentos.mcp.server': mount.server,
      'agentos.mcp.tool': 'echo',
    });
  });
});
