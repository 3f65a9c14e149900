// A process for crash.test.ts to SIGKILL: it journals `calls` side-effecting calls whose
// effect is a line appended to <dir>/effects.log, and prints `dispatched <key>`,
// `effected <key>` and `completed <key>` as it passes each point (stdout on a pipe is
// synchronous on Linux, so a line is out before the next step runs). With a stall point
// (`<phase>:<call index>`) it blocks forever right after printing that line.
//
//   node --import tsx test/kernel/effects/fixture.ts <dir> <plain|idempotent> [sync|async] [calls] [stall]

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { RealClock } from '../../../src/base/clock.js';
import { EffectInDoubt, EffectJournal, idempotencyKey, type Durability } from '../../../src/kernel/effects/index.js';

export const ACTOR = 'crash/agent';
export const keyOf = (i: number): string => idempotencyKey({ actor: ACTOR, turn: i, call: 0 });
/** The side effect: one line per real invocation, `<key> <attempt> <who>`. */
export const effect = (dir: string, key: string, attempt: number, who: string): void => appendFileSync(join(dir, 'effects.log'), `${key} ${attempt} ${who}\n`);

async function main(): Promise<void> {
  const [dir, mode, durability = 'sync', calls = '30', stall = ''] = process.argv.slice(2);
  if (!dir || (mode !== 'plain' && mode !== 'idempotent') || (durability !== 'sync' && durability !== 'async')) {
    process.stderr.write('usage: fixture.ts <dir> <plain|idempotent> [sync|async] [calls] [stall]\n');
    process.exit(2);
  }
  const [stallPhase, stallAt] = stall.split(':');
  const say = (line: string): void => void process.stdout.write(line + '\n');
  const point = (phase: string, i: number): void => {
    say(`${phase} ${keyOf(i)}`);
    if (phase === stallPhase && String(i) === stallAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // wait here for the kill
  };
  const db = open({ path: join(dir, 'db') });
  const journal = EffectJournal.open({ db, clock: new RealClock(), durability: durability as Durability });
  for (let i = 0; i < Number(calls); i++) {
    try {
      await journal.run(keyOf(i), { args: { i }, idempotent: mode === 'idempotent' }, ({ key, attempt }) => {
        point('dispatched', i);
        effect(dir, key, attempt, `pid${process.pid}`);
        point('effected', i);
        return { i };
      });
      point('completed', i);
    } catch (err) {
      if (!(err instanceof EffectInDoubt)) throw err;
      say(`in-doubt ${keyOf(i)}`);
    }
  }
  await journal.flushed();
  await db.close();
  say('done');
}

if (process.argv[1]?.endsWith('fixture.ts')) await main();
