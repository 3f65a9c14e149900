// Worker sandboxes for tools marked `sandbox: 'worker'`: piscina pools of worker
// threads, one pool per distinct set of resource limits, so a hung, crashing or
// memory-hungry tool takes down one thread and never the node.
//
// Design. A worker thread cannot receive a closure, so a worker tool is named by
// where it lives: the worker imports the tool's module by file URL and runs its
// `execute` (sandbox-worker.ts). The module must be importable without side
// effects (define the tool in its own file). Arguments go in and results come back
// by structured clone; the result must be JSON data. The time limit is a timer on
// the registry's Clock that aborts the task (piscina terminates the thread) →
// TOOL_TIMEOUT; the memory limit is the worker's `resourceLimits` → TOOL_SANDBOX_LIMIT
// when V8 runs out; any other death of the thread → TOOL_CRASHED. The time limit
// counts from submission, so time queued behind busy threads counts too. Threads
// start on demand, exit when idle and never keep the process alive.
//
// Running from TypeScript sources (vitest, tsx), the worker entry and the tool
// module are `.ts`: the pool then starts its threads with tsx's loader (`--import
// tsx` for the entry, tsx's ESM API registered in the thread for tool modules).
// The built package (`dist/`) needs none of that.
//
// A pool whose threads cannot start fails its calls with TOOL_SANDBOX_LOAD at
// once rather than at their time limit. When piscina throws while starting a
// thread inside `run` (Node refused the worker's options), it keeps that task
// queued with a promise nobody holds: settling it (destroy, abort) would be an
// unhandled rejection, so such a pool is retired — its threads terminated, the
// pool itself never destroyed — and the next call starts a fresh one.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Clock } from '../../base/clock.js';
import { AgentOsError } from '../../base/errors.js';
import { tsxLoader, workerSafeFlag } from '../../base/worker-loader.js';
import { ToolCodes, ToolError } from './errors.js';
import type { SandboxReply, SandboxTask } from './sandbox-worker.js';

export type { SandboxTask } from './sandbox-worker.js';

export interface SandboxLimits {
  timeoutMs: number;
  memoryMb: number;
  youngMb?: number;
  stackMb?: number;
}

export interface WorkerSandboxOptions {
  clock: Clock;
  /** Threads per pool. Default 2. */
  maxThreads?: number;
  /** An idle thread exits after this long (piscina's own timer). Default 10 s. */
  idleTimeoutMs?: number;
  /** More Node flags for the worker threads (after the loader flags); Node refuses per-process ones. */
  execArgv?: readonly string[];
}

/** One call in a pool: its abort (time limit, or the pool's threads cannot start) and why it was aborted. */
interface RunState {
  abort: AbortController;
  why: { kind: 'timeout' } | { kind: 'load'; message: string } | undefined;
}

interface Pool {
  piscina: Piscina<SandboxTask, SandboxReply>;
  runs: Set<RunState>;
}

const HERE = import.meta.url;
const FROM_SOURCE = HERE.endsWith('.ts');

export class WorkerSandbox {
  private readonly pools = new Map<string, Pool>();
  private closing: Promise<void> | undefined;
  private readonly loader = FROM_SOURCE ? tsxLoader(HERE) : undefined;

  constructor(private readonly options: WorkerSandboxOptions) {}

  /** Run a task; resolves with the tool's result or rejects with a ToolError. */
  async run(task: SandboxTask, limits: SandboxLimits): Promise<unknown> {
    if (this.closing) throw closed(task.tool);
    const pool = this.pool(limits);
    const run: RunState = { abort: new AbortController(), why: undefined };
    const timer = this.options.clock.setTimeout(() => {
      run.why ??= { kind: 'timeout' };
      run.abort.abort();
    }, limits.timeoutMs);
    pool.runs.add(run);
    let reply: SandboxReply;
    try {
      reply = await this.submit(pool, task, run);
    } catch (err) {
      if (err instanceof ToolError) throw err;
      if (run.why?.kind === 'timeout') {
        throw new ToolError(ToolCodes.timeout, `tool "${task.tool}" ran past its time limit of ${limits.timeoutMs} ms; its worker was terminated`, { field: 'timeoutMs' });
      }
      if (run.why?.kind === 'load') throw cannotStart(task.tool, run.why.message);
      if ((err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new ToolError(ToolCodes.sandboxLimit, `tool "${task.tool}" exceeded its sandbox memory limit of ${limits.memoryMb} MiB; its worker was discarded`, {
          field: 'sandbox.memoryMb',
        });
      }
      if (this.closing) throw closed(task.tool);
      throw new ToolError(ToolCodes.crashed, `tool "${task.tool}": its worker died: ${(err as Error)?.message ?? String(err)}`, { field: 'sandbox' });
    } finally {
      this.options.clock.clearTimeout(timer);
      pool.runs.delete(run);
    }
    if (reply.ok) return reply.value;
    switch (reply.kind) {
      case 'load':
        throw new ToolError(ToolCodes.sandboxLoad, `tool "${task.tool}": the worker could not load it: ${reply.message}`, { field: 'sandbox.module' });
      case 'output':
        throw new ToolError(ToolCodes.invalidOutput, `tool "${task.tool}" output invalid: ${reply.message}`, { field: 'output' });
      default:
        if (reply.code !== undefined) throw new AgentOsError(reply.code, reply.message, { ...(reply.field === undefined ? {} : { field: reply.field }) });
        throw new ToolError(ToolCodes.failed, `tool "${task.tool}" failed: ${reply.name}: ${reply.message}`, { field: 'execute', details: { error: reply.name } });
    }
  }

  /** Live worker threads, over all pools. */
  get threads(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.piscina.threads.length;
    return n;
  }

  /** Terminate every thread; calls in flight fail with TOOL_SANDBOX_CLOSED. Never rejects. */
  close(): Promise<void> {
    return (this.closing ??= Promise.allSettled([...this.pools.values()].map((p) => p.piscina.destroy())).then(() => {
      this.pools.clear();
    }));
  }

  private submit(pool: Pool, task: SandboxTask, run: RunState): Promise<SandboxReply> {
    try {
      return pool.piscina.run(task, { signal: run.abort.signal });
    } catch (err) {
      // piscina threw while starting a thread; it still holds the task (see the top of this file).
      this.retire(pool);
      throw cannotStart(task.tool, (err as Error)?.message ?? String(err));
    }
  }

  /** Take a pool out of use without settling what piscina holds: terminate its threads, never destroy it. */
  private retire(pool: Pool): void {
    for (const [key, p] of this.pools) if (p === pool) this.pools.delete(key);
    // A thread left alive would, once free, run the task piscina kept for nobody.
    for (const thread of pool.piscina.threads) void thread.terminate().catch(() => undefined);
  }

  private pool(limits: SandboxLimits): Pool {
    const key = `${limits.memoryMb}/${limits.youngMb ?? '-'}/${limits.stackMb ?? '-'}`;
    const known = this.pools.get(key);
    if (known) return known;
    const extra = [...(this.options.execArgv ?? [])];
    const piscina = new Piscina<SandboxTask, SandboxReply>({
      filename: fileURLToPath(new URL(FROM_SOURCE ? './sandbox-worker.ts' : './sandbox-worker.js', HERE)),
      minThreads: 0,
      maxThreads: this.options.maxThreads ?? 2,
      idleTimeout: this.options.idleTimeoutMs ?? 10_000,
      resourceLimits: {
        maxOldGenerationSizeMb: limits.memoryMb,
        ...(limits.youngMb === undefined ? {} : { maxYoungGenerationSizeMb: limits.youngMb }),
        ...(limits.stackMb === undefined ? {} : { stackSizeMb: limits.stackMb }),
      },
      // From sources, workers need tsx's loader; the process's own flags are not passed on, since Node
      // refuses per-process ones (--expose-gc, --max-old-space-size) in a worker's execArgv.
      ...(this.loader
        ? { execArgv: [...process.execArgv.filter(workerSafeFlag), '--import', this.loader.cjs, ...extra], workerData: { tsx: this.loader.esm } }
        : extra.length > 0
          ? { execArgv: extra }
          : {}),
    });
    const pool: Pool = { piscina, runs: new Set() };
    // A worker's death is reported through the task it was running; the pool replaces the thread.
    // An error with no thread left is a thread that could not start: the calls waiting for one fail now.
    piscina.on('error', (err: unknown) => {
      if (piscina.threads.length > 0) return;
      const message = (err as Error)?.message ?? String(err);
      for (const run of pool.runs) {
        run.why ??= { kind: 'load', message };
        run.abort.abort();
      }
    });
    this.pools.set(key, pool);
    return pool;
  }
}

function cannotStart(tool: string, why: string): ToolError {
  return new ToolError(ToolCodes.sandboxLoad, `tool "${tool}": the sandbox could not start a worker thread: ${why}`, { field: 'sandbox' });
}

function closed(tool: string): ToolError {
  return new ToolError(ToolCodes.closed, `tool "${tool}": the tool registry was closed`, { field: 'sandbox' });
}

