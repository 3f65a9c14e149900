// The parent's handle on one worker process: fork it (TypeScript through tsx, as
// the effect-journal crash test does), wait for `recovering` / `ready`, send it
// commands and await their replies, SIGKILL it. Requests still open when the
// process dies reject with WorkerGone.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command, Event, WorkerConfig } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type ReadyEvent = Extract<Event, { type: 'ready' }>;
type Request = Command extends infer C ? (C extends { rid: number } ? Omit<C, 'rid'> : never) : never;

export class WorkerGone extends Error {
  constructor(readonly reason: string) {
    super(`the worker is gone: ${reason}`);
  }
}

export class WorkerRefused extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export class WorkerProcess {
  readonly forkedAt = performance.now();
  /** Resolves when the worker is about to open its node. */
  readonly recovering: Promise<void>;
  /** Resolves with the ready event; rejects if the worker dies first. */
  readonly ready: Promise<ReadyEvent>;
  /** Resolves when the process has exited (how it ended). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Time from fork to ready (ms, wall clock), once ready. */
  readyAfterMs: number | undefined;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private rid = 0;
  private stderr = '';
  private gone: string | undefined;
  private killedByUs = false;

  constructor(config: WorkerConfig) {
    this.child = fork(WORKER, [JSON.stringify(config)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-8000);
    });
    let onRecovering!: () => void;
    let onReady!: (e: ReadyEvent) => void;
    let onFail!: (e: Error) => void;
    this.recovering = new Promise<void>((r) => (onRecovering = r));
    this.ready = new Promise<ReadyEvent>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.ready.catch(() => undefined);
    this.child.on('message', (e: Event) => {
      if (e.type === 'recovering') onRecovering();
      else if (e.type === 'ready') {
        this.readyAfterMs = performance.now() - this.forkedAt;
        onReady(e);
      } else if (e.type === 'fatal') {
        this.stderr += `\nfatal: ${e.error}`;
        onFail(new WorkerGone(`fatal: ${e.error}`));
      }
      else if (e.type === 'reply') {
        const p = this.pending.get(e.rid);
        this.pending.delete(e.rid);
        if (e.ok) p?.resolve(e.value);
        else p?.reject(new WorkerRefused(e.error, e.code));
      }
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.gone = signal === 'SIGKILL' && this.killedByUs ? 'killed' : `exited with ${code ?? signal}`;
        const err = new WorkerGone(this.gone);
        onFail(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.gone === undefined;
  }

  /** Whatever the worker wrote to stderr (the last few KB). */
  get errors(): string {
    return this.stderr;
  }

  request<T = unknown>(command: Request): Promise<T> {
    if (this.gone !== undefined || !this.child.connected) return Promise.reject(new WorkerGone(this.gone ?? 'disconnected'));
    const rid = ++this.rid;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(rid, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...command, rid } as Command, (err) => {
        if (!err) return;
        this.pending.delete(rid);
        reject(new WorkerGone(err.message));
      });
    });
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.gone === undefined) {
      this.killedByUs = true;
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
