// Subscriptions: a subscriber gets `board.changed` for each durable write to a
// topic its patterns select (and it may read), stops getting them when it
// unsubscribes, and its subscriptions end with it — a new actor that takes its
// id hears nothing it did not ask for.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { counterAgent } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { boardNode, client, ctx, until, type BoardNode } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let b: BoardNode;

beforeEach(async () => {
  tmp = tempDir();
  b = await boardNode(tmp.dir);
});
afterEach(async () => {
  await b.stop();
  tmp.cleanup();
});

async function subscribe(id: string, pattern: string): Promise<void> {
  const n = ctx(b.node, id).results.length;
  b.node.lookup(id)!.send({ type: 'do', request: { op: 'subscribe', pattern } });
  await until(() => ctx(b.node, id).results.length > n);
}

describe('subscriptions', () => {
  it('notify matching writes with topic, version, value, writer and time', async () => {
    await b.node.spawn(client(['blackboard.read']), { id: 'watcher' });
    await subscribe('watcher', 'sum.*');
    const owner = b.board.tenant('default', { by: 'env' });
    b.clock.advance(7);
    await owner.post('sum.a', 1);
    await owner.post('other', 2);
    await owner.post('sum.a', 3);
    await until(() => ctx(b.node, 'watcher').changes.length === 2);
    expect(ctx(b.node, 'watcher').changes).toEqual([
      { type: 'board.changed', topic: 'sum.a', version: 1, value: 1, by: 'env', at: 7 },
      { type: 'board.changed', topic: 'sum.a', version: 2, value: 3, by: 'env', at: 7 },
    ]);
    // unsubscribe: no more notifications
    b.node.lookup('watcher')!.send({ type: 'do', request: { op: 'unsubscribe' } });
    await until(() => ctx(b.node, 'watcher').results.length === 2);
    expect(ctx(b.node, 'watcher').results[1]).toBe(1);
    await owner.post('sum.a', 4);
    await b.board.settled();
    await new Promise((r) => setTimeout(r, 20));
    expect(ctx(b.node, 'watcher').changes).toHaveLength(2);
    expect(b.board.stats()).toMatchObject({ notified: 2, subscriptions: 0 });
  });

  it('only topics the subscriber may read are notified', async () => {
    await b.node.spawn(client(['blackboard.read.plan.*']), { id: 'narrow' });
    await subscribe('narrow', '**');
    const owner = b.board.tenant();
    await owner.post('secret', 1);
    await owner.post('plan.a', 2);
    await until(() => ctx(b.node, 'narrow').changes.length === 1);
    await b.board.settled();
    expect(ctx(b.node, 'narrow').changes.map((c) => c.topic)).toEqual(['plan.a']);
  });

  it('end with their actor: a stopped subscriber is dropped, and a new actor with its id hears nothing', async () => {
    const ref = await b.node.spawn(client(['blackboard.read']), { id: 'w' });
    await subscribe('w', '*');
    await ref.stop();
    await b.node.spawn(client(['blackboard.read']), { id: 'w' });
    await b.board.tenant().post('x', 1);
    await b.board.settled();
    await new Promise((r) => setTimeout(r, 20));
    expect(ctx(b.node, 'w').changes).toEqual([]);
    expect(b.board.stats()).toMatchObject({ subscriptions: 0, subscriptionsDropped: 1, notified: 0 });
  });

  it('a subscriber that stopped is also swept when another actor of its tenant subscribes', async () => {
    const gone = await b.node.spawn(client(['blackboard.read']), { id: 'gone' });
    await subscribe('gone', '*');
    await gone.stop();
    await b.node.spawn(client(['blackboard.read']), { id: 'new' });
    await subscribe('new', 'x');
    expect(b.board.stats()).toMatchObject({ subscriptions: 1, subscriptionsDropped: 1 });
  });

  it('a subscriber that does not accept board.changed is dropped at its first notification', async () => {
    await b.node.spawn(counterAgent('counter', { capabilities: ['blackboard.read'] }), { id: 'deaf' });
    await b.board.as('deaf').subscribe('*');
    expect(b.board.stats().subscriptions).toBe(1);
    await b.board.tenant().post('x', 1);
    await b.board.settled();
    expect(b.board.stats()).toMatchObject({ subscriptions: 0, subscriptionsDropped: 1 });
  });

  it('an actor holds at most maxSubscriptions patterns', async () => {
    const small = await boardNode(`${tmp.dir}/small`, { maxSubscriptions: 2 });
    try {
      await small.node.spawn(client(['blackboard.read']), { id: 'w' });
      const w = small.board.as('w');
      await w.subscribe('a');
      await w.subscribe('b');
      await w.subscribe('a'); // already held
      await expect(w.subscribe('c')).rejects.toMatchObject({ code: 'BLACKBOARD_TOO_MANY_SUBSCRIPTIONS' });
      await expect(small.board.tenant().subscribe('a')).rejects.toMatchObject({ code: 'BLACKBOARD_INVALID_REQUEST' });
    } finally {
      await small.stop();
    }
  });
});
