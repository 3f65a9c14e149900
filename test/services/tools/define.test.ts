// Tool definitions are checked when written: each malformed field of defineTool,
// defineJsonSchemaTool or registerAgent is INVALID_TOOL naming that field.
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJsonSchemaTool, defineTool } from '../../../src/services/tools/tool.js';
import { agentTool } from '../../../src/services/tools/agent-tool.js';

const ok = { name: 'web.fetch', description: 'fetch', input: z.object({ url: z.string() }), execute: () => 1 };

describe('defineTool', () => {
  it.each([
    ['risk', { ...ok, risk: 'extreme' }],
    ['version', { ...ok, version: 'latest' }],
    ['timeoutMs', { ...ok, timeoutMs: 0 }],
    ['simulate', { ...ok, simulate: 'yes' }],
    ['secrets', { ...ok, secrets: 'github.token' }],
    ['secrets[1]', { ...ok, secrets: ['a.b', 'a.b'] }],
    ['secrets[0]', { ...ok, secrets: ['has space'] }],
    ['sandbox', { ...ok, sandbox: 'vm' }],
    ['sandbox.module', { ...ok, sandbox: { module: './relative.js' } }],
    ['sandbox.module', { ...ok, sandbox: { module: new URL('https://example.org/tool.js') } }],
    ['sandbox.export', { ...ok, sandbox: { module: '/abs/tool.js', export: 'not-an-identifier' } }],
    ['sandbox.memoryMb', { ...ok, sandbox: { module: '/abs/tool.js', memoryMb: 0.5 } }],
  ])('refuses a bad %s with INVALID_TOOL naming it', (field, config) => {
    expect(() => defineTool(config as never)).toThrow(expect.objectContaining({ code: 'INVALID_TOOL', field }));
  });

  it('resolves a worker sandbox to a file URL with its limits', () => {
    const t = defineTool({ ...ok, sandbox: { module: '/srv/tools/fetch.js', export: 'fetchTool', memoryMb: 64 } });
    expect(t.sandbox).toEqual({ kind: 'worker', module: pathToFileURL('/srv/tools/fetch.js').href, export: 'fetchTool', memoryMb: 64, youngMb: undefined, stackMb: undefined });
    expect(defineTool(ok).sandbox).toBeUndefined();
    expect(defineTool({ ...ok, sandbox: 'none' }).sandbox).toBeUndefined();
    expect(defineTool({ ...ok, sandbox: 'worker' }).sandbox?.module).toBe(import.meta.url);
  });
});

describe('defineJsonSchemaTool', () => {
  const json = { name: 'gh.create_issue', description: 'creates an issue', inputSchema: { type: 'object' }, execute: () => 1 };
  it.each([
    ['inputSchema', { ...json, inputSchema: 'object' }],
    ['inputSchema', { ...json, inputSchema: [] }],
    ['outputSchema', { ...json, outputSchema: true }],
    ['name', { ...json, name: 'GitHub Create' }],
  ])('refuses a bad %s', (field, config) => {
    expect(() => defineJsonSchemaTool(config as never)).toThrow(expect.objectContaining({ code: 'INVALID_TOOL', field }));
  });

  it('is a tool definition the registry and createNode({ tools }) recognise', () => {
    expect(defineJsonSchemaTool(json)).toMatchObject({ kind: 'tool', schema: 'json-schema', name: 'gh.create_issue' });
  });
});

describe('registerAgent config', () => {
  it.each([
    ['agent', ''],
    ['callerField', 'a'],
    ['type', 'a'],
    ['timeoutMs', 'a'],
  ])('refuses a bad %s', (field, agent) => {
    const config = {
      name: 'agents.x',
      description: 'x',
      input: z.object({}),
      ...(field === 'callerField' ? { callerField: 'not a field' } : {}),
      ...(field === 'type' ? { type: '' } : {}),
      ...(field === 'timeoutMs' ? { timeoutMs: -1 } : {}),
    };
    expect(() => agentTool({} as never, agent, config)).toThrow(expect.objectContaining({ code: 'INVALID_TOOL', field }));
  });
});
