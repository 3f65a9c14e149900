// Shared by the inspector tests: a real node with the inspector attached as a
// user gets it (`createNode({ inspector })`), and a WebSocket client that
// collects the frames it gets.
import { WebSocket } from 'ws';
import { createNode, type AgentOsNode, type Clock, type NodeOptions } from '../../../src/index.js';
import type { InspectorHandle, InspectorOptions } from '../../../src/node/inspector.js';
import type { InspectorHub } from '../../../src/services/inspector/hub.js';
import type { InspectorEvent, NodeView, ServerFrame } from '../../../src/services/inspector/protocol.js';
import { tempDir } from '../../support/tmp.js';

export interface Inspected {
  node: AgentOsNode;
  hub: InspectorHub;
  inspector: InspectorHandle;
  close(): Promise<void>;
}

/** A node created with the inspector (any free port unless given). */
export async function inspectedNode(opts: { name?: string; clock?: Clock; inspector?: InspectorOptions; node?: Partial<NodeOptions> } = {}): Promise<Inspected> {
  const tmp = tempDir('agentos-inspector-');
  const name = opts.name ?? 'n1';
  const clock = opts.clock;
  const node = await createNode({ name, dataDir: tmp.dir, memory: false, blackboard: false, ...(clock ? { clock } : {}), ...opts.node, inspector: { port: 0, ...opts.inspector } });
  const inspector = node.inspector!;
  return {
    node,
    hub: inspector.hub,
    inspector,
    async close() {
      await node.stop();
      tmp.cleanup();
    },
  };
}

/** Every event and view a hub hands its subscribers. */
export function collect(hub: InspectorHub): { events: InspectorEvent[]; views: NodeView[]; stop(): void } {
  const events: InspectorEvent[] = [];
  const views: NodeView[] = [];
  const stop = hub.subscribe({ batch: (e, v) => (events.push(...e), v && views.push(...v)) });
  return { events, views, stop };
}

export class Client {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];
  private nextId = 100;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as ServerFrame);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<Client> {
    const ws = new WebSocket(url, options);
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  /** The first frame (from `from` on) that matches, waiting for it up to `ms`. */
  async next<F extends ServerFrame>(match: (f: ServerFrame) => f is F, ms?: number, from?: number): Promise<F>;
  async next(match: (f: ServerFrame) => boolean, ms?: number, from?: number): Promise<ServerFrame>;
  async next(match: (f: ServerFrame) => boolean, ms = 5000, from = 0): Promise<ServerFrame> {
    const end = performance.now() + ms;
    for (;;) {
      const hit = this.frames.slice(from).find(match);
      if (hit) return hit;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) before the frame came`);
      const left = end - performance.now();
      if (left <= 0) throw new Error('frame did not come in time');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  /** Send a request and wait for its reply. */
  async request(body: Record<string, unknown>): Promise<Extract<ServerFrame, { t: 'reply' }>> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, ...body }));
    return (await this.next((f) => f.t === 'reply' && f.id === id)) as Extract<ServerFrame, { t: 'reply' }>;
  }

  async waitClosed(ms = 5000): Promise<{ code: number; reason: string }> {
    const end = performance.now() + ms;
    while (!this.closed) {
      if (performance.now() > end) throw new Error('socket did not close');
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}

export const wsUrl = (httpUrl: string, path = 'ws'): string => httpUrl.replace(/^http/, 'ws') + path;
