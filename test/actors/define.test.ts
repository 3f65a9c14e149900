// Definitions are checked when written, not at first spawn: each malformed
// field of defineAgent / defineTool is a typed error naming that field.
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineTool } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

const machine = setup({}).createMachine({});
const messages = z.discriminatedUnion('type', [z.object({ type: z.literal('ping') })]);

describe('defineAgent', () => {
  it.each([
    ['name', { name: '', machine, messages }],
    ['name', { name: 'has space', machine, messages }],
    ['machine', { name: 'a', machine: {}, messages }],
    ['messages', { name: 'a', machine, messages: { parse: () => 1 } }],
    ['version', { name: 'a', machine, messages, version: '' }],
  ])('refuses a bad %s with INVALID_AGENT naming it', (field, config) => {
    expect(() => defineAgent(config as never)).toThrow(expect.objectContaining({ code: 'INVALID_AGENT', field }));
  });

  it('knows the message types of a discriminated union', () => {
    expect([...(defineAgent({ name: 'a', machine, messages }).messageTypes ?? [])]).toEqual(['ping']);
  });
});

describe('defineTool', () => {
  const ok = { name: 'web.fetch', description: 'fetch', input: z.object({}), execute: () => 1 };
  it.each([
    ['name', { ...ok, name: 'Web Fetch' }],
    ['description', { ...ok, description: '' }],
    ['input', { ...ok, input: {} }],
    ['output', { ...ok, output: 'x' }],
    ['execute', { ...ok, execute: 'run' }],
  ])('refuses a bad %s with INVALID_TOOL naming it', (field, config) => {
    expect(() => defineTool(config as never)).toThrow(expect.objectContaining({ code: 'INVALID_TOOL', field }));
  });

  it('refuses registering a non-tool and a second tool of the same name, and the node keeps working', async () => {
    const t = tempDir();
    const node = await createNode({ name: 'tools', dataDir: t.dir });
    try {
      expect(() => node.tools.register({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_TOOL' }));
      node.tools.register(defineTool(ok));
      expect(() => node.tools.register(defineTool(ok))).toThrow(expect.objectContaining({ code: 'DUPLICATE_SYSCALL' }));
      expect(node.tools.list()).toEqual([{ name: 'web.fetch', description: 'fetch' }]);
    } finally {
      await node.stop();
      t.cleanup();
    }
  });

  it('node.startChild on an unknown supervisor is a typed error', async () => {
    const t = tempDir();
    const node = await createNode({ name: 'sc', dataDir: t.dir });
    try {
      await expect(node.startChild('nope')).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR', field: 'supervisorId' });
    } finally {
      await node.stop();
      t.cleanup();
    }
  });
});
