// Bounded growth of a persistent agent on a real LMDB (the short version of
// `npm run soak:growth`): 1,000 cycles of a large message (blob store) and a small
// one that makes a tool call, each followed by a checkpoint by hand, with the whole
// node stopped and started again on the same directory every 19 cycles. Reports
// heap after forced GC, the data file and the records of every durable and
// effect-journal sub-database at intervals; asserts only that they stay bounded
// (never how long anything took).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DURABLE_DBS } from '../../src/kernel/durable/store.js';
import { EFFECT_DBS } from '../../src/kernel/effects/store.js';
import { formatSample, runSoak, TURNS_PER_CYCLE, unbounded } from '../../scripts/soak-growth.js';
import { tempDir } from '../support/tmp.js';

const CYCLES = 1000;
const RETAIN = 8;

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('agentos-soak-');
});
afterEach(() => tmp.cleanup());

describe('persistent agent soak', () => {
  it('1,000 checkpoints and 50+ node restarts keep heap, turn log, blobs and effect journal bounded', async () => {
    const r = await runSoak({ dataDir: tmp.dir, cycles: CYCLES, restartEvery: 19, retainTurns: RETAIN, sampleEvery: 75, durability: 'async' });
    console.log(`soak (persistent):\n${r.samples.map(formatSample).join('\n')}\n${r.checkpoints} checkpoints, ${r.restarts} restarts, ${(r.elapsedMs / 1000).toFixed(1)} s (not asserted)`);

    // The work happened, once: every call ran exactly once across 52 restarts, and the state came through each.
    expect(r.checkpoints).toBe(CYCLES);
    expect(r.restarts).toBeGreaterThanOrEqual(50);
    expect(r.toolRuns).toBe(CYCLES);
    expect(r.conversation).toBe(TURNS_PER_CYCLE * CYCLES);

    // The bounds are not vacuous: turns, blobs and journal entries were there between compactions.
    const most = (name: string): number => Math.max(...r.samples.map((s) => s.records[name]!));
    expect(most(DURABLE_DBS.turns)).toBeGreaterThan(0);
    expect(most('blobs')).toBeGreaterThan(0);
    expect(most(EFFECT_DBS.entries)).toBeGreaterThan(0);
    // ...and stayed within what retainTurns allows.
    expect(most(DURABLE_DBS.turns)).toBeLessThanOrEqual(RETAIN + TURNS_PER_CYCLE);
    expect(most('blobs')).toBeLessThanOrEqual(RETAIN + TURNS_PER_CYCLE);
    expect(most(EFFECT_DBS.open)).toBe(0);
    expect(most(DURABLE_DBS.inbox)).toBe(0);
    expect(most(DURABLE_DBS.checkpoints)).toBe(2);
    // Heap, bytes of the bounded tables, checkpoint size per cycle and the data file: see unbounded().
    expect(unbounded(r.samples, RETAIN)).toEqual([]);
  }, 60_000);
});
