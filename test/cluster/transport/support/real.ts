// Real transports on 127.0.0.1 (RealClock) for socket tests, and a poll helper.

import { RealClock } from '../../../../src/base/clock.js';
import { seededRng } from '../../../../src/base/rng.js';
import { ClusterTransport, type ClusterTransportOptions, type TransportEvent } from '../../../../src/cluster/transport/index.js';

export const SECRET = 'correct horse battery staple, cluster one';

export interface RealNode {
  t: ClusterTransport;
  url: string;
  got: Array<{ from: string; msg: Record<string, unknown> }>;
  events: TransportEvent[];
}

const open: ClusterTransport[] = [];

/** A transport listening on 127.0.0.1 (port 0 unless given). */
export async function realNode(nodeId: string, extra: Partial<ClusterTransportOptions> = {}, seed = 1): Promise<RealNode> {
  const got: RealNode['got'] = [];
  const events: TransportEvent[] = [];
  const t = new ClusterTransport({
    nodeId,
    secret: SECRET,
    clock: new RealClock(),
    rng: seededRng(seed),
    listen: { host: '127.0.0.1', port: 0 },
    backoff: { initialMs: 20, maxMs: 200 },
    onMessage: (from, msg) => got.push({ from, msg }),
    onPeer: (e) => events.push(e),
    ...extra,
  });
  open.push(t);
  if (!('listen' in extra) || extra.listen) await t.listen();
  return { t, url: t.url ?? '', got, events };
}

/** Close every transport made by realNode (afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((t) => t.close()));
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
