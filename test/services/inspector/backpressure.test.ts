// A page that stops reading never slows the node: its socket stops taking
// frames, its own queue stays under its byte bound (dropped when over), a page
// that reads on gets every delta meanwhile, and once the slow one reads again
// it gets a `resync` and a fresh snapshot, then deltas as before.
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { VirtualClock } from '../../../src/index.js';
import { InspectorHub } from '../../../src/services/inspector/hub.js';
import { InspectorServer } from '../../../src/services/inspector/server.js';
import { Client, wsUrl } from './support.js';

let server: InspectorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('back-pressure', () => {
  it('drops a page that does not read to a resync while another page gets every delta, with memory per page bounded', async () => {
    const MAX_QUEUE = 1024 * 1024;
    const HIGH_WATER = 256 * 1024;
    const hub = new InspectorHub({ node: 'n1', clock: new VirtualClock(0), bufferEvents: 200 });
    server = await InspectorServer.start({ hub, port: 0, maxQueueBytes: MAX_QUEUE, highWaterBytes: HIGH_WATER });
    const url = wsUrl(server.url);
    const slow = await Client.open(url);
    const fast = await Client.open(url);
    await slow.next((f) => f.t === 'snapshot');
    await fast.next((f) => f.t === 'snapshot');
    // The slow page stops reading: TCP fills up, then the server's socket holds unsent bytes.
    (slow.ws as unknown as { _socket: Socket })._socket.pause();

    const FLUSHES = 120;
    let biggestFrame = 0;
    let worst = 0;
    for (let i = 0; i < FLUSHES; i++) {
      for (let k = 0; k < 200; k++) hub.listener({ type: '@agentos.test.load', flush: i, k, blob: 'x'.repeat(1500) });
      const t0 = performance.now();
      hub.flush();
      // Flushing does not wait for anyone: bounded work, however far behind a page is.
      expect(performance.now() - t0).toBeLessThan(500);
      const [s] = server.stats().pages;
      worst = Math.max(worst, s!.queuedBytes + s!.bufferedAmount);
      biggestFrame = Math.max(biggestFrame, JSON.stringify(hub.snapshot().events.slice(-200)).length);
      expect(s!.queuedBytes).toBeLessThanOrEqual(MAX_QUEUE);
      await immediate();
    }
    const [slowStats, fastStats] = server.stats().pages;
    expect(slowStats!.overflows).toBeGreaterThan(0);
    expect(fastStats!.overflows).toBe(0);
    // Memory held for the slow page: its queue bound, the socket's high-water mark and one frame, whatever it missed (~36 MB here).
    expect(worst).toBeLessThanOrEqual(MAX_QUEUE + HIGH_WATER + 2 * biggestFrame);
    // The page that reads got every flush, in order, and no resync.
    await fast.next((f) => f.t === 'delta' && (f.events.at(-1) as { data?: { flush?: number } } | undefined)?.data?.flush === FLUSHES - 1, 10_000);
    const flushes = fast.frames.filter((f) => f.t === 'delta').map((f) => (f as unknown as { events: { data: { flush: number } }[] }).events[0]!.data.flush);
    expect(flushes).toEqual(Array.from({ length: FLUSHES }, (_, i) => i));
    expect(fast.frames.some((f) => f.t === 'resync')).toBe(false);

    // It reads again: what it gets after the frames already on its socket is a resync, a fresh snapshot, and deltas again.
    const before = slow.frames.length;
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    const resync = await slow.next((f) => f.t === 'resync', 10_000, before);
    expect(resync).toEqual({ t: 'resync', reason: 'slow-consumer' });
    const at = slow.frames.indexOf(resync);
    await slow.next((f) => f.t === 'snapshot', 5000, at);
    expect(slow.frames[at + 1]).toMatchObject({ t: 'snapshot' });
    const snap = slow.frames[at + 1] as { events: unknown[] };
    expect(snap.events).toHaveLength(200);
    // Frames it got were whole frames in order: deltas it missed are gone, not half-delivered.
    hub.listener({ type: '@agentos.test.after' });
    hub.flush();
    await slow.next((f) => f.t === 'delta' && f.events.some((e) => e.kind === 'system' && e.type === '@agentos.test.after'), 5000, at);
    slow.close();
    fast.close();
  }, 30_000);
});
