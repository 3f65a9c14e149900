// The kill -9 campaign: start the workload's node in a child process, drive a
// seeded stream of orders at it, SIGKILL it at a seeded point (during recovery,
// right after start, under traffic, once idle, or from inside a tool just before
// or after its effect), and again, `kills` times; then
// start it once more, settle what a crash left in doubt as an operator would
// (did the shipment leave? the effects file says), wait for every agent to finish,
// and collect the final state. The returned history is what checker.ts judges.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRng, type Rng } from '../../src/index.js';
import { emptyHistory, type CampaignHistory, type KillMode, type StartRecord } from './history.js';
import { WorkerGone, WorkerProcess } from './process.js';
import type { StateReply, StatusReply, WorkerConfig } from './worker.js';
import { agentIds, EFFECTS_FILE, LEDGER, PAID_FILE, readLines, type DieAt, type Invocation, type Payment } from './workload.js';

export interface CampaignOptions {
  seed: number;
  kills: number;
  /** Order takers (each also tells the one ledger). */
  agents: number;
  /** A directory of the campaign's own: the node's data and the effect files go under it. */
  dataDir: string;
  /** Orders per burst (at most), mean gap between bursts, and the cap on unacknowledged posts. */
  traffic?: { burst?: number; gapMs?: number; maxInFlight?: number };
  /** How long the final run may take to drain the work the kills left (default 60 s). */
  finalTimeoutMs?: number;
  log?: (line: string) => void;
  /** Told after each kill (run number, from 1), for a progress bar. */
  onKill?: (run: number) => void;
  /** Debugging: the worker logs calls and tells to <dataDir>/trace.jsonl. */
  trace?: boolean;
}

interface KillPlan {
  mode: KillMode;
  delayMs: number;
  /** idle mode: traffic before going quiet. */
  trafficMs: number;
  /** effect mode: where inside a tool the worker kills itself. */
  dieAt?: DieAt;
}

/** The kill points, all drawn up front so a seed names the same plan however the runs go. */
export function planKills(seed: number, kills: number): KillPlan[] {
  const rng = seededRng(seed);
  return Array.from({ length: kills }, (): KillPlan => {
    const r = rng.next();
    if (r < 0.12) return { mode: 'recovery', delayMs: rng.int(80), trafficMs: 0 };
    if (r < 0.24) return { mode: 'start', delayMs: rng.int(15), trafficMs: 0 };
    if (r < 0.4) return { mode: 'effect', delayMs: 3000, trafficMs: 0, dieAt: { tool: rng.next() < 0.5 ? 'pay' : 'ship', nth: 1 + rng.int(12), after: rng.next() < 0.5 } };
    if (r < 0.8) return { mode: 'busy', delayMs: 20 + rng.int(400), trafficMs: 0 };
    return { mode: 'idle', delayMs: rng.int(30), trafficMs: 20 + rng.int(200) };
  });
}

export async function runCrashCampaign(options: CampaignOptions): Promise<CampaignHistory> {
  const ids = agentIds(options.agents);
  const history = emptyHistory(options.seed, ids);
  const effectsDir = join(options.dataDir, 'effects');
  mkdirSync(effectsDir, { recursive: true });
  const config: WorkerConfig = { name: 'crash', dataDir: join(options.dataDir, 'node'), effectsDir, agents: options.agents, ...(options.trace ? { trace: join(options.dataDir, 'trace.jsonl') } : {}) };
  const traffic = { burst: options.traffic?.burst ?? 4, gapMs: options.traffic?.gapMs ?? 10, maxInFlight: options.traffic?.maxInFlight ?? 64 };
  const trafficRng = seededRng(options.seed ^ 0x5eed);
  const log = options.log ?? (() => undefined);
  const ctx: RunContext = { history, ids, effectsDir, traffic, trafficRng };

  const plans = planKills(options.seed, options.kills);
  for (let run = 0; run < plans.length; run++) {
    const plan = plans[run]!;
    const w = launch(plan.dieAt ? { ...config, dieAt: plan.dieAt } : config, run, ctx);
    let afterReady = false;
    let driver: Driver | undefined;
    try {
      if (plan.mode === 'recovery') {
        await Promise.race([w.recovering, w.exited]);
        await sleep(plan.delayMs);
      } else {
        await w.ready;
        driver = drive(w, run, ctx);
        if (plan.mode === 'idle') {
          await sleep(plan.trafficMs);
          driver.stopTraffic();
          await waitQuiet(w, ctx, run, 2000);
        }
        if (plan.mode === 'effect') await Promise.race([w.exited, sleep(plan.delayMs)]);
        else await sleep(plan.delayMs);
      }
    } catch (err) {
      if (!(err instanceof WorkerGone)) history.nodeErrors.push({ run, error: (err as Error).message });
    } finally {
      afterReady = w.readyAfterMs !== undefined;
      const postsInFlight = driver?.stop() ?? 0;
      const selfKilled = !w.alive;
      await w.kill();
      // A worker that ended any other way than SIGKILL is in history.died (see launch).
      if ((await w.exited).signal === 'SIGKILL') history.kills.push({ run, mode: plan.mode, delayMs: plan.delayMs, afterReady, postsInFlight, ...(plan.dieAt ? { selfKilled } : {}) });
    }
    const at = plan.dieAt ? `${plan.dieAt.after ? 'after' : 'before'} ${plan.dieAt.tool} #${plan.dieAt.nth}` : `after ${plan.delayMs} ms`;
    log(`run ${run}: ${plan.mode} kill ${at}${afterReady ? '' : ' (before ready)'}; ${history.acked.length}/${history.sent.length} acked`);
    options.onKill?.(run + 1);
  }
  await finish(config, plans.length, ctx, options.finalTimeoutMs ?? 60_000, log);
  history.invocations = readLines<Invocation>(join(effectsDir, EFFECTS_FILE));
  history.payments = readLines<Payment>(join(effectsDir, PAID_FILE));
  return history;
}

interface RunContext {
  history: CampaignHistory;
  ids: string[];
  effectsDir: string;
  traffic: { burst: number; gapMs: number; maxInFlight: number };
  trafficRng: Rng;
}

/** Fork a worker and record its start (when it gets there) and an unplanned death. */
function launch(config: WorkerConfig, run: number, ctx: RunContext): WorkerProcess {
  const w = new WorkerProcess(config);
  w.ready.then(
    (e) => {
      const start: StartRecord = { run, pid: e.pid, forkToReadyMs: w.readyAfterMs!, recovery: e.recovery, spawned: e.spawned, verify: e.verify };
      ctx.history.starts.push(start);
    },
    () => undefined,
  );
  void w.exited.then((how) => {
    if (how.signal !== 'SIGKILL' && !(how.code === 0 && stoppedCleanly.has(w))) ctx.history.died.push({ run, reason: `exited with ${how.code ?? how.signal}`, stderr: w.errors });
  });
  return w;
}

const stoppedCleanly = new WeakSet<WorkerProcess>();

/** Large order notes (blob-stored), few so that orders share them. */
const NOTES = ['gift wrap', 'leave at the door', 'fragile'].map((n, i) => `${n}: ${String(i).repeat(1500)}`);

interface Driver {
  stopTraffic(): void;
  /** Stop traffic and the operator; returns the posts still unacknowledged. */
  stop(): number;
}

/** Orders at the worker in seeded bursts, and an operator settling in-doubt calls, until stopped. */
function drive(w: WorkerProcess, run: number, ctx: RunContext): Driver {
  const { history, ids, traffic, trafficRng: rng } = ctx;
  let sending = true;
  let operating = true;
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    if (!sending || !w.alive) return;
    const n = 1 + rng.int(traffic.burst);
    for (let i = 0; i < n && inFlight < traffic.maxInFlight; i++) {
      const agent = ids[rng.int(ids.length)]!;
      const r = rng.next();
      if (r < 0.06) {
        // Now and then an ask (a turn whose reply a re-run must not send) or a checkpoint by hand.
        w.request(r < 0.03 ? { cmd: 'ask', agent } : { cmd: 'checkpoint', agent }).catch((err: unknown) => {
          if (!(err instanceof WorkerGone)) history.nodeErrors.push({ run, error: `${r < 0.03 ? 'ask' : 'checkpoint'} ${agent}: ${(err as Error).message}` });
        });
        continue;
      }
      const id = `o${history.sent.length}`;
      const amount = 1 + rng.int(100);
      const note = rng.next() < 0.1 ? NOTES[rng.int(NOTES.length)] : undefined;
      history.sent.push({ id, agent, amount, run });
      inFlight++;
      w.request({ cmd: 'post', agent, message: { type: 'order', id, amount, ...(note === undefined ? {} : { note }) } })
        .then(
          () => void history.acked.push(id),
          (err: unknown) => {
            if (!(err instanceof WorkerGone)) history.refused.push({ id, error: (err as Error).message });
          },
        )
        .finally(() => inFlight--);
    }
    timer = setTimeout(tick, rng.int(2 * traffic.gapMs + 1));
  };
  tick();
  void (async () => {
    while (operating && w.alive) {
      try {
        await operate(w, run, ctx);
      } catch (err) {
        if (!(err instanceof WorkerGone)) history.nodeErrors.push({ run, error: `operator: ${(err as Error).message}` });
      }
      await sleep(40);
    }
  })();
  const stopTraffic = (): void => {
    sending = false;
    clearTimeout(timer);
  };
  return {
    stopTraffic,
    stop: () => {
      stopTraffic();
      operating = false;
      return inFlight;
    },
  };
}

/**
 * One operator pass: for each non-idempotent call in doubt, look in the effects file
 * whether it ran. If it did, settle it with the result it had; if not, with a failure
 * (the order taker then ships again under a new key).
 */
async function operate(w: WorkerProcess, run: number, ctx: RunContext): Promise<StatusReply> {
  const status = await w.request<StatusReply>({ cmd: 'status' });
  const open = status.inDoubt.filter((c) => c.idempotent === false);
  if (open.length === 0) return status;
  const ran = new Map(readLines<Invocation>(join(ctx.effectsDir, EFFECTS_FILE)).map((i) => [i.key, i]));
  for (const c of open) {
    const seen = ran.get(c.key);
    const resolution = seen ? { result: { shipped: seen.args.order } } : { failure: { name: 'NotShipped', code: 'NOT_SHIPPED', message: `operator: nothing shipped under ${c.key}` } };
    const record = { run, key: c.key, actor: c.actor, effectSeen: seen !== undefined, outcome: seen ? ('result' as const) : ('failure' as const) };
    try {
      await w.request({ cmd: 'resolve', key: c.key, resolution });
      ctx.history.resolutions.push(record);
    } catch (err) {
      if (err instanceof WorkerGone) throw err;
      ctx.history.resolutions.push({ ...record, error: (err as Error).message }); // e.g. resumed meanwhile: no longer in doubt
    }
  }
  return status;
}

/** Every order taker idle with nothing queued, mailboxes empty, nothing in doubt. */
function quiet(status: StatusReply, ids: string[]): boolean {
  if (status.inDoubt.length > 0) return false;
  return [LEDGER, ...ids].every((id) => {
    const a = status.actors[id];
    if (a === undefined || a.status !== 'running' || a.mailbox > 0) return false;
    return id === LEDGER || (a.state === 'idle' && a.queue === 0);
  });
}

/** Operate until quiet (resolving what is in doubt) or `ms` pass; returns the last status. */
async function waitQuiet(w: WorkerProcess, ctx: RunContext, run: number, ms: number): Promise<{ quiet: boolean; status: StatusReply | undefined }> {
  const end = performance.now() + ms;
  let status: StatusReply | undefined;
  while (performance.now() < end) {
    status = await operate(w, run, ctx);
    if (quiet(status, ctx.ids)) return { quiet: true, status };
    await sleep(25);
  }
  return { quiet: false, status };
}

/** The last run: drain, settle, read the state; then stop cleanly, start once more and read it again. */
async function finish(config: WorkerConfig, run: number, ctx: RunContext, timeoutMs: number, log: (line: string) => void): Promise<void> {
  const { final } = ctx.history;
  const started = performance.now();
  const w = launch(config, run, ctx);
  try {
    await w.ready;
    let state: StateReply | undefined;
    while (performance.now() - started < timeoutMs) {
      const { quiet: isQuiet, status } = await waitQuiet(w, ctx, run, Math.max(0, timeoutMs - (performance.now() - started)));
      final.status = status;
      if (!isQuiet) break;
      // The asks queue behind any turns still being run again, so the replies are the settled state.
      state = await w.request<StateReply>({ cmd: 'state' });
      if (Object.values(state.agents).every((a) => a.queue === 0 && a.state === 'idle')) {
        final.quiescent = true;
        break;
      }
    }
    final.waitedMs = performance.now() - started;
    final.state = state ?? (await w.request<StateReply>({ cmd: 'state' }).catch(() => undefined));
    stoppedCleanly.add(w);
    await w.request({ cmd: 'stop' });
    await w.exited;
    log(`final run: ${final.quiescent ? 'quiet' : 'NOT quiet'} after ${Math.round(final.waitedMs)} ms`);
    if (!final.quiescent) return;
    const again = launch(config, run + 1, ctx);
    await again.ready;
    final.afterRestart = await again.request<StateReply>({ cmd: 'state' });
    stoppedCleanly.add(again);
    await again.request({ cmd: 'stop' });
    await again.exited;
  } catch (err) {
    final.error = err instanceof Error ? `${err.message}\n${w.errors}` : String(err);
    await w.kill();
  }
}
