// The process the crash harness SIGKILLs: one agentos node hosting the workload's
// persistent order takers and ledger, driven over IPC. It says `recovering` just
// before createNode (so a kill can land inside recovery) and `ready`, with the
// recovery report, once every order taker is up. Each command gets one reply;
// a `post` is acknowledged only after `ref.post` resolved (the order is journaled).
//
//   fork('test/crash/worker.ts', [JSON config], { execArgv: ['--import', 'tsx'] })

import { appendFileSync } from 'node:fs';
import { createNode, type AgentOsNode, type Resolution } from '../../src/index.js';
import { agentIds, LEDGER, workloadAgents, workloadTools, type DieAt, type WorkloadState } from './workload.js';

export interface WorkerConfig {
  name: string;
  dataDir: string;
  /** Where the tools write effects.jsonl and paid.jsonl. */
  effectsDir: string;
  agents: number;
  /** Kill this process from inside a tool at this point (the campaign's `effect` kills). */
  dieAt?: DieAt;
  /** Debugging: append every call, its outcome, every tell and resolution to this JSON-lines file. */
  trace?: string;
}

/** Parent → worker. */
export type Command =
  | { rid: number; cmd: 'post'; agent: string; message: { type: 'order'; id: string; amount: number; note?: string } }
  | { rid: number; cmd: 'ask'; agent: string }
  | { rid: number; cmd: 'checkpoint'; agent: string }
  | { rid: number; cmd: 'status' }
  | { rid: number; cmd: 'resolve'; key: string; resolution: Resolution }
  | { rid: number; cmd: 'state' }
  | { rid: number; cmd: 'stop' };

/** What `status` reports of one actor (no message is sent to it). */
export interface ActorStatus {
  status: string;
  state: unknown;
  mailbox: number;
  /** Orders queued in the machine's context (order takers only). */
  queue: number | undefined;
}

export interface StatusReply {
  actors: Record<string, ActorStatus | undefined>;
  inDoubt: Array<{ key: string; actor: string; idempotent: boolean | 'key'; attempt: number }>;
}

export interface StateReply {
  agents: Record<string, WorkloadState>;
  ledger: string[];
}

/** Worker → parent. */
export type Event =
  | { type: 'recovering'; pid: number }
  | { type: 'ready'; pid: number; recovery: AgentOsNode['durability']['recovery']; spawned: string[]; verify: { ok: boolean; detail?: string } }
  | { type: 'reply'; rid: number; ok: true; value?: unknown }
  | { type: 'reply'; rid: number; ok: false; error: string; code?: string }
  | { type: 'fatal'; error: string };

const say = (e: Event): void => void process.send?.(e);

async function main(config: WorkerConfig): Promise<void> {
  const ids = agentIds(config.agents);
  const workload = workloadAgents(config.agents);
  say({ type: 'recovering', pid: process.pid });
  const node = await createNode({
    name: config.name,
    dataDir: config.dataDir,
    agents: [...workload.definitions, workload.ledger],
    tools: workloadTools(config.effectsDir, config.dieAt),
    ...(config.trace ? { inspect: inspector(config.trace, new Set(ids)) } : {}),
  });
  // First run (or a kill before a spawn was registered): spawn what recovery did not bring back.
  // An actor recovery held stays down (the checker sees it in the report), never spawned over.
  const { recovery } = node.durability;
  const stored = new Set([...recovery.restored, ...recovery.held.map((h) => h.id)]);
  const spawned: string[] = [];
  if (!stored.has(LEDGER) && !node.lookup(LEDGER)) {
    await node.spawn(workload.ledger, { id: LEDGER, restart: 'permanent' });
    spawned.push(LEDGER);
  }
  for (const id of ids) {
    if (stored.has(id) || node.lookup(id)) continue;
    await node.spawn(workload.of(id), { id, input: { ledger: LEDGER }, restart: 'permanent' });
    spawned.push(id);
  }
  if (config.trace) traceNode(node, config.trace);
  const v = node.durability.verify();
  const verify = v.ok ? { ok: true } : { ok: false, detail: JSON.stringify(v) };
  say({ type: 'ready', pid: process.pid, recovery, spawned, verify });

  const handle = async (c: Command): Promise<unknown> => {
    switch (c.cmd) {
      case 'post':
        return node.lookup(c.agent)!.post(c.message);
      case 'ask':
        await node.lookup(c.agent)!.ask({ type: 'get' }, { timeoutMs: 20_000 });
        return undefined;
      case 'checkpoint':
        return node.lookup(c.agent)!.checkpoint();
      case 'status':
        return status(node, [LEDGER, ...ids]);
      case 'resolve':
        return node.durability.resolve(c.key, c.resolution, 'crash-harness operator');
      case 'state': {
        const agents: Record<string, WorkloadState> = {};
        for (const id of ids) agents[id] = await node.lookup(id)!.ask<WorkloadState>({ type: 'get' }, { timeoutMs: 30_000 });
        const ledger = await node.lookup(LEDGER)!.ask<string[]>({ type: 'get' }, { timeoutMs: 30_000 });
        return { agents, ledger } satisfies StateReply;
      }
      case 'stop':
        await node.stop();
        return undefined;
    }
  };
  process.on('message', (c: Command) => {
    handle(c).then(
      (value) => {
        say({ type: 'reply', rid: c.rid, ok: true, ...(value === undefined ? {} : { value }) });
        if (c.cmd === 'stop') process.disconnect();
      },
      (err: unknown) => say({ type: 'reply', rid: c.rid, ok: false, error: (err as Error)?.message ?? String(err), ...((err as { code?: string })?.code ? { code: (err as { code: string }).code } : {}) }),
    );
  });
}

/** Debugging aid: every event an order taker's machine receives (orders, call results), replays included. */
function inspector(file: string, ids: Set<string>): (e: { type: string; actorRef?: unknown; event?: unknown }) => void {
  return (e) => {
    if (e.type !== '@xstate.event') return;
    const id = (e.actorRef as { id?: string } | undefined)?.id;
    const ev = e.event as { type: string; id?: string; output?: unknown; error?: unknown };
    if (id === undefined || !ids.has(id) || ev.type.startsWith('xstate.init')) return;
    appendFileSync(file, JSON.stringify({ pid: process.pid, ev: 'xs', id, type: ev.type, order: ev.id, output: ev.output, error: (ev.error as Error | undefined)?.message }) + '\n');
  };
}

/** Debugging aid: log the kernel's calls (key, tool, args, outcome) and tells, to line up against effects.jsonl. */
function traceNode(node: AgentOsNode, file: string): void {
  const k = node.kernel as unknown as Record<string, (...a: any[]) => any>;
  const line = (o: object): void => appendFileSync(file, JSON.stringify({ pid: process.pid, ...o }) + '\n');
  const syscall = k.syscall!.bind(node.kernel);
  k.syscall = (actor: string, request: { name: string; args?: unknown }, signal?: AbortSignal, key?: string) => {
    line({ ev: 'call', actor, key, tool: request.name, args: request.args });
    const p = syscall(actor, request, signal, key) as Promise<unknown>;
    p.then(
      (value) => line({ ev: 'done', actor, key, value }),
      (err: unknown) => line({ ev: 'error', actor, key, error: (err as Error)?.message }),
    );
    return p;
  };
  const tell = k.tell!.bind(node.kernel);
  k.tell = (from: { id: string; turn: number; effectIndex: number }, to: string, message: unknown, options?: unknown) => {
    line({ ev: 'tell', from: from.id, at: [from.turn, from.effectIndex], to, message });
    return tell(from, to, message, options);
  };
  line({ ev: 'ready', recovery: node.durability.recovery });
}

function status(node: AgentOsNode, ids: string[]): StatusReply {
  const actors: StatusReply['actors'] = {};
  for (const id of ids) {
    const d = node.kernel.describe(id);
    const ctx = node.lookup(id)?.getSnapshot()?.context as { queue?: unknown[] } | undefined;
    actors[id] = d === undefined ? undefined : { status: String(d.status), state: d.state, mailbox: Number(d.mailbox), queue: Array.isArray(ctx?.queue) ? ctx.queue.length : undefined };
  }
  const inDoubt = node.durability.inDoubt().map((c) => ({ key: c.key, actor: c.actor, idempotent: c.idempotent, attempt: c.attempt }));
  return { actors, inDoubt };
}

if (process.argv[1]?.endsWith('worker.ts') && process.send) {
  main(JSON.parse(process.argv[2]!) as WorkerConfig).catch((err: unknown) => {
    say({ type: 'fatal', error: (err as Error)?.stack ?? String(err) });
    process.exitCode = 1;
    process.disconnect();
  });
}
