// The parent's handle on mobile-node processes (forked through tsx), and a small
// cluster of them on 127.0.0.1.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../../support/tmp.js';

const SCRIPT = fileURLToPath(new URL('./mobile-node.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
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

export class MobileNode {
  readonly child: ChildProcess;
  readonly events: NodeEvent[] = [];
  url = '';
  readonly exited: Promise<number | null>;
  private rid = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly ready: Promise<void>;

  constructor(readonly config: NodeConfig) {
    this.child = fork(SCRIPT, [JSON.stringify(config)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    this.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        for (const w of this.waiting.values()) w.reject(new Error(`node ${config.name} exited (${code}): ${stderr.slice(-2000)}`));
        this.waiting.clear();
        resolve(code);
      }),
    );
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: { ready?: boolean; url?: string; rid?: number; ok?: boolean; value?: unknown; code?: string; field?: string; message?: string } & NodeEvent) => {
        if (m.ready) {
          this.url = m.url!;
          resolve();
        } else if (m.rid !== undefined) {
          const w = this.waiting.get(m.rid);
          this.waiting.delete(m.rid);
          if (m.ok) w?.resolve(m.value);
          else w?.reject(Object.assign(new Error(m.message), { code: m.code, field: m.field }));
        } else if (m.event) this.events.push(m);
      });
      void this.exited.then((code) => reject(new Error(`node ${config.name} exited (${code}) before ready: ${stderr.slice(-2000)}`)));
    });
  }

  get name(): string {
    return this.config.name;
  }

  started(): Promise<void> {
    return this.ready;
  }

  call<T = unknown>(command: Record<string, unknown>): Promise<T> {
    const rid = ++this.rid;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(rid, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...command, rid });
    });
  }

  kill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
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
