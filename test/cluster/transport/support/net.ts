// Transports on a VirtualClock joined by in-memory sockets: `mem://<node>`
// dials the transport registered under that name (a dial to a name that is
// not there fails like a refused TCP connection).

import { VirtualClock } from '../../../../src/base/clock.js';
import { seededRng } from '../../../../src/base/rng.js';
import { ClusterTransport, type ClusterTransportOptions, type TransportEvent } from '../../../../src/cluster/transport/index.js';
import { memoryPair, type MemorySocket } from './memory.js';

export const SECRET = 'correct horse battery staple, cluster one';

export interface Node {
  t: ClusterTransport;
  got: Array<{ from: string; msg: Record<string, unknown> }>;
  events: TransportEvent[];
}

export class MemoryNet {
  readonly clock = new VirtualClock(1000);
  private readonly nodes = new Map<string, ClusterTransport>();
  /** Every dial's client socket, newest last. */
  readonly dials: Array<{ url: string; client: MemorySocket; server: MemorySocket }> = [];

  node(nodeId: string, extra: Partial<ClusterTransportOptions> = {}, seed = 1): Node {
    const got: Node['got'] = [];
    const events: TransportEvent[] = [];
    const t = new ClusterTransport({
      nodeId,
      secret: SECRET,
      clock: this.clock,
      rng: seededRng(seed),
      dialer: (url) => this.dial(url),
      onMessage: (from, msg) => got.push({ from, msg }),
      onPeer: (e) => events.push(e),
      ...extra,
    });
    this.nodes.set(nodeId, t);
    return { t, got, events };
  }

  remove(nodeId: string): void {
    this.nodes.delete(nodeId);
  }

  add(nodeId: string, t: ClusterTransport): void {
    this.nodes.set(nodeId, t);
  }

  private dial(url: string): MemorySocket {
    const pair = memoryPair(url);
    this.dials.push({ url, ...pair });
    const target = this.nodes.get(url.replace('mem://', ''));
    if (target) target.accept(pair.server);
    else pair.client.close(1006, 'connection refused');
    return pair.client;
  }
}
