// The registry: manifests pinned by hash (a changed definition is a new version),
// pins, suspension, contract pinning through the binding, schema validation of
// zod and JSON-Schema tools before anything runs, and the schema pass rate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../../../src/base/canonical.js';
import { createNode, defineTool, VirtualClock, type AgentOsNode, type RuntimeContractView } from '../../../src/index.js';
import { compiledSchemaCount } from '../../../src/services/tools/schema.js';
import { defineJsonSchemaTool, toolRegistryEntries, type ToolChange } from '../../../src/services/tools/tool.js';
import { counterAgent, settle } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;

afterEach(async () => {
  await node?.stop();
  tmp?.cleanup();
});

async function start(options: Parameters<typeof createNode>[0] | object = {}): Promise<AgentOsNode> {
  tmp = tempDir();
  node = await createNode({ name: 'tools', dataDir: tmp.dir, clock: new VirtualClock(0), ...options });
  return node;
}

const spawnCaller = (id: string, contract: RuntimeContractView = { capabilities: ['kb.*', 'mail.*'] }) => node.spawn(counterAgent(id, contract), { id });
const failure = async (p: Promise<unknown>) => p.then(
  () => {
    throw new Error('expected the call to fail');
  },
  (err: unknown) => err as { code: string; field?: string; message: string },
);
const auditRecords = () => Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);

const lookup = (answer: string, description = 'looks a topic up') =>
  defineTool({
    name: 'kb.lookup',
    description,
    input: z.object({ topic: z.string().min(1) }),
    output: z.object({ answer: z.string() }),
    execute: ({ topic }) => ({ answer: `${answer}:${topic}` }),
  });

describe('manifests and versions', () => {
  beforeEach(() => start());

  it('seals a manifest: canonical JSON of the definition with JSON Schemas, hashed with SHA-256', () => {
    const m = node.tools.register(lookup('v1'));
    const { hash, ...body } = m;
    expect(hash).toBe(`sha256:${sha256Hex(canonicalJson(body))}`);
    expect(body).toEqual({
      name: 'kb.lookup',
      version: '1',
      description: 'looks a topic up',
      input: z.toJSONSchema(z.object({ topic: z.string().min(1) }), { target: 'draft-2020-12', io: 'input' }),
      output: z.toJSONSchema(z.object({ answer: z.string() }), { target: 'draft-2020-12', io: 'output' }),
      risk: 'low',
      sandbox: { kind: 'none', timeoutMs: null, memoryMb: null, youngMb: null, stackMb: null },
      idempotent: false,
      secrets: [],
    });
    expect(Object.isFrozen(m.input)).toBe(true);
    // The same definition always has the same hash.
    expect(toolRegistryEntries([lookup('other code, same promise')])[0]!.hash).toBe(hash);
  });

  it('gives a changed definition the next version and a new hash; an unchanged one keeps its version', async () => {
    const v1 = node.tools.register(lookup('v1'));
    const v2 = node.tools.replace(lookup('v2', 'looks a topic up, better'));
    expect([v1.version, v2.version]).toEqual(['1', '2']);
    expect(v2.hash).not.toBe(v1.hash);
    expect(node.tools.replace(lookup('v2 again', 'looks a topic up, better'))).toBe(v2);
    expect(node.tools.versions('kb.lookup').map((m) => m.version)).toEqual(['1', '2']);
    expect(node.tools.manifest('kb.lookup', '1')).toBe(v1);
    expect(node.tools.manifest('kb.lookup', v2.hash)).toBe(v2);
    expect(() => node.tools.replace(defineTool({ ...lookup('x'), description: 'changed', version: '2' }))).toThrow(
      expect.objectContaining({ code: 'TOOL_VERSION_CONFLICT', field: 'version' }),
    );
    await spawnCaller('a');
    await expect(node.tools.call('a', 'kb.lookup', { topic: 't' })).resolves.toEqual({ answer: 'v2:t' });
  });

  it('pins a version by hash for every caller without a binding, until unpinned', async () => {
    const v1 = node.tools.register(lookup('v1'));
    node.tools.replace(lookup('v2', 'newer'));
    await spawnCaller('a');
    node.tools.pin('kb.lookup', v1.hash);
    await expect(node.tools.call('a', 'kb.lookup', { topic: 't' })).resolves.toEqual({ answer: 'v1:t' });
    expect(node.tools.status('kb.lookup')).toMatchObject({ active: v1, pinned: v1.hash, suspended: undefined });
    node.tools.unpin('kb.lookup');
    await expect(node.tools.call('a', 'kb.lookup', { topic: 't' })).resolves.toEqual({ answer: 'v2:t' });
    expect(() => node.tools.pin('kb.lookup', 'sha256:00')).toThrow(expect.objectContaining({ code: 'UNKNOWN_TOOL_VERSION' }));
    await node.audit.flushed();
    expect(auditRecords().filter((r) => r.kind === 'tool').map((r) => r.decision)).toEqual(['versioned', 'pinned', 'unpinned']);
  });

  it('suspends a tool before anyone is asked to consent, until resumed', async () => {
    node.tools.register(lookup('v1'));
    await spawnCaller('a', { capabilities: ['kb.*'], security: { consent_for: ['kb.lookup'] } } as RuntimeContractView);
    node.tools.replace(lookup('v2', 'the server changed this description'), { suspend: 'description changed; re-approve' });
    expect(await failure(node.tools.call('a', 'kb.lookup', { topic: 't' }))).toMatchObject({ code: 'TOOL_SUSPENDED' });
    expect(node.approvals.list()).toEqual([]);
    node.tools.resume('kb.lookup');
    const pending = node.tools.call('a', 'kb.lookup', { topic: 't' });
    await settle();
    const [approval] = node.approvals.list();
    node.approvals.approve(approval!.id, { by: 'ops' });
    await expect(pending).resolves.toEqual({ answer: 'v2:t' });
  });

  it('tells listeners what changed', () => {
    const seen: ToolChange['type'][] = [];
    const off = node.tools.onChange((c) => seen.push(c.type));
    node.tools.register(lookup('v1'));
    node.tools.replace(lookup('v2', 'b'));
    node.tools.suspend('kb.lookup', 'why');
    node.tools.unregister('kb.lookup');
    off();
    node.tools.register(lookup('v1'));
    expect(seen).toEqual(['registered', 'replaced', 'suspended', 'unregistered']);
  });

  it('keeps the old surface: register refuses a taken name, list() gives name and description', () => {
    node.tools.register(lookup('v1'));
    expect(() => node.tools.register(lookup('v1'))).toThrow(expect.objectContaining({ code: 'DUPLICATE_SYSCALL' }));
    expect(node.tools.list()).toEqual([{ name: 'kb.lookup', description: 'looks a topic up' }]);
    expect(node.tools.get('kb.lookup')?.name).toBe('kb.lookup');
  });
});

describe('contracts pin tool versions through their binding', () => {
  it('runs the version a contract binds with `prefer`, sealed by hash at admission', async () => {
    const v1 = lookup('v1');
    const v2 = lookup('v2', 'newer');
    await start({ registry: toolRegistryEntries([v1, v2]) });
    node.tools.register(v1);
    node.tools.replace(v2);
    expect(node.tools.bindingEntries()).toEqual(toolRegistryEntries([v1, v2]));
    await spawnCaller('old', { capabilities: ['kb.*'], prefer: { kb: 'kb.lookup_v1' } } as RuntimeContractView);
    await spawnCaller('new');
    await expect(node.tools.call('old', 'kb.lookup', { topic: 't' })).resolves.toEqual({ answer: 'v1:t' });
    await expect(node.tools.call('new', 'kb.lookup', { topic: 't' })).resolves.toEqual({ answer: 'v2:t' });
    const sealed = auditRecords().find((r) => r.kind === 'binding' && r.actor === 'old');
    expect(sealed?.data.selections).toEqual(['kb=kb.lookup@1']);
  });

  it('refuses a caller bound to a version this registry does not have (TOOL_VERSION_UNAVAILABLE)', async () => {
    const v1 = lookup('v1');
    await start({ registry: toolRegistryEntries([v1]) });
    node.tools.register(lookup('something else', 'not the version the contract was bound to'));
    await spawnCaller('old', { capabilities: ['kb.*'], prefer: { kb: 'kb.lookup_v1' } } as RuntimeContractView);
    expect(await failure(node.tools.call('old', 'kb.lookup', { topic: 't' }))).toMatchObject({ code: 'TOOL_VERSION_UNAVAILABLE', field: 'prefer.kb' });
  });
});

describe('validation and the schema pass rate', () => {
  beforeEach(() => start());

  it('refuses arguments that fail the schema before the tool runs, counts them, and reports the pass rate', async () => {
    let ran = 0;
    node.tools.register(
      defineTool({
        name: 'mail.send',
        description: 'sends mail',
        input: z.object({ to: z.email(), body: z.string() }),
        output: z.object({ id: z.string() }),
        execute: ({ to }) => (ran++, to === 'bad@example.org' ? ({ id: 7 } as never) : { id: 'm1' }),
      }),
    );
    await spawnCaller('a');
    for (let i = 0; i < 7; i++) await node.tools.call('a', 'mail.send', { to: 'a@example.org', body: 'hi' });
    expect(await failure(node.tools.call('a', 'mail.send', { to: 'nope', body: 'hi' }))).toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'to' });
    expect(await failure(node.tools.call('a', 'mail.send', { to: 'a@example.org' }))).toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'body' });
    expect(await failure(node.tools.call('a', 'mail.send', { to: 'bad@example.org', body: 'x' }))).toMatchObject({ code: 'INVALID_TOOL_OUTPUT', field: 'id' });
    expect(ran).toBe(8);
    const stats = node.tools.stats();
    expect(stats.tools['mail.send']).toMatchObject({ calls: 10, invalidInputs: 2, invalidOutputs: 1, passRate: 0.7 });
    expect(stats).toMatchObject({ calls: 10, invalidInputs: 2, invalidOutputs: 1, passRate: 0.7 });
  });

  it('does not count calls a policy refused (they never reach the schema)', async () => {
    node.tools.register(lookup('v1'));
    await spawnCaller('nobody', { capabilities: ['web.fetch'] });
    expect(await failure(node.tools.call('nobody', 'kb.lookup', { topic: 1 }))).toMatchObject({ code: 'CAPABILITY_DENIED' });
    expect(node.tools.stats()).toMatchObject({ calls: 0, passRate: null });
  });

  it('validates JSON-Schema-only tools with ajv, compiling each schema once', async () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { issue: { $ref: '#/definitions/issue' }, notify: { type: 'string', format: 'email' } },
      required: ['issue'],
      additionalProperties: false,
      definitions: { issue: { type: 'object', properties: { title: { type: 'string', minLength: 1 } }, required: ['title'] } },
    };
    const before = compiledSchemaCount();
    const calls: unknown[] = [];
    node.tools.registerJsonSchemaTool({
      name: 'kb.file_issue',
      description: 'files an issue (imported)',
      inputSchema: schema,
      outputSchema: { type: 'object', properties: { number: { type: 'integer' } }, required: ['number'] },
      execute: (args) => (calls.push(args), { number: calls.length }),
    });
    node.tools.register(defineJsonSchemaTool({ name: 'kb.file_issue2', description: 'the same schema', inputSchema: structuredClone(schema), execute: () => 'ok' }));
    expect(compiledSchemaCount() - before).toBe(2); // the shared input schema once, the output schema once
    await spawnCaller('a');
    await expect(node.tools.call('a', 'kb.file_issue', { issue: { title: 'broken' } })).resolves.toEqual({ number: 1 });
    expect(await failure(node.tools.call('a', 'kb.file_issue', { issue: { title: '' } }))).toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'issue.title' });
    expect(await failure(node.tools.call('a', 'kb.file_issue', { issue: { title: 'x' }, extra: 1 }))).toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'extra' });
    expect(await failure(node.tools.call('a', 'kb.file_issue', { issue: { title: 'x' }, notify: 'not-mail' }))).toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'notify' });
    expect(await failure(node.tools.call('a', 'kb.file_issue', {}))).toMatchObject({ code: 'INVALID_TOOL_ARGS', field: 'issue' });
    expect(calls).toHaveLength(1);
    expect(node.tools.manifest('kb.file_issue')?.input).toEqual(schema);
    expect(node.tools.stats().tools['kb.file_issue']).toMatchObject({ calls: 5, invalidInputs: 4 });
  });

  it('refuses a JSON Schema ajv cannot compile when the tool is registered', () => {
    expect(() => node.tools.registerJsonSchemaTool({ name: 'kb.bad', description: 'x', inputSchema: { type: 'objekt' }, execute: () => 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL', field: 'inputSchema' }),
    );
    expect(node.tools.has('kb.bad')).toBe(false);
  });
});
