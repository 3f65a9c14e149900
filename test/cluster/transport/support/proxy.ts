// A TCP proxy on 127.0.0.1 for fault injection between two real transports:
// cut every connection (the link drops mid-stream) or stop reading from the
// dialing side (the sender's socket fills: back-pressure).

import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private stalled = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<number> {
    this.server = createServer((inbound) => {
      const outbound = createConnection({ host: '127.0.0.1', port: this.targetPort });
      const pair: [Socket, Socket] = [inbound, outbound];
      this.pairs.add(pair);
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      if (this.stalled) inbound.pause();
      const end = (): void => {
        this.pairs.delete(pair);
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Drop every proxied connection at once (both directions, no close frames). */
  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Stop reading from the dialing side (its writes back up), or start again. */
  stall(on: boolean): void {
    this.stalled = on;
    for (const [inbound, outbound] of this.pairs) {
      if (on) {
        inbound.unpipe(outbound);
        inbound.pause();
      } else {
        inbound.pipe(outbound);
        inbound.resume();
      }
    }
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
