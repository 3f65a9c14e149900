// A cluster node in its own process, for the kill/restart test: it listens on
// the port it is given, reports every envelope it receives to the parent over
// IPC (batched per event-loop turn), and greets each peer that links to it.

import { RealClock } from '../../../src/base/clock.js';
import { seededRng } from '../../../src/base/rng.js';
import { ClusterTransport } from '../../../src/cluster/transport/index.js';

export interface PeerConfig {
  nodeId: string;
  port: number;
  secret: string;
}

export type PeerReport = { type: 'ready'; incarnation: string } | { type: 'got'; ns: number[] } | { type: 'fatal'; error: string };

const config = JSON.parse(process.argv[2]!) as PeerConfig;
const report = (r: PeerReport): void => void process.send?.(r);
let pending: number[] = [];

const t = new ClusterTransport({
  nodeId: config.nodeId,
  secret: config.secret,
  clock: new RealClock(),
  rng: seededRng(process.pid),
  listen: { host: '127.0.0.1', port: config.port },
  onMessage: (_from, msg) => {
    if (pending.length === 0) {
      setImmediate(() => {
        report({ type: 'got', ns: pending });
        pending = [];
      });
    }
    pending.push(msg.n as number);
  },
  onPeer: (e) => {
    if (e.type === 'connected') t.send(e.node, { hello: t.incarnation });
  },
});

t.listen().then(
  () => report({ type: 'ready', incarnation: t.incarnation }),
  (err: Error) => {
    report({ type: 'fatal', error: err.message });
    process.exit(1);
  },
);
