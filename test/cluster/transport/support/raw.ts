// A raw `ws` client for playing a hostile or broken peer: it speaks whatever
// bytes the test gives it and records how the transport closed it.

import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { encodeControl, PROTOCOL_VERSION } from '../../../../src/cluster/transport/frames.js';

export interface RawPeer {
  ws: WebSocket;
  frames: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  next(): Promise<Buffer>;
}

export async function rawPeer(url: string): Promise<RawPeer> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const frames: Buffer[] = [];
  let waiting: ((b: Buffer) => void) | undefined;
  ws.on('message', (data: Buffer) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(data);
    } else frames.push(data);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    closed,
    next: () => (frames.length > 0 ? Promise.resolve(frames.shift()!) : new Promise<Buffer>((r) => (waiting = r))),
  };
}

export function hello(node: string, v = PROTOCOL_VERSION): Buffer {
  return encodeControl({ kind: 'hello', v, node, inc: randomBytes(16).toString('hex'), nonce: randomBytes(32) });
}
