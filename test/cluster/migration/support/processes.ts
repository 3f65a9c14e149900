// The parent's handle on mobile-node processes (forked through tsx), and a small
// cluster of them on 127.0.0.1.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../../support/tmp.js';
import { IpcNode } from '../../support/ipc-node.js';

const SCRIPT = fileURLToPath(new URL('./mobile-node.ts', import.meta.url));
export const SECRET = 'test-mobility-secret-0123456789';

export interface NodeConfig {
  name: string;
  dataDir: string;
  secret: string;
  seeds: string[];
  placement?: 'edge' | 'on_prem' | 'cloud';
  replicas?: number;
  payFile?: string;
  payMs?: number;
  solo?: boolean;
  fast?: boolean;
}

export type NodeEvent = { event: string; node?: string; [k: string]: unknown };

export class MobileNode extends IpcNode<NodeEvent> {
  constructor(override readonly config: NodeConfig) {
    super(SCRIPT, config);
  }
}

export async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function upIds(n: MobileNode): Promise<string[]> {
  return (await n.call<{ nodeId: string; status: string }[]>({ cmd: 'members' })).filter((m) => m.status === 'up').map((m) => m.nodeId).sort();
}

/** Start nodes (the first forms the cluster, the others join through it) and wait until all see each other up. */
export async function startCluster(configs: Array<Partial<NodeConfig> & { name: string }>): Promise<{ nodes: MobileNode[]; stop: () => Promise<void>; dir: string }> {
  const tmp = tempDir('agentos-mobility-');
  const nodes: MobileNode[] = [];
  const first = new MobileNode({ dataDir: join(tmp.dir, configs[0]!.name), secret: SECRET, seeds: [], ...configs[0]! });
  nodes.push(first);
  await first.started();
  for (const c of configs.slice(1)) nodes.push(new MobileNode({ dataDir: join(tmp.dir, c.name), secret: SECRET, seeds: [`${configs[0]!.name}@${first.url}`], ...c }));
  await Promise.all(nodes.map((n) => n.started()));
  const all = configs.map((c) => c.name).sort().join();
  for (const n of nodes) await until(async () => (await upIds(n)).join() === all, 30_000);
  return {
    nodes,
    dir: tmp.dir,
    async stop() {
      for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
      await Promise.all(nodes.map((n) => n.exited));
      tmp.cleanup();
    },
  };
}
