// A cluster node in a child process (forked through tsx), driven over IPC: the
// child answers `{ rid, ok, value }` or `{ rid, ok: false, code, field, message }`
// to each command, says `{ ready, url? }` once up, and reports `{ event, … }`.
// The harnesses of the cluster, migration and partition tests extend this.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Answer {
  ready?: boolean;
  url?: string;
  rid?: number;
  ok?: boolean;
  value?: unknown;
  code?: string;
  field?: string;
  message?: string;
  event?: string;
}

export class IpcNode<E extends { event: string }> {
  readonly child: ChildProcess;
  readonly events: E[] = [];
  url = '';
  readonly exited: Promise<number | null>;
  private rid = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly ready: Promise<void>;

  constructor(script: string, readonly config: { name: string }) {
    this.child = fork(script, [JSON.stringify(config)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
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
      this.child.on('message', (m: Answer) => {
        if (m.ready) {
          if (m.url !== undefined) this.url = m.url;
          resolve();
        } else if (m.rid !== undefined) {
          const w = this.waiting.get(m.rid);
          this.waiting.delete(m.rid);
          if (m.ok) w?.resolve(m.value);
          else w?.reject(Object.assign(new Error(m.message), { code: m.code, field: m.field }));
        } else if (m.event) this.events.push(m as unknown as E);
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
