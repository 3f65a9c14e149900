// A lane sleeps on its event loop between far-apart wake-ups (its next report,
// when it has no actor). Adding an actor or stopping the lane must cut that
// sleep short: the actor's first release is due at once, and a stop should not
// wait for the lane's next report.
import { afterEach, expect, it } from 'vitest';
import { createNode, type AgentOsNode } from '../../../src/index.js';
import { tempDir } from '../../support/tmp.js';
import { ticker } from './fixtures/ticker.js';

const REPORT_MS = 5000;
let tmp: ReturnType<typeof tempDir> | undefined;
let node: AgentOsNode | undefined;
afterEach(async () => {
  await node?.stop();
  tmp?.cleanup();
  node = tmp = undefined;
});

it('an actor added to an idle lane is released at once, not at the lane\'s next report; the lane stops at once', async () => {
  tmp = tempDir();
  const ticks: number[] = [];
  const n = (node = await createNode({
    name: 'hrt-wake',
    dataDir: tmp.dir,
    capacity: { cpu: '2', mem: '1Gi' },
    hrt: { realtime: false, reportEveryMs: REPORT_MS },
    inspect: (e) => {
      if (e.type === '@agentos.hrt.output') ticks.push(performance.now());
    },
  }));
  await n.spawn(ticker, { id: 't' });
  const spawned = performance.now();
  const until = spawned + REPORT_MS / 2;
  while (ticks.length < 3 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  // Before the fix the lane slept until its next report (≈ REPORT_MS after it started) before the first release.
  expect(ticks.length).toBeGreaterThanOrEqual(3);
  expect(ticks[0]! - spawned).toBeLessThan(REPORT_MS / 2);
  const stopping = performance.now();
  await n.stop();
  node = undefined;
  // The lane is told to stop and exits within its sleep, not after a 2 s terminate timeout.
  expect(performance.now() - stopping).toBeLessThan(1500);
});
