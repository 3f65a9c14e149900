// examples/blackboard/run.ts runs to completion, offline, and its results are a function of its seed.
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../examples/blackboard/run.js';
import { tempDir } from '../../support/tmp.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('blackboard example', () => {
  it('runs the knowledge sources one at a time, refuses the stale and the ungranted write, and verifies the audit log', async () => {
    const a = await main(`${tmp.dir}/a`, 7);
    expect(a.audit).toBe(true);
    expect(a.activations).toEqual([
      '1:count→stats.count@1',
      '2:sum→stats.sum@1',
      '3:mean→stats.mean@1',
      '4:spread→stats.spread@1',
      '5:count→stats.count@2',
      '6:sum→stats.sum@2',
      '7:mean→stats.mean@2',
      '8:spread→stats.spread@2',
    ]);
    const b = await main(`${tmp.dir}/b`, 7);
    const c = await main(`${tmp.dir}/c`, 8);
    expect(b.mean).toEqual(a.mean);
    expect(c.mean).not.toEqual(a.mean);
  });
});
