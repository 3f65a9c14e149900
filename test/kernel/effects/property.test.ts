// Random histories of calls, crashes mid-call, restarts and hand resolutions, run against
// a real journal on disk and a model of what each key must do. Crashes here are a call
// that never returns followed by a restart; real SIGKILLs are in crash.test.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EffectFailed, EffectInDoubt, idempotencyKey, type Durability, type Idempotence } from '../../../src/kernel/effects/index.js';
import { dieMidCall, started, tempJournal } from './helpers.js';

/** Six call sites over two actors; whether a tool is idempotent belongs to the site. */
const SITES: Array<{ key: string; idempotent: Idempotence }> = ([false, false, true, 'key', false, true] as const).map((idempotent, i) => ({
  key: idempotencyKey({ actor: i % 2 ? 'q' : 'p', turn: i, call: i % 3 }),
  idempotent,
}));

type Command =
  | { t: 'run'; site: number; behaviour: 'ok' | 'throw' | 'die'; durability: Durability; value: unknown }
  | { t: 'restart' }
  | { t: 'resolve'; site: number; value: unknown };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('run' as const),
      site: fc.nat({ max: SITES.length - 1 }),
      behaviour: fc.constantFrom('ok' as const, 'ok' as const, 'throw' as const, 'die' as const),
      durability: fc.constantFrom<Durability>('sync', 'async'),
      value: fc.jsonValue({ maxDepth: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('resolve' as const), site: fc.nat({ max: SITES.length - 1 }), value: fc.jsonValue({ maxDepth: 1 }) }) },
);

type Model = { state: 'new' } | { state: 'doubt' } | { state: 'completed'; value: unknown } | { state: 'failed'; message: string };

describe('effect journal against a model', () => {
  it("no key's call ever runs twice unless it is idempotent, and every completed result replays identically", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 20 }), async (commands) => {
        const t = tempJournal('async', 'agentos-effects-prop-');
        const model: Model[] = SITES.map(() => ({ state: 'new' }));
        const calls = SITES.map(() => 0);
        const restart = async (): Promise<void> => {
          await t.journal.flushed();
          await t.restart();
        };
        try {
          let n = 0;
          for (const c of commands) {
            if (c.t === 'restart') {
              await restart();
              continue;
            }
            const { key, idempotent } = SITES[c.site];
            const m = model[c.site];
            if (c.t === 'resolve') {
              const done = t.journal.resolve(key, { result: c.value }, 'test');
              if (m.state === 'doubt') {
                await done;
                model[c.site] = { state: 'completed', value: await t.journal.run(key, { args: { site: c.site } }, () => 'must replay') };
                expect(model[c.site]).toStrictEqual({ state: 'completed', value: c.value });
              } else await expect(done).rejects.toMatchObject({ code: 'EFFECT_NOT_IN_DOUBT' });
              continue;
            }
            const mayRun = m.state === 'new' || (m.state === 'doubt' && idempotent !== false);
            const s = started();
            const message = `boom ${c.site} ${n++}`;
            const fn = (): unknown => {
              calls[c.site]++;
              if (c.behaviour === 'throw') throw new Error(message);
              if (!mayRun) throw new Error(`${key} ran though it must not`); // fails the checks below at once, rather than hanging
              if (c.behaviour === 'die') return dieMidCall(s.signal)();
              return c.value;
            };
            const outcome = t.journal.run(key, { args: { site: c.site }, idempotent, durability: c.durability }, fn).then(
              (value) => ({ value }),
              (error: unknown) => ({ error }),
            );
            if (mayRun && c.behaviour === 'die') {
              await s.wait; // dispatched is journaled and the call is under way: the process dies here
              await restart();
              model[c.site] = { state: 'doubt' };
            } else {
              const got = await outcome;
              if (m.state === 'completed') expect(got).toStrictEqual({ value: m.value });
              else if (m.state === 'failed') {
                expect((got as { error: unknown }).error).toBeInstanceOf(EffectFailed);
                expect((got as { error: EffectFailed }).error).toMatchObject({ replayed: true, failure: { message: m.message } });
              } else if (!mayRun) expect((got as { error: unknown }).error).toBeInstanceOf(EffectInDoubt);
              else if (c.behaviour === 'throw') model[c.site] = { state: 'failed', message };
              else model[c.site] = { state: 'completed', value: (got as { value: unknown }).value };
            }
            SITES.forEach((site, i) => {
              if (site.idempotent === false) expect(calls[i]).toBeLessThanOrEqual(1);
            });
          }
          await restart();
          expect(t.journal.verify()).toMatchObject({ ok: true });
          expect(t.journal.inDoubt().map((call) => call.key)).toEqual(SITES.filter((_, i) => model[i].state === 'doubt').map((s) => s.key).sort());
          const before = [...calls];
          for (const [i, m] of model.entries()) {
            if (m.state === 'completed') expect(await t.journal.run(SITES[i].key, { args: { site: i } }, () => 'again')).toStrictEqual(m.value);
          }
          expect(calls).toEqual(before);
        } finally {
          await t.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
