// Simulation mode: a dry run passes the kernel's checks like any call, then runs
// the tool's `simulate` or only records the intended call (arguments redacted),
// per registry, per actor, per tool or per call.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNode, defineTool, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { SecretStore, ToolRegistry } from '../../../src/services/tools/tool.js';
import { counterAgent } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let charged: unknown[];
let tools: ToolRegistry;

const charge = () =>
  defineTool({
    name: 'pay.charge',
    description: 'charges a card',
    input: z.object({ amount: z.number().positive(), card: z.string() }),
    output: z.object({ receipt: z.string() }),
    execute: (args) => (charged.push(args), { receipt: 'r-1' }),
  });
const refund = () =>
  defineTool({
    name: 'pay.refund',
    description: 'refunds a charge',
    input: z.object({ receipt: z.string() }),
    output: z.object({ refunded: z.boolean() }),
    execute: () => (charged.push('refund'), { refunded: true }),
    simulate: ({ receipt }) => ({ refunded: receipt.startsWith('r-') }),
  });

beforeEach(async () => {
  tmp = tempDir();
  node = await createNode({ name: 'dry', dataDir: tmp.dir, clock: new VirtualClock(1000) });
  charged = [];
  tools = new ToolRegistry(node.kernel, { dryRun: true, secrets: new SecretStore({ card: '4111-1111-1111-1111' }) });
  tools.register(charge());
  tools.register(refund());
  await node.spawn(counterAgent('a', { capabilities: ['pay.*'] }), { id: 'a' });
  await node.spawn(counterAgent('b', { capabilities: ['pay.*'] }), { id: 'b' });
});

afterEach(async () => {
  await tools.close();
  await node.stop();
  tmp.cleanup();
});

describe('dry runs', () => {
  it('records the intended call of a tool without simulate, redacted, and runs nothing', async () => {
    const receipt = await tools.call('a', 'pay.charge', { amount: 5, card: '4111-1111-1111-1111' });
    expect(receipt).toEqual({ dryRun: true, tool: 'pay.charge', version: '1', recorded: 1 });
    expect(charged).toEqual([]);
    expect(tools.intended()).toEqual([
      {
        id: 1,
        tool: 'pay.charge',
        version: '1',
        hash: tools.manifest('pay.charge')!.hash,
        actor: 'a',
        tenant: 'default',
        args: { amount: 5, card: '[REDACTED:secret]' },
        at: 1000,
        simulated: false,
      },
    ]);
    expect(tools.stats().tools['pay.charge']).toMatchObject({ calls: 1, dryRuns: 1 });
  });

  it('answers with simulate when the tool has one, checked against the output schema', async () => {
    await expect(tools.call('a', 'pay.refund', { receipt: 'r-9' })).resolves.toEqual({ refunded: true });
    expect(charged).toEqual([]);
    expect(tools.intended()[0]).toMatchObject({ tool: 'pay.refund', simulated: true });
  });

  it('still refuses what policy or the schema refuses', async () => {
    await node.spawn(counterAgent('c', { capabilities: ['web.*'] }), { id: 'c' });
    await expect(tools.call('c', 'pay.charge', { amount: 5, card: 'x' })).rejects.toMatchObject({ code: 'CAPABILITY_DENIED' });
    await expect(tools.call('a', 'pay.charge', { amount: -5, card: 'x' })).rejects.toMatchObject({ code: 'INVALID_TOOL_ARGS' });
    expect(tools.intended()).toEqual([]);
  });

  it('is chosen per call, per actor and per tool', async () => {
    await expect(tools.call('a', 'pay.charge', { amount: 1, card: 'x' }, { dryRun: false })).resolves.toEqual({ receipt: 'r-1' });
    tools.setDryRun(false);
    await expect(tools.call('a', 'pay.charge', { amount: 2, card: 'x' }, { dryRun: true })).resolves.toMatchObject({ dryRun: true });
    await expect(tools.call('a', 'pay.charge', { amount: 3, card: 'x' })).resolves.toEqual({ receipt: 'r-1' });
    tools.setDryRun({ actors: ['b'] });
    await expect(tools.call('b', 'pay.charge', { amount: 4, card: 'x' })).resolves.toMatchObject({ dryRun: true });
    await expect(tools.call('a', 'pay.charge', { amount: 5, card: 'x' })).resolves.toEqual({ receipt: 'r-1' });
    tools.setDryRun({ tools: ['pay.charge'] });
    await expect(tools.call('a', 'pay.charge', { amount: 6, card: 'x' })).resolves.toMatchObject({ dryRun: true });
    await expect(tools.call('a', 'pay.refund', { receipt: 'r-1' })).resolves.toEqual({ refunded: true });
    expect(charged.map((c) => (typeof c === 'string' ? c : (c as { amount: number }).amount))).toEqual([1, 3, 5, 'refund']);
    expect(() => tools.setDryRun({ actors: 'b' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_TOOL', field: 'dryRun' }));
  });
});
