// The parent's side of the partition tests: node processes (partition-node.ts,
// forked through tsx) behind a LinkSwitch, each advertising its front port, so
// the test can cut any directed link between them.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DowningStrategy } from '../../../src/cluster/membership/index.js';
import { tempDir } from '../../support/tmp.js';
import { IpcNode } from './ipc-node.js';
import { LinkSwitch } from './link-switch.js';
import type { PartitionNodeConfig } from './partition-node.js';

const SCRIPT = fileURLToPath(new URL('./partition-node.ts', import.meta.url));
const SECRET = 'partition-cluster-secret-0123456789';

export type NodeEvent = { event: string; at: number; node?: string; id?: string; [k: string]: unknown };
export type MemberView = { nodeId: string; status: string; incarnation: number };

export class PartitionNode extends IpcNode<NodeEvent> {
  constructor(override readonly config: PartitionNodeConfig) {
    super(SCRIPT, config);
  }

  members(): Promise<MemberView[]> {
    return this.call<MemberView[]>({ cmd: 'members' });
  }

  /** Status of `id` on this node (undefined: not hosted here), and whether this node is quorate. */
  status(id: string): Promise<{ status: string; incarnation: number; turn: number; mailbox: number; quorate: boolean; checkpoint?: string } | null> {
    return this.call({ cmd: 'status', id });
  }

  /** The first time (ms) this node reported `event` (for `node`, if given) at or after `since`. */
  firstAt(event: string, options: { node?: string; id?: string; since?: number } = {}): number | undefined {
    return this.events.find((e) => e.event === event && e.at >= (options.since ?? 0) && (options.node === undefined || e.node === options.node) && (options.id === undefined || e.id === options.id))?.at;
  }
}

export async function until(check: () => Promise<boolean> | boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface PartitionCluster {
  nodes: PartitionNode[];
  links: LinkSwitch;
  /** Where the ledger's tool calls are recorded (see ledger.ts). */
  effectsDir: string;
  stop(): Promise<void>;
}

/** Start nodes behind a switch (the first forms the cluster, the others join through its front port) and wait until all see all up. */
export async function startPartitionCluster(names: string[], options: { downing?: DowningStrategy; chargeMs?: number; replicas?: number } = {}): Promise<PartitionCluster> {
  const tmp = tempDir('agentos-partition-');
  const effectsDir = join(tmp.dir, 'effects');
  mkdirSync(effectsDir, { recursive: true });
  const links = new LinkSwitch();
  const fronts: string[] = [];
  const ports: number[] = [];
  for (const name of names) {
    const port = await freePort();
    ports.push(port);
    fronts.push(`ws://127.0.0.1:${await links.add(name, port)}`);
  }
  const config = (i: number, seeds: string[]): PartitionNodeConfig => ({
    name: names[i]!,
    dataDir: join(tmp.dir, names[i]!),
    secret: SECRET,
    seeds,
    port: ports[i]!,
    advertise: fronts[i]!,
    effectsDir,
    chargeMs: options.chargeMs ?? 50,
    ...(options.downing ? { downing: options.downing } : {}),
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
  });
  const nodes: PartitionNode[] = [];
  const stop = async (): Promise<void> => {
    for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    await links.close();
    tmp.cleanup();
  };
  try {
    nodes.push(new PartitionNode(config(0, [])));
    await nodes[0]!.started();
    for (let i = 1; i < names.length; i++) nodes.push(new PartitionNode(config(i, [`${names[0]}@${fronts[0]}`])));
    await Promise.all(nodes.map((n) => n.started()));
    const all = [...names].sort().join();
    for (const n of nodes) await until(async () => (await n.members()).filter((m) => m.status === 'up').map((m) => m.nodeId).sort().join() === all, 30_000, `${n.name} seeing every node up`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, links, effectsDir, stop };
}
