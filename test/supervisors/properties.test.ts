// Property tests: random child exits, start failures and clock advances, checked
// against the invariants of OTP supervision and an independent OTP model.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorExit, normalExit, shutdownExit } from '../../src/base/exit.js';
import { Supervisor, supervisor, type RestartType, type Strategy } from '../../src/supervisors/index.js';
import { FakeHost, flush } from './fake-host.js';
import { OtpModel, type ReasonName } from './otp-model.js';

interface Config {
  strategy: Strategy;
  intensity: number;
  periodMs: number;
  types: RestartType[];
}
type Step =
  | { kind: 'exit'; pick: number; reason: ReasonName }
  | { kind: 'advance'; ms: number }
  | { kind: 'failStarts'; pick: number; n: number };

const configArb: fc.Arbitrary<Config> = fc.record({
  strategy: fc.constantFrom<Strategy>('one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'),
  intensity: fc.integer({ min: 0, max: 4 }),
  periodMs: fc.constantFrom(1000, 5000),
  types: fc.array(fc.constantFrom<RestartType>('permanent', 'transient', 'temporary'), { minLength: 1, maxLength: 5 }),
});
// Advances in 250 ms steps so restarts often fall exactly on the window's edge.
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('exit' as const), pick: fc.nat(), reason: fc.constantFrom<ReasonName>('normal', 'shutdown', 'error', 'error') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 12 }).map((k) => k * 250) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('failStarts' as const), pick: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }) },
);
const stepsArb = fc.array(stepArb, { maxLength: 40 });

const reasons = { normal: normalExit, shutdown: shutdownExit, error: errorExit(new Error('crash')) };

interface Observation {
  host: FakeHost;
  sup: Supervisor<string>;
  model: OtpModel;
  escalated: boolean;
  config: Config;
  /** Host log lines written during this step. */
  stepLog: string[];
}

/** Drive a supervisor and the model through the same steps, calling `check` after each. */
async function run(config: Config, steps: Step[], check: (o: Observation) => void): Promise<Observation> {
  const host = new FakeHost();
  const simple = config.strategy === 'simple_one_for_one';
  const ids = config.types.map((_, i) => (simple ? `sup-${i + 1}` : `c${i}`));
  const types = simple ? config.types.map(() => config.types[0]!) : config.types;
  let escalated = false;
  const sup = new Supervisor(
    supervisor<string>({
      id: 'sup',
      strategy: config.strategy,
      intensity: config.intensity,
      periodMs: config.periodMs,
      children: simple
        ? [{ id: 'tpl', start: 'w', restart: types[0] }]
        : ids.map((id, i) => ({ id, start: 'w', restart: types[i] })),
    }),
    host,
    { clock: host.clock, onExit: () => (escalated = true) },
  );
  await sup.start();
  if (simple) for (const _ of ids) await sup.startChild();
  const model = new OtpModel('sup', config.strategy, config.intensity, config.periodMs, ids.map((id, i) => ({ id, restart: types[i]! })));
  model.startAll();
  const o: Observation = { host, sup, model, escalated, config, stepLog: [...host.log] };
  check(o);

  for (const step of steps) {
    const before = host.log.length;
    if (step.kind === 'exit') {
      const live = model.children.filter((c) => c.running);
      if (live.length > 0) {
        const child = live[step.pick % live.length]!;
        host.exit(`sup/${child.id}`, reasons[step.reason]);
        model.exit(child.id, step.reason, host.clock.now());
      }
    } else if (step.kind === 'failStarts') {
      const child = model.children[step.pick % Math.max(1, model.children.length)];
      if (child) {
        host.failNextStarts(`sup/${child.id}`, step.n);
        model.failNextStarts(child.id, step.n);
      }
    } else {
      host.clock.advance(step.ms);
    }
    await flush();
    o.escalated = escalated;
    o.stepLog = host.log.slice(before);
    check(o);
  }
  const before = host.log.length;
  await sup.stop();
  o.stepLog = host.log.slice(before);
  return o;
}

/** Position of a child in start order: spec index, or creation number for dynamic children. */
const rank = (line: string): number => Number(/(\d+)$/.exec(line)![1]);

/** Split a step's log into runs of starts or stops; a failed start ends its run. */
function runs(lines: string[]): Array<{ kind: string; ranks: number[] }> {
  const out: Array<{ kind: string; ranks: number[] }> = [];
  let current: { kind: string; ranks: number[] } | undefined;
  for (const line of lines) {
    const kind = line.startsWith('stop') ? 'stop' : 'start';
    if (!current || current.kind !== kind) out.push((current = { kind, ranks: [] }));
    current.ranks.push(rank(line));
    if (line.startsWith('fail')) current = undefined;
  }
  return out;
}

const strictly = (xs: number[], cmp: (a: number, b: number) => boolean): boolean => xs.every((x, i) => i === 0 || cmp(xs[i - 1]!, x));

describe('supervisor properties', () => {
  it('the restart history never holds more than `intensity` entries inside the window unless escalated', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, stepsArb, async (config, steps) => {
        await run(config, steps, ({ sup, host, escalated, model }) => {
          const now = host.clock.now();
          const inWindow = sup.restartHistory.filter((t) => t >= now - config.periodMs);
          if (!escalated) expect(inWindow.length).toBeLessThanOrEqual(config.intensity);
          expect([...sup.restartHistory].reverse()).toEqual(model.history);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('children are always started in spec order and stopped in reverse order', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, stepsArb, async (config, steps) => {
        const check = ({ stepLog }: { stepLog: string[] }) => {
          for (const r of runs(stepLog)) {
            if (r.kind === 'start') expect(strictly(r.ranks, (a, b) => a < b), `starts ${r.ranks}`).toBe(true);
            else expect(strictly(r.ranks, (a, b) => a > b), `stops ${r.ranks}`).toBe(true);
          }
        };
        const last = await run(config, steps, check);
        check(last);
        expect(last.host.running()).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('after any sequence, running set, child list, restart count, escalation and the start/stop log match the OTP model', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, stepsArb, async (config, steps) => {
        await run(config, steps, ({ sup, host, model, escalated }) => {
          expect(host.running()).toEqual(model.runningPaths());
          expect(sup.whichChildren().map((c) => [c.id, c.status])).toEqual(model.status());
          expect(sup.restartCount).toBe(model.restarts);
          expect(escalated).toBe(model.escalated);
          expect(sup.state).toBe(model.escalated ? 'stopped' : 'running');
          expect(host.log).toEqual(model.log);
        });
      }),
      { numRuns: 300 },
    );
  });
});
