// Hostile and broken peers against a real transport on 127.0.0.1: each is
// closed with the close code for what it did (and reported through onPeer),
// while a legitimate link beside them keeps streaming, in order, untouched.

import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ClusterCodes, type ClusterError } from '../../../src/cluster/errors.js';
import { CloseCodes, type TransportEvent } from '../../../src/cluster/transport/index.js';
import { encodeControl, FrameKind } from '../../../src/cluster/transport/frames.js';
import { hello, rawPeer } from './support/raw.js';
import { closeAll, realNode, sleep, waitFor } from './support/real.js';

afterEach(closeAll);

const HANDSHAKE_MS = 300;

async function closedWith(url: string, act: (p: Awaited<ReturnType<typeof rawPeer>>) => Promise<void> | void): Promise<number> {
  const p = await rawPeer(url);
  await act(p);
  return (await p.closed).code;
}

describe('hostile peers', () => {
  it('each is dropped with its own close code, and a legitimate link carries on untouched', async () => {
    const s = await realNode('s', { handshakeTimeoutMs: HANDSHAKE_MS, maxPayload: 64 * 1024 });
    const good = await realNode('good', { listen: undefined });
    good.t.connect('s', s.url);
    await good.t.whenConnected('s');
    let streamed = 0;
    const stream = setInterval(() => {
      for (let i = 0; i < 200; i++) good.t.send('s', { n: streamed++ });
    }, 1);

    const attacks: Record<string, Promise<number>> = {
      silent: closedWith(s.url, () => undefined),
      slowloris: closedWith(s.url, (p) => p.ws.send(hello('slow'))),
      wrongHmac: closedWith(s.url, async (p) => {
        p.ws.send(hello('mallory'));
        const challenge = await p.next();
        expect(challenge[0]).toBe(FrameKind.challenge);
        p.ws.send(encodeControl({ kind: 'response', proof: randomBytes(32), recv: 0, base: 1 }));
      }),
      garbage: closedWith(s.url, (p) => p.ws.send(randomBytes(64).fill(0xff, 0, 1))),
      textFrame: closedWith(s.url, (p) => p.ws.send('{"kind":"hello"}')),
      oversize: closedWith(s.url, (p) => p.ws.send(Buffer.alloc(64 * 1024 + 1, 1))),
      bigHandshake: closedWith(s.url, (p) => p.ws.send(Buffer.concat([Buffer.from([FrameKind.hello]), Buffer.alloc(8000)]))),
      batchBeforeAuth: closedWith(s.url, (p) => p.ws.send(Buffer.from([FrameKind.batch, 0, 1, 0, 0x80]))),
      ackBeforeAuth: closedWith(s.url, (p) => p.ws.send(encodeControl({ kind: 'ack', ack: 5 }))),
      malformedHello: closedWith(s.url, (p) =>
        p.ws.send(encodeControl({ kind: 'hello', v: 1, node: 'x', inc: 'f'.repeat(32), nonce: Buffer.alloc(8) } as never)),
      ),
      oldVersion: closedWith(s.url, (p) => p.ws.send(hello('old', 0))),
      responseFirst: closedWith(s.url, (p) => p.ws.send(encodeControl({ kind: 'response', proof: randomBytes(32), recv: 0, base: 1 }))),
    };
    const codes = Object.fromEntries(await Promise.all(Object.entries(attacks).map(async ([k, v]) => [k, await v] as const)));
    expect(codes).toEqual({
      silent: CloseCodes.handshakeTimeout,
      slowloris: CloseCodes.handshakeTimeout,
      wrongHmac: CloseCodes.authFailed,
      garbage: CloseCodes.frameInvalid,
      textFrame: CloseCodes.frameInvalid,
      oversize: CloseCodes.tooBig,
      bigHandshake: CloseCodes.frameTooLarge,
      batchBeforeAuth: CloseCodes.unexpectedFrame,
      ackBeforeAuth: CloseCodes.unexpectedFrame,
      malformedHello: CloseCodes.frameInvalid,
      oldVersion: CloseCodes.versionMismatch,
      responseFirst: CloseCodes.unexpectedFrame,
    });

    // Every drop is in the log with a typed error (the oversize frame was refused by ws itself, and logged too).
    const rejected = s.events.filter((e): e is Extract<TransportEvent, { type: 'rejected' }> => e.type === 'rejected');
    const byCode = (code: number): ClusterError[] => rejected.filter((e) => e.code === code).map((e) => e.error);
    expect(byCode(CloseCodes.handshakeTimeout).map((e) => e.code)).toEqual([ClusterCodes.handshakeTimeout, ClusterCodes.handshakeTimeout]);
    expect(byCode(CloseCodes.authFailed).map((e) => e.code)).toEqual([ClusterCodes.authFailed]);
    expect(rejected.find((e) => e.code === CloseCodes.authFailed)?.node).toBe('mallory');
    expect(byCode(CloseCodes.frameInvalid).length).toBe(3);
    expect(byCode(CloseCodes.unexpectedFrame).length).toBe(3);
    expect(byCode(CloseCodes.frameTooLarge).map((e) => e.code)).toEqual([ClusterCodes.frameTooLarge]);
    expect(byCode(CloseCodes.tooBig).map((e) => e.code)).toEqual([ClusterCodes.frameTooLarge]);
    expect(s.t.peers().map((p) => p.node)).toEqual(['good']);

    clearInterval(stream);
    await waitFor(() => s.got.length === streamed, 'the legitimate stream');
    expect(s.got.every((g, i) => g.msg.n === i)).toBe(true);
    expect(good.t.peers()[0]).toMatchObject({ state: 'connected' });
    expect(good.t.peers()[0]!.stats.connects).toBe(1);
  });

  it('a TCP connection that never upgrades is dropped at the timeout; plain HTTP gets 426; floods past maxPendingHandshakes are dropped on accept', async () => {
    const s = await realNode('s', { handshakeTimeoutMs: HANDSHAKE_MS, maxPendingHandshakes: 4 });
    const port = Number(new URL(s.url).port);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(426);

    const t0 = Date.now();
    const sockets = Array.from({ length: 8 }, () => {
      const sock = createConnection({ host: '127.0.0.1', port });
      sock.on('error', () => undefined);
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n'); // headers never finish
      return new Promise<number>((r) => sock.on('close', () => r(Date.now() - t0)));
    });
    const closedAfter = (await Promise.all(sockets)).sort((x, y) => x - y);
    // Four over the cap are dropped on arrival; the four admitted ones at the handshake timeout.
    expect(closedAfter.slice(0, 4).every((ms) => ms < HANDSHAKE_MS)).toBe(true);
    expect(closedAfter.slice(4).every((ms) => ms >= HANDSHAKE_MS - 20)).toBe(true);
    const reasons = s.events.filter((e) => e.type === 'rejected').map((e) => (e as { reason: string }).reason);
    expect(reasons.filter((r) => r === 'too many pending handshakes').length).toBe(4);
    expect(reasons.filter((r) => r === 'no WebSocket upgrade in time').length).toBe(4);

    // The cap counts only unauthenticated connections: a real peer still gets in afterwards.
    const c = await realNode('c', { listen: undefined });
    c.t.connect('s', s.url);
    await c.t.whenConnected('s');
  });

  it('the dialing side checks the server too: a wrong proof (4003) or a different node id (4010) is refused and redialed', async () => {
    // A fake server that answers hello with a challenge it cannot sign.
    const fake = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => fake.on('listening', () => r()));
    const fakeClosed: number[] = [];
    fake.on('connection', (ws) => {
      ws.on('message', () => ws.send(encodeControl({ kind: 'challenge', v: 1, node: 'target', inc: 'a'.repeat(32), nonce: randomBytes(32), proof: randomBytes(32) })));
      ws.on('close', (code) => fakeClosed.push(code));
    });
    const fakePort = (fake.address() as { port: number }).port;
    const c = await realNode('c', { listen: undefined });
    c.t.connect('target', `ws://127.0.0.1:${fakePort}`);
    await waitFor(() => fakeClosed.length >= 2, 'two refused dials');
    expect(fakeClosed[0]).toBe(CloseCodes.authFailed);
    expect(c.events).toContainEqual(expect.objectContaining({ type: 'rejected', code: CloseCodes.authFailed, node: 'target' }));
    expect(c.events).toContainEqual(expect.objectContaining({ type: 'reconnecting', code: CloseCodes.authFailed }));
    await new Promise<void>((r) => fake.close(() => r()));

    // A real member, dialed under the wrong name.
    const x = await realNode('x');
    const d = await realNode('d', { listen: undefined });
    d.t.connect('y', x.url);
    await waitFor(() => d.events.some((e) => e.type === 'rejected' && e.code === CloseCodes.wrongPeer), 'the wrong peer to be refused');
    expect(x.t.peers()).toEqual([]);

    // A node with another cluster's secret gets nowhere either way.
    const intruder = await realNode('i', { listen: undefined, secret: 'some other cluster secret!!' });
    intruder.t.connect('x', x.url);
    await waitFor(() => intruder.events.some((e) => e.type === 'rejected' && e.code === CloseCodes.authFailed), 'the intruder to fail');
    await sleep(20);
    expect(x.t.peers()).toEqual([]);
  });
});
