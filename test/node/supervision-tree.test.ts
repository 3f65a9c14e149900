// node.tree() end to end, and a model-based property over a one_for_one supervisor
// of real counters: random crashes, increments and clock moves.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { supervisor, type TreeNode } from '../../src/index.js';
import { counterAgent, settle } from '../support/agents.js';
import { countOf, settleIdle, startNode, type Harness } from '../support/supervision.js';

const counter = counterAgent();
const dtCounter = counterAgent('dt-counter', { class: { latency: 'DT' } });

describe('node.tree()', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startNode();
  });
  afterEach(async () => {
    await h.close();
  });

  it('is JSON of the nested structure, with strategies, restart counts and worker info', async () => {
    await h.node.spawn(
      supervisor({
        id: 'app',
        intensity: 5,
        children: [
          { id: 'worker', start: counter },
          {
            id: 'team',
            start: supervisor({
              id: 'team',
              strategy: 'rest_for_one',
              intensity: 3,
              periodMs: 2000,
              children: [
                { id: 'x', start: counter },
                { id: 'y', start: dtCounter, restart: 'transient' },
              ],
            }),
          },
        ],
      }),
      { id: 'app' },
    );
    await h.node.spawn(counter, { id: 'solo' });
    h.node.lookup('worker')!.send({ type: 'crash' });
    await settle();
    h.node.lookup('worker')!.send({ type: 'crash' });
    await settle();
    h.node.lookup('x')!.send({ type: 'crash' });
    await settle();

    const tree = h.node.tree();
    expect(JSON.parse(JSON.stringify(tree))).toEqual(tree);
    const worker = (id: string, path: string, restarts: number, agent: string, cls: string, restartType = 'permanent') => ({
      id,
      kind: 'worker',
      path,
      restartType,
      restarts,
      status: 'running',
      info: expect.objectContaining({ agent, class: cls, state: 'counting', status: 'running', incarnation: restarts, mailbox: 0 }),
    });
    expect(tree).toEqual({
      id: 'root',
      kind: 'supervisor',
      path: '',
      strategy: 'one_for_one',
      restarts: 0,
      status: 'running',
      info: { restartCount: 0, intensity: 10, periodMs: 5000 },
      children: [
        {
          id: 'app',
          kind: 'supervisor',
          path: '/app',
          strategy: 'one_for_one',
          restartType: 'transient',
          restarts: 0,
          status: 'running',
          info: { restartCount: 2, intensity: 5, periodMs: 5000 },
          children: [
            worker('worker', '/app/worker', 2, 'counter', 'SRT'),
            {
              id: 'team',
              kind: 'supervisor',
              path: '/app/team',
              strategy: 'rest_for_one',
              restartType: 'permanent',
              restarts: 0,
              status: 'running',
              info: { restartCount: 1, intensity: 3, periodMs: 2000 },
              children: [worker('x', '/app/team/x', 1, 'counter', 'SRT'), worker('y', '/app/team/y', 1, 'dt-counter', 'DT', 'transient')],
            },
          ],
        },
        worker('solo', '/solo', 0, 'counter', 'SRT', 'transient'),
      ],
    });
    // Each supervisor counts the restarts it made: `app` restarted worker twice; `team`
    // restarted x and y once (rest_for_one: one restart, two restarted children).
    expect(h.node.lookup('y')!.path).toBe('/app/team/y');
  });

  it('shows a stopped transient child and its state after it moves', async () => {
    await h.node.spawn(
      supervisor({
        id: 'sup',
        children: [
          { id: 'done', start: counter, restart: 'transient' },
          { id: 'live', start: counter },
        ],
      }),
      { id: 'sup' },
    );
    h.node.lookup('done')!.send({ type: 'finish' });
    await settle();
    const sup = h.node.tree().children![0]!;
    expect(sup.children).toEqual([
      { id: 'done', kind: 'worker', path: '/sup/done', restartType: 'transient', restarts: 0, status: 'stopped' },
      expect.objectContaining({ id: 'live', status: 'running', info: expect.objectContaining({ state: 'counting' }) }),
    ]);
  });

  it('reflects an escalation: the nested supervisor is restarted by its parent and counted there', async () => {
    await h.node.spawn(
      supervisor({
        id: 'outer',
        intensity: 3,
        children: [{ id: 'inner', start: supervisor({ id: 'inner', intensity: 0, children: [{ id: 'w', start: counter }] }) }],
      }),
      { id: 'outer' },
    );
    h.node.lookup('w')!.send({ type: 'crash' }); // intensity 0: the first crash escalates
    await settle();
    expect(h.ofType('@agentos.supervisor.escalated')).toMatchObject([{ supervisor: 'inner' }]);
    const inner = h.node.tree().children![0]!.children![0]!;
    expect(inner).toMatchObject({ id: 'inner', kind: 'supervisor', restarts: 1, status: 'running', info: { restartCount: 0 } });
    expect(inner.children).toMatchObject([{ id: 'w', restarts: 0, status: 'running', info: { incarnation: 0 } }]);
  });
});

// ── property ────────────────────────────────────────────────────────────────

type Op = { kind: 'crash'; child: number } | { kind: 'inc'; child: number; by: number } | { kind: 'advance'; ms: number } | { kind: 'settle' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('crash' as const), child: fc.integer({ min: 0, max: 2 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('inc' as const), child: fc.integer({ min: 0, max: 2 }), by: fc.integer({ min: -5, max: 20 }) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'settle' as const }), weight: 1 },
);

const ids = ['p0', 'p1', 'p2'];

function workers(tree: TreeNode): TreeNode[] {
  return tree.kind === 'worker' ? [tree] : (tree.children ?? []).flatMap(workers);
}

describe('one_for_one under random crashes (property)', () => {
  it('each count is the sum of incs since that child last crashed, and restarts equal crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const h = await startNode();
        try {
          await h.node.spawn(
            supervisor({ id: 'ofo', intensity: 10_000, periodMs: 1000, children: ids.map((id) => ({ id, start: counter })) }),
            { id: 'ofo' },
          );
          const model = [0, 0, 0];
          const crashes = [0, 0, 0];
          for (const op of ops) {
            if (op.kind === 'crash') {
              h.node.lookup(ids[op.child]!)!.send({ type: 'crash' });
              model[op.child] = 0;
              crashes[op.child]! += 1;
            } else if (op.kind === 'inc') {
              h.node.lookup(ids[op.child]!)!.send({ type: 'inc', by: op.by });
              model[op.child]! += op.by;
            } else if (op.kind === 'advance') {
              h.clock.advance(op.ms);
            } else {
              await settle(3);
            }
          }
          await settleIdle(h.node);

          expect(ids.map((id) => countOf(h.node, id))).toEqual(model);
          const restarts = h.ofType('@agentos.supervisor.restart');
          expect(restarts).toHaveLength(crashes.reduce((a, b) => a + b, 0));
          expect(ids.map((id) => restarts.filter((r) => r.child === id).length)).toEqual(crashes);
          expect(h.ofType('@agentos.supervisor.escalated')).toEqual([]);
          const tree = workers(h.node.tree());
          expect(tree.map((w) => [w.id, w.restarts, w.info?.incarnation])).toEqual(ids.map((id, i) => [id, crashes[i], crashes[i]]));
        } finally {
          await h.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
