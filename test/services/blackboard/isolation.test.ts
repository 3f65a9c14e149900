// Tenants and restarts: a tenant's board is its own (same topic names, own
// versions; a reader in another tenant never sees it, in memory or in LMDB),
// and a node started again on the same data finds every entry and version.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlackboardCodes, blackboard } from '../../../src/services/blackboard/index.js';
import { createNode, defineAgent, VirtualClock } from '../../../src/index.js';
import { tempDir } from '../../support/tmp.js';
import { boardNode, client, ctx, until } from './support.js';
import { setup, assign } from 'xstate';
import { z } from 'zod';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const RW = ['blackboard.read', 'blackboard.write'];

describe('tenants', () => {
  it('each tenant has its own topics and versions; another tenant never sees them', async () => {
    const b = await boardNode(tmp.dir);
    try {
      await b.node.spawn(client(RW), { id: 'a1', tenant: 'acme' });
      await b.node.spawn(client(RW), { id: 'g1', tenant: 'globex' });
      b.node.lookup('a1')!.send({ type: 'do', request: { op: 'post', topic: 'plan', value: 'acme plan' } });
      await until(() => ctx(b.node, 'a1').results.length === 1);
      b.node.lookup('g1')!.send({ type: 'do', request: { op: 'read', topic: 'plan' } });
      await until(() => ctx(b.node, 'g1').results.length === 1);
      expect(ctx(b.node, 'g1').results[0]).toBeNull();
      b.node.lookup('g1')!.send({ type: 'do', request: { op: 'query', pattern: '**' } });
      await until(() => ctx(b.node, 'g1').results.length === 2);
      expect(ctx(b.node, 'g1').results[1]).toEqual([]);
      b.node.lookup('g1')!.send({ type: 'do', request: { op: 'post', topic: 'plan', value: 'globex plan', expectedVersion: 0 } });
      await until(() => ctx(b.node, 'g1').results.length === 3);
      expect(ctx(b.node, 'g1').results[2]).toMatchObject({ version: 1, value: 'globex plan' });
      expect(await b.board.tenant('acme').read('plan')).toMatchObject({ version: 1, value: 'acme plan', by: 'a1' });
      expect(await b.board.tenant('globex').read('plan')).toMatchObject({ version: 1, value: 'globex plan', by: 'g1' });
      expect(await b.board.tenant('default').query('**')).toEqual([]);
      // The writer's tenant comes from its admission, never from the request.
      b.node.lookup('g1')!.send({ type: 'do', request: { op: 'read', topic: 'plan', tenant: 'acme' } });
      await until(() => ctx(b.node, 'g1').errors.length === 1);
      expect(ctx(b.node, 'g1').errors[0]).toMatchObject({ code: BlackboardCodes.invalidRequest });
      // A controller cannot activate another tenant's actors.
      const ctl = b.board.controller({ name: 'c', tenant: 'acme' });
      expect(() => ctl.register({ id: 'g1', trigger: '*' })).toThrow(expect.objectContaining({ code: BlackboardCodes.invalidSource, field: 'id' }));
      // The audit records carry the writer's tenant.
      const written = Array.from({ length: b.node.audit.size }, (_, i) => b.node.audit.record(i) as unknown as Record<string, unknown>).filter((r) => r.decision === 'written');
      expect(written.map((r) => r.tenant)).toEqual(['acme', 'globex']);
    } finally {
      await b.stop();
    }
  });
});

describe('restart', () => {
  it('a node started again on the same data has every entry and version back, and versions carry on', async () => {
    let b = await boardNode(tmp.dir);
    const owner = b.board.tenant('t1');
    for (let i = 1; i <= 5; i++) await owner.post('count', i);
    await owner.post('notes/a', { text: 'hello' });
    await b.board.tenant('t2').post('count', 'other');
    const before = await owner.query('**');
    await b.stop();

    b = await boardNode(tmp.dir);
    try {
      const again = b.board.tenant('t1');
      expect(await again.query('**')).toEqual(before);
      expect(await again.read('count')).toMatchObject({ version: 5, value: 5 });
      await expect(again.post('count', 6, { expectedVersion: 4 })).rejects.toMatchObject({ code: BlackboardCodes.staleWrite, details: { actual: 5 } });
      expect(await again.post('count', 6, { expectedVersion: 5 })).toMatchObject({ version: 6 });
      expect(await b.board.tenant('t2').read('count')).toMatchObject({ version: 1, value: 'other' });
    } finally {
      await b.stop();
    }
  });

  it('a node without a blackboard service answers the blackboard invoke with BLACKBOARD_UNAVAILABLE', async () => {
    const node = await createNode({ name: 'plain', dataDir: tmp.dir, clock: new VirtualClock(0), blackboard: false });
    try {
      const machine = setup({ types: { context: {} as { code?: string }, events: {} as { type: 'go' } }, actors: { blackboard } }).createMachine({
        context: {},
        initial: 'idle',
        states: {
          idle: { on: { go: 'calling' } },
          calling: { invoke: { src: 'blackboard', input: { op: 'read', topic: 'x' }, onError: { target: 'idle', actions: assign({ code: ({ event }) => (event.error as { code: string }).code }) } } },
        },
      });
      const ref = await node.spawn(defineAgent({ name: 'lonely', machine, messages: z.object({ type: z.literal('go') }) }), { id: 'lonely' });
      ref.send({ type: 'go' });
      await until(() => (ref.getSnapshot()?.context as { code?: string }).code !== undefined);
      expect((ref.getSnapshot()?.context as { code?: string }).code).toBe(BlackboardCodes.unavailable);
    } finally {
      await node.stop();
    }
  });
});
