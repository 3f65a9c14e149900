// The parent's handle on cluster nodes in child processes (fork through tsx).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NODE = fileURLToPath(new URL('./cluster-node.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface NodeEvent {
  event: string;
  node?: string;
  reason?: string;
}

export class NodeProcess {
  readonly child: ChildProcess;
  readonly events: NodeEvent[] = [];
  url = '';
  readonly exited: Promise<number | null>;
  private rid = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly ready: Promise<void>;

  constructor(config: { name: string; dataDir: string; secret: string; seeds: string[]; heartbeatIntervalMs?: number }) {
    this.child = fork(NODE, [JSON.stringify(config)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    this.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`node ${config.name} exited (${code}): ${stderr.slice(-2000)}`));
      this.waiting.clear();
      resolve(code);
    }));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: { ready?: boolean; url?: string; rid?: number; ok?: boolean; value?: unknown; code?: string; message?: string } & NodeEvent) => {
        if (m.ready) {
          this.url = m.url!;
          resolve();
        } else if (m.rid !== undefined) {
          const w = this.waiting.get(m.rid);
          this.waiting.delete(m.rid);
          if (m.ok) w?.resolve(m.value);
          else w?.reject(Object.assign(new Error(m.message), { code: m.code }));
        } else if (m.event) this.events.push(m);
      });
      void this.exited.then((code) => reject(new Error(`node ${config.name} exited (${code}) before ready: ${stderr.slice(-2000)}`)));
    });
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
