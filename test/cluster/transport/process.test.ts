// A peer in a real child process is SIGKILLed mid-stream and restarted on the
// same port: the sender redials with backoff, sees the new incarnation, and
// delivers to it exactly the messages it still held (everything after the
// last acknowledgement) once each, in order, with nothing lost.

import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerConfig, PeerReport } from './peer-process.js';
import { closeAll, realNode, SECRET, sleep, waitFor } from './support/real.js';

const WORKER = fileURLToPath(new URL('./peer-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

class Peer {
  readonly got: number[] = [];
  incarnation = '';
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(config: PeerConfig) {
    this.child = fork(WORKER, [JSON.stringify(config)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4000)));
    this.exited = new Promise((r) => this.child.on('exit', () => r()));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: PeerReport) => {
        if (m.type === 'ready') {
          this.incarnation = m.incarnation;
          resolve();
        } else if (m.type === 'got') this.got.push(...m.ns);
        else reject(new Error(`peer failed: ${m.error}`));
      });
      this.child.on('exit', (code) => reject(new Error(`peer exited with ${code}: ${this.stderr}`)));
    });
    this.ready.catch(() => undefined);
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const peers: Peer[] = [];
afterEach(async () => {
  await closeAll();
  await Promise.all(peers.splice(0).map((p) => p.kill()));
});

describe('a peer process killed and restarted', () => {
  it('is redialed with backoff; the new incarnation receives every message the sender still held, once, in order', async () => {
    const port = await freePort();
    const config: PeerConfig = { nodeId: 'child', port, secret: SECRET };
    const first = new Peer(config);
    peers.push(first);
    await first.ready;

    const parent = await realNode('parent', { listen: undefined, queue: { maxMessages: 200_000 }, backoff: { initialMs: 40, maxMs: 320 } });
    parent.t.connect('child', `ws://127.0.0.1:${port}`);
    await parent.t.whenConnected('child');

    const N = 40_000;
    let sent = 0;
    let stop = false;
    const pump = (async () => {
      while (sent < N && !stop) {
        // Faster than the link drains, so frames are in flight, unacknowledged, when the kill comes.
        for (let i = 0; i < 3_000 && sent < N; i++) parent.t.send('child', { n: sent++, body: 'x'.repeat(40) });
        await sleep(1);
      }
    })();

    await waitFor(() => first.got.length >= 5_000, 'the first incarnation to receive part of the stream', 10_000);
    await first.kill();
    await waitFor(() => parent.events.some((e) => e.type === 'disconnected'), 'the parent to notice');
    // No ack can arrive any more: everything above this is what the sender still holds.
    const ackedAtDeath = parent.t.peers()[0]!.acked;
    const sentAtDeath = sent;
    await waitFor(() => parent.events.filter((e) => e.type === 'reconnecting').length >= 3, 'a few refused redials', 5_000);

    const second = new Peer(config);
    peers.push(second);
    await second.ready;
    await parent.t.whenConnected('child');
    await pump;
    await waitFor(() => second.got.at(-1) === N - 1, 'the end of the stream', 15_000);
    await sleep(50);
    stop = true;

    // The kill left sent-but-unacknowledged messages behind: this run exercises the resend.
    expect(sentAtDeath).toBeGreaterThan(ackedAtDeath);
    // The first incarnation saw an unbroken prefix (as far as its reports got out before the kill).
    expect(first.got.every((n, i) => n === i)).toBe(true);
    // The second got exactly what was unacknowledged at the kill and everything sent since: once each, in order.
    // (Message n travels as sequence number n + 1.)
    expect(second.got[0]).toBe(ackedAtDeath);
    expect(second.got.length).toBe(N - ackedAtDeath);
    expect(second.got.every((n, i) => n === ackedAtDeath + i)).toBe(true);
    expect(ackedAtDeath).toBeLessThanOrEqual(first.got.length + 2_000); // acks never run ahead of deliveries (slack: IPC reports lost in the kill)

    const info = parent.t.peers()[0]!;
    expect(info.incarnation).toBe(second.incarnation);
    expect(info.stats.connects).toBe(2);
    expect(parent.events).toContainEqual({ type: 'restarted', node: 'child', previous: first.incarnation, incarnation: second.incarnation });
    // Each incarnation greeted the parent once.
    expect(parent.got.map((g) => g.msg.hello)).toEqual([first.incarnation, second.incarnation]);
    // Backoff: attempts count up, and each delay lies within its growing ceiling.
    const retries = parent.events.filter((e): e is Extract<typeof e, { type: 'reconnecting' }> => e.type === 'reconnecting');
    retries.forEach((r, i) => {
      expect(r.attempt).toBe(i + 1);
      const ceiling = Math.min(320, 40 * 2 ** i);
      expect(r.delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(r.delayMs).toBeLessThanOrEqual(ceiling);
    });
    await waitFor(() => parent.t.peers()[0]!.queued === 0, 'the final ack');
  }, 30_000);
});
