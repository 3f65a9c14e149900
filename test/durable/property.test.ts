// Property: persist → restore → continue is invisible. The same inputs (messages,
// clock movements, a tool that is slow for a while) given to one node without
// interruption, and to a node that is stopped and started again, or crashes, at
// arbitrary points between them, end in the same state, with the same tool calls
// (same keys, same arguments, in the same order). Each call is made once, except
// one caught in flight by an interruption, which is retried under its own key
// (the tool is idempotent by key).
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentOsNode, PersistenceOptions } from '../../src/index.js';
import { settle, until } from '../support/agents.js';
import { ChargeGate, shopAgent, type Invocation, type ShopContext } from './support/agents.js';
import { NodeHarness } from './support/harness.js';

/** Modest by default (the file runs in a few seconds); PROP_RUNS=500 for a soak. */
const RUNS = Number(process.env.PROP_RUNS ?? 40);

type Input =
  | { kind: 'add'; by: number }
  | { kind: 'order'; amount: number }
  | { kind: 'arm'; ms: number }
  | { kind: 'advance'; ms: number }
  /** The tool starts holding calls open (a slow tool): messages arrive while a call is in flight. */
  | { kind: 'slow' }
  /** Calls held open finish, and later ones are not held. */
  | { kind: 'fast' };

type Interruption = 'stop' | 'crash';

interface Outcome {
  value: unknown;
  context: ShopContext;
  calls: Invocation[];
}

const harnesses: NodeHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

/** Nothing left to do until a message, the clock or the tool moves: every posted message handled, no call running. */
async function quiet(n: AgentOsNode, gate: ChargeGate, turns: number): Promise<void> {
  await until(() => {
    const d = n.kernel.describe('shop');
    const ctx = n.lookup('shop')?.getSnapshot()?.context as ShopContext | undefined;
    const calling = d?.state === 'charging' || d?.state === 'receipt';
    const busy = (calling && gate.waiting === 0) || (d?.state === 'idle' && (ctx?.queue.length ?? 0) > 0);
    return d?.turn === turns && d.mailbox === 0 && !busy;
  });
  await settle(3);
}

async function run(inputs: Input[], persistent: PersistenceOptions, interruptions: Map<number, Interruption>): Promise<Outcome> {
  const gate = new ChargeGate();
  const def = shopAgent(persistent);
  const tools = (): HarnessTools => [gate.tool({ idempotent: 'key' })];
  const h = new NodeHarness({ agents: [def], tools: tools() });
  harnesses.push(h);
  let n = await h.start();
  await n.spawn(def, { id: 'shop' });
  let turns = 0;
  let orders = 0;
  const apply = async (input: Input): Promise<void> => {
    const shop = n.lookup('shop')!;
    if (input.kind === 'advance') h.clock.advance(input.ms);
    else if (input.kind === 'slow') gate.holding = true;
    else if (input.kind === 'fast') gate.release();
    else {
      turns++;
      if (input.kind === 'add') await shop.post({ type: 'add', by: input.by });
      else if (input.kind === 'arm') await shop.post({ type: 'arm', ms: input.ms });
      else await shop.post({ type: 'order', id: `o${orders++}`, amount: input.amount });
    }
    await quiet(n, gate, turns);
  };
  for (const [i, input] of inputs.entries()) {
    await apply(input);
    const interruption = interruptions.get(i);
    if (!interruption) continue;
    if (interruption === 'stop') await h.stop();
    else await h.crash();
    gate.abandon(true); // a call held open dies with its node
    n = await h.start({ agents: [def], tools: tools() });
    await quiet(n, gate, turns);
  }
  // Let the tool, every timer and every queued order run out.
  await apply({ kind: 'fast' });
  for (let i = 0; i < 25; i++) await apply({ kind: 'advance', ms: 50 });
  const context = (await n.lookup('shop')!.ask({ type: 'get' })) as ShopContext;
  const value = n.lookup('shop')!.getSnapshot()?.value;
  return { value, context, calls: [...gate.calls] };
}

type HarnessTools = ReturnType<ChargeGate['tool']>[];

const input: fc.Arbitrary<Input> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('add' as const), by: fc.integer({ min: -5, max: 5 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('order' as const), amount: fc.integer({ min: 1, max: 9 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('arm' as const), ms: fc.integer({ min: 1, max: 120 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 60 }) }), weight: 2 },
  { arbitrary: fc.constant<Input>({ kind: 'slow' }), weight: 1 },
  { arbitrary: fc.constant<Input>({ kind: 'fast' }), weight: 1 },
);

// Turns run again only after a crash, and only those since the last checkpoint: favour sparse checkpoints.
const policy: fc.Arbitrary<PersistenceOptions> = fc.oneof(
  { arbitrary: fc.constant<PersistenceOptions>({ checkpoint: 'turn' }), weight: 1 },
  { arbitrary: fc.integer({ min: 2, max: 4 }).map<PersistenceOptions>((k) => ({ checkpoint: { everyMessages: k } })), weight: 2 },
  { arbitrary: fc.constant<PersistenceOptions>({ checkpoint: 'manual' }), weight: 2 },
);

const scenario = fc
  .array(input, { minLength: 1, maxLength: 12 })
  .chain((inputs) =>
    fc.record({
      inputs: fc.constant(inputs),
      persistent: policy,
      interruptions: fc.array(fc.tuple(fc.nat({ max: inputs.length - 1 }), fc.constantFrom<Interruption>('crash', 'crash', 'stop')), { minLength: 1, maxLength: 3 }),
    }),
  );

/** Each key's first invocation, in order; and every later one (a retry) with the same arguments and the next attempt. */
function firstCalls(calls: Invocation[]): Array<Omit<Invocation, 'attempt'>> {
  const seen = new Map<string | undefined, Invocation[]>();
  for (const c of calls) seen.set(c.key, [...(seen.get(c.key) ?? []), c]);
  for (const same of seen.values()) {
    same.forEach((c, i) => expect({ order: c.order, amount: c.amount, attempt: c.attempt }).toEqual({ order: same[0]!.order, amount: same[0]!.amount, attempt: i + 1 }));
  }
  return [...seen.values()].map(([c]) => ({ key: c!.key, order: c!.order, amount: c!.amount }));
}

describe('persist, restore, continue', () => {
  it(
    'ends in the state of an uninterrupted run, with the same tool calls in the same order, retried only if caught in flight',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ inputs, persistent, interruptions }) => {
          const straight = await run(inputs, persistent, new Map());
          const interrupted = await run(inputs, persistent, new Map(interruptions));
          for (const h of harnesses.splice(0)) await h.close();
          expect(interrupted.context).toEqual(straight.context);
          expect(interrupted.value).toEqual(straight.value);
          expect(straight.calls.every((c) => c.attempt === 1)).toBe(true);
          expect(firstCalls(interrupted.calls)).toEqual(firstCalls(straight.calls));
          // without a slow tool nothing is caught in flight: every call made exactly once
          if (!inputs.some((i) => i.kind === 'slow')) expect(interrupted.calls).toEqual(straight.calls);
        }),
        { numRuns: RUNS },
      );
    },
    Math.max(20_000, RUNS * 1_000),
  );
});
