// The blackboard experiment scenario: a run is a function of its seed (same
// seed, same rows and summary; another seed, another run), the list gets
// assembled, and the strategy and read policy change what happens.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRng } from '../../src/base/rng.js';
import { createNode, VirtualClock } from '../../src/index.js';
import { blackboardScenario, type BlackboardParams } from '../../src/node/experiment/scenarios/blackboard.js';
import type { ExperimentRow } from '../../src/node/experiment/types.js';
import { tempDir } from '../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let n = 0;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

async function runOnce(seed: number, params: unknown = {}): Promise<{ rows: ExperimentRow[]; summary: ExperimentRow }> {
  const clock = new VirtualClock(0);
  const node = await createNode({ name: `exp${n++}`, dataDir: tmp.dir, clock });
  const rows: ExperimentRow[] = [];
  try {
    const summary = await blackboardScenario.run({
      seed,
      rng: seededRng(seed),
      clock,
      node,
      params: blackboardScenario.parseParams(params),
      record: (row) => rows.push(row),
    });
    return { rows, summary };
  } finally {
    await node.stop();
  }
}

describe('blackboard experiment', () => {
  it('the same seed gives identical rows and summary; another seed differs', async () => {
    const a = await runOnce(11);
    const b = await runOnce(11);
    const c = await runOnce(12);
    expect(a.rows.length).toBeGreaterThan(0);
    expect(b.rows).toEqual(a.rows);
    expect(b.summary).toEqual(a.summary);
    expect(c.rows).not.toEqual(a.rows);
    expect(a.summary).toMatchObject({ seed: 11, solved: true, items: 24, sources: 4 });
    expect(a.summary.activations).toBe(a.rows.length);
    expect(a.rows.at(-1)).toMatchObject({ assembled: 24 });
    expect(a.summary.timeToSolutionMs).toBe(a.rows.at(-1)!.endedAt);
    // Activations never overlap: one at a time.
    for (let i = 1; i < a.rows.length; i++) expect(a.rows[i]!.startedAt as number).toBeGreaterThanOrEqual(a.rows[i - 1]!.endedAt as number);
  }, 20_000);

  it('optimistic sources under fifo conflict on stale copies; read-first sources never do', async () => {
    const params = (policy: string): Partial<BlackboardParams> => ({ strategy: 'fifo', policy: policy as BlackboardParams['policy'], items: 16, sources: 3 });
    const optimistic = await runOnce(5, params('optimistic'));
    const readFirst = await runOnce(5, params('read-first'));
    expect(optimistic.summary.solved).toBe(true);
    expect(readFirst.summary.solved).toBe(true);
    expect(optimistic.summary.staleWrites as number).toBeGreaterThan(0);
    expect(optimistic.summary.conflicts).toBe(optimistic.summary.staleWrites);
    expect(readFirst.summary.staleWrites).toBe(0);
  }, 20_000);

  it('params are checked, naming the field', () => {
    expect(() => blackboardScenario.parseParams({ strategy: 'lifo' })).toThrow(expect.objectContaining({ field: 'params.strategy' }));
    expect(() => blackboardScenario.parseParams({ minThinkMs: 5, maxThinkMs: 1 })).toThrow(expect.objectContaining({ field: 'params.maxThinkMs' }));
    expect(() => blackboardScenario.parseParams({ extra: 1 })).toThrow(expect.objectContaining({ code: 'EXPERIMENT_INVALID' }));
    expect(blackboardScenario.parseParams(undefined)).toMatchObject({ sources: 4, items: 24, strategy: 'priority', policy: 'optimistic' });
  });
});
