// The safety output path: a lane actor with `lane.direct` gets its own ring,
// read by an actuator thread. With the main thread blocked in a busy loop, the
// guard's vetoes still reach the actuator at once; the same vetoes reach the
// main thread (as @agentos.hrt.output) only after the block. Real threads, real
// time: the bound asserted (100 ms) is a third of the block, far above the
// lane's own jitter, so only a path through the main thread can break it.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, defineAgent, type AgentOsNode } from '../../../src/index.js';
import { tempDir } from '../../support/tmp.js';
import { counterMachine } from '../../support/agents.js';
import type { Receipt } from './fixtures/actuator.js';
import { estopGuard, estopMessages, type EstopDecision } from './fixtures/estop-guard.js';
import { guardAgent } from './fixtures/guard.js';

const BLOCK_MS = 300;
const BOUND_MS = 100;

let tmp: ReturnType<typeof tempDir> | undefined;
let node: AgentOsNode | undefined;
let actuator: Worker | undefined;
afterEach(async () => {
  await actuator?.terminate();
  await node?.stop();
  tmp?.cleanup();
  actuator = node = tmp = undefined;
});

const epochNow = (): number => performance.timeOrigin + performance.now();

const waitFor = async (pred: () => boolean, ms = 5000): Promise<void> => {
  const until = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function startActuator(ring: SharedArrayBuffer): { control: Int32Array; stop: () => Promise<Receipt[]> } {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const w = (actuator = new Worker(new URL('../../mailboxes/fixtures/ts-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/actuator.ts', import.meta.url).href, ring, control: control.buffer },
    execArgv: [],
  }));
  const records = new Promise<Receipt[]>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    control,
    stop: () => {
      Atomics.store(control, 0, 1);
      return records;
    },
  };
}

describe('HRT safety output path', () => {
  it('vetoes reach an actuator thread through the direct ring while the main thread is blocked', async () => {
    tmp = tempDir();
    const outputs: { at: number; event: EstopDecision }[] = [];
    const n = (node = await createNode({
      name: 'hrt-safety',
      dataDir: tmp.dir,
      capacity: { cpu: '2', mem: '1Gi' },
      hrt: { realtime: false, reportEveryMs: 50 },
      inspect: (e) => {
        if (e.type === '@agentos.hrt.output') outputs.push({ at: epochNow(), event: (e as unknown as { event: EstopDecision }).event });
      },
    }));
    const ref = await n.spawn(estopGuard, { id: 'g' });
    const ring = n.kernel.lanes.directRing('g');
    expect(ring).toBeInstanceOf(SharedArrayBuffer);
    const act = startActuator(ring!);

    // A command's decision reaches the actuator (and, as before, the main thread).
    ref.send({ type: 'command', id: 1, speed: 5 });
    await waitFor(() => Atomics.load(act.control, 1) >= 1);
    ref.send({ type: 'hold', on: true });
    await waitFor(() => Atomics.load(act.control, 1) >= 4);

    const blockStart = epochNow();
    while (epochNow() < blockStart + BLOCK_MS); // the main thread's event loop is stalled
    const blockEnd = epochNow();

    ref.send({ type: 'hold', on: false });
    const receipts = await act.stop();
    await waitFor(() => outputs.some((o) => o.at > blockEnd));
    const offset = n.kernel.lanes.clockOffset(0)!;
    expect(typeof offset).toBe('number');

    expect(receipts[0]!.e).toEqual({ type: 'veto', reason: 'command', id: 1, speed: 5 });
    // Vetoes released during the block, early enough that the bound ends inside it.
    const during = receipts
      .map((r) => ({ ...r, e: r.e as EstopDecision }))
      .filter((r): r is Receipt & { e: Extract<EstopDecision, { reason: 'hold' }> } => r.e.reason === 'hold')
      .map((r) => ({ releasedAt: r.e.releaseAt - offset, at: r.at, index: r.e.index }))
      .filter((r) => r.releasedAt >= blockStart && r.releasedAt <= blockEnd - BOUND_MS);
    // 20 releases fit in the window; on a loaded machine a late one may be skipped, not many.
    expect(during.length).toBeGreaterThanOrEqual(10);
    for (const r of during) {
      expect(r.at).toBeLessThan(blockEnd); // received while main was still blocked
      expect(r.at - r.releasedAt).toBeLessThan(BOUND_MS);
    }
    // The same decisions took the main thread's path too, and it had to wait for the block to end.
    const seenOnMain = outputs.filter((o) => o.event.reason === 'hold' && during.some((d) => d.index === (o.event as { index: number }).index));
    expect(seenOnMain.length).toBeGreaterThan(0);
    for (const o of seenOnMain) expect(o.at).toBeGreaterThanOrEqual(blockEnd);
  });

  it('only an actor that asks for it has a direct ring, and it goes with the actor', async () => {
    tmp = tempDir();
    const n = (node = await createNode({ name: 'hrt-direct', dataDir: tmp.dir, capacity: { cpu: '2', mem: '1Gi' }, hrt: { realtime: false } }));
    const g = await n.spawn(guardAgent, { id: 'plain' });
    await n.spawn(estopGuard, { id: 'e' });
    expect(n.kernel.lanes.directRing('plain')).toBeUndefined();
    const ring = n.kernel.lanes.directRing('e')!;
    expect(ring.byteLength).toBeGreaterThan(1024 * 1024); // 1024 slots of the lane's 1 KiB
    await g.stop();
    await n.lookup('e')!.stop();
    expect(n.kernel.lanes.directRing('e')).toBeUndefined();
  });

  it('checks lane.direct in defineAgent', () => {
    const def = (direct: unknown) => () => defineAgent({ name: 'x', machine: counterMachine, messages: estopMessages, lane: { module: 'm', export: 'x', direct: direct as never } });
    expect(def(5)).toThrow(expect.objectContaining({ code: 'INVALID_AGENT', field: 'lane.direct' }));
    expect(def({ slots: 1000 })).toThrow(expect.objectContaining({ field: 'lane.direct.slots' }));
    expect(def({ slots: 1 << 17 })).toThrow(expect.objectContaining({ field: 'lane.direct.slots' }));
    expect(def({})).not.toThrow();
    expect(def({ slots: 64 })).not.toThrow();
  });
});
