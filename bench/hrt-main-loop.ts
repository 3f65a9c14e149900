// The baseline of `npm run bench:hrt`: the same guard machine, the same 10 ms
// period and the same dispatcher (periodic EDF, skip on a passed deadline, the
// same accounting), but on the main thread, woken by setTimeout — what an HRT
// actor gets without a lane. It shares the event loop with the flood.

import { createActor } from 'xstate';
import { HrtDispatcher, type HrtTaskStats } from '../src/kernel/hrt/index.js';
import { missRecord, type MissRecord } from './hrt-explain.js';
import { GUARD_PERIOD_MS, GUARD_WCET_MS, guardMachine, type GuardTick } from './hrt-guard.js';

export interface MainLoop {
  command(speed: number): void;
  stop(): { stats: HrtTaskStats; misses: MissRecord[]; decisions: number };
}

export function startMainLoop(now: () => number): MainLoop {
  const actor = createActor(guardMachine).start();
  let decisions = 0;
  actor.on('*', () => decisions++);
  const misses: MissRecord[] = [];
  const tick: GuardTick = { type: 'hrt.tick', index: 0, releaseAt: 0, deadline: 0 };
  const d = new HrtDispatcher<undefined>({
    clock: { now },
    sleepUntil: () => undefined, // never called: the loop below only steps
    emit: () => undefined,
    onEvent: (e) => {
      const m = missRecord({ ...e, type: `@agentos.hrt.${e.type}` });
      if (m) misses.push(m);
    },
  });
  d.add({
    id: 'main', periodMs: GUARD_PERIOD_MS, deadlineMs: GUARD_PERIOD_MS, wcetMs: GUARD_WCET_MS, overrun: 'skip',
    job: (r) => {
      tick.index = r.index;
      tick.releaseAt = r.releaseAt;
      tick.deadline = r.deadline;
      actor.send(tick);
      return undefined;
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = (): void => {
    let next = d.step();
    while (next <= now()) next = d.step();
    timer = setTimeout(loop, Math.max(0, next - now()));
  };
  loop();
  return {
    command: (speed) => actor.send({ type: 'command', speed }),
    stop: () => {
      clearTimeout(timer);
      const stats = d.stats('main')!;
      actor.stop();
      return { stats, misses, decisions };
    },
  };
}
