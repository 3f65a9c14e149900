// The new entry points of durability and services refuse malformed input with a
// typed error naming the field, and change nothing: defineAgent's `persistent`,
// createNode's new options, checkpoint/discard/resolve on the wrong actor or key.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AgentOsError, createNode, defineAgent, type AgentOsNode } from '../../src/index.js';
import { counterAgent } from '../support/agents.js';
import { orderMachine, orderMessages } from '../support/durable-agents.js';
import { tempDir } from '../support/tmp.js';

const base = { name: 'bad', machine: orderMachine, messages: orderMessages };

describe('defineAgent persistent', () => {
  it.each([
    [{ persistent: 'yes' }, 'persistent'],
    [{ persistent: { checkpoint: 'sometimes' } }, 'persistent.checkpoint'],
    [{ persistent: { checkpoint: { everyMessages: 0 } } }, 'persistent.checkpoint'],
    [{ persistent: { durability: 'eventually' } }, 'persistent.durability'],
    [{ persistent: { restart: 'never' } }, 'persistent.restart'],
    [{ persistent: { retainTurns: -1 } }, 'persistent.retainTurns'],
    [{ persistent: { migrate: 'v2' } }, 'persistent.migrate'],
    [{ persistent: { snapshotEvery: 3 } }, 'persistent.snapshotEvery'],
  ])('%j is INVALID_AGENT naming %s', (extra, field) => {
    let err: unknown;
    try {
      defineAgent({ ...base, ...(extra as object) } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentOsError);
    expect(err).toMatchObject({ code: 'INVALID_AGENT', field });
  });
});

describe('createNode options for durability and services', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  it.each([
    [{ agents: 'orders' }, 'agents'],
    [{ agents: [{}] }, 'agents[0]'],
    [{ tools: [counterAgent()] }, 'tools[0]'],
    [{ modelGateway: 'ollama' }, 'modelGateway'],
    [{ secrets: 'hunter2' }, 'secrets'],
    [{ toolSandbox: { timeoutMs: -5 } }, 'toolSandbox.timeoutMs'],
    [{ toolSandbox: { threads: 2 } }, 'toolSandbox.threads'],
    [{ memory: 'on' }, 'memory'],
  ])('%j is INVALID_OPTIONS naming %s, and leaves the data dir free', async (extra, field) => {
    await expect(createNode({ name: 'opts', dataDir: tmp.dir, ...(extra as object) } as never)).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field });
    const ok = await createNode({ name: 'opts', dataDir: tmp.dir, memory: false });
    await ok.stop();
  });
});

describe('durability operations on the wrong target', () => {
  let node: AgentOsNode | undefined;
  const tmp = tempDir();
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });
  afterAll(tmp.cleanup);

  it('checkpoint of a non-persistent or unknown actor, discard of a running one, resolve of a key not in doubt: typed errors, nothing changed', async () => {
    node = await createNode({ name: 'ops', dataDir: tmp.dir });
    const plain = await node.spawn(counterAgent(), { id: 'plain' });
    await expect(plain.checkpoint()).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'id' });
    await expect(node.kernel.checkpointActor('nobody')).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR', field: 'id' });
    const orders = await node.spawn(defineAgent({ ...base, persistent: true }), { id: 'orders' });
    await expect(node.durability.discard('orders')).rejects.toMatchObject({ code: 'DUPLICATE_ACTOR', field: 'id' });
    await expect(node.durability.resolve('ik1/orders/t1/c0', { result: 1 }, 'ops')).rejects.toMatchObject({ code: 'EFFECT_NOT_IN_DOUBT', field: 'key' });
    await expect(node.durability.resolve('not-a-key', { result: 1 }, 'ops')).rejects.toMatchObject({ code: 'EFFECT_INVALID_KEY', field: 'key' });
    await expect(orders.post({ type: 'order', id: 'x', amount: 'ten' } as never)).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(await orders.ask({ type: 'get' })).toEqual({ charged: [], total: 0 });
    expect(node.durability.verify()).toMatchObject({ ok: true });
  });
});
