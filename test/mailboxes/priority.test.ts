import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { PriorityLevels, PriorityMailbox, afterServe, burstLevel, clampPriority } from '../../src/mailboxes/priority.js';

interface Msg {
  id: number;
  priority?: number;
  enqueuedAt?: number;
}

const ids = (xs: readonly (Msg | undefined)[]) => xs.map((m) => m?.id);

/** Pop `n` times, refilling each served level so every level in `flooded` stays non-empty. */
function servedLevels(q: PriorityLevels<number>, n: number, flooded: number[]): number[] {
  for (const l of flooded) q.push(l, l);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = q.shift()!;
    out.push(l);
    if (flooded.includes(l)) q.push(l, l);
  }
  return out;
}

describe('PriorityLevels', () => {
  it('serves the highest level, FIFO within a level, while no lower level waits', () => {
    const q = new PriorityLevels<string>({ levels: 3 });
    q.push('a2', 2);
    q.push('b2', 2);
    q.push('c1', 1);
    q.push('d2', 2);
    expect([q.shift(), q.shift(), q.shift(), q.shift(), q.shift()]).toEqual(['a2', 'b2', 'd2', 'c1', undefined]);
  });

  it('with two flooded levels serves the top `burst` times, then the lower one once', () => {
    const q = new PriorityLevels<number>({ levels: 2, burst: 3 });
    expect(servedLevels(q, 12, [0, 1])).toEqual([1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0]);
  });

  it('aging pops visit the waiting levels round-robin: three flooded levels with burst 1 give 2,0,2,1', () => {
    const q = new PriorityLevels<number>({ levels: 3, burst: 1 });
    expect(servedLevels(q, 12, [0, 1, 2])).toEqual([2, 0, 2, 1, 2, 0, 2, 1, 2, 0, 2, 1]);
  });

  it('a flood at the top level does not starve level 0: it gets every (burst+1)th pop (defaults: 10 levels, burst 8)', () => {
    const q = new PriorityLevels<number>();
    expect(q.levels).toBe(10);
    expect(q.burst).toBe(8);
    for (let i = 0; i < 3; i++) q.push(0, 0);
    const served = servedLevels(q, 40, [9]);
    const atLevel0 = served.flatMap((l, i) => (l === 0 ? [i + 1] : []));
    expect(atLevel0).toEqual([9, 18, 27]);
  });

  it('waiting grows linearly, not exponentially, with busy levels: behind two flooded levels level 0 waits 2·(burst+1), not (burst+1)^2', () => {
    const q = new PriorityLevels<number>({ burst: 8 });
    q.push(5, 5); // level 5's head is older, so it takes the first aging pop
    q.push(0, 0);
    const served = servedLevels(q, 200, [9, 5]);
    expect(served.indexOf(0) + 1).toBe(18);
    expect(served.slice(0, 18).filter((l) => l !== 9)).toEqual([5, 0]);
  });

  it('the streak grows only while a lower level waits: after top-only traffic a new low message still waits `burst` pops', () => {
    const q = new PriorityLevels<number>({ levels: 2, burst: 3 });
    servedLevels(q, 10, [1]); // ten pops of level 1 with nothing below
    for (let i = 0; i < 5; i++) q.push(1, 1);
    q.push(0, 0);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([1, 1, 1, 0]);
  });

  it('burst Infinity is strict priority', () => {
    const q = new PriorityLevels<number>({ levels: 2, burst: Infinity });
    q.push(0, 0);
    expect(servedLevels(q, 1000, [1]).includes(0)).toBe(false);
  });

  it('burstLevel: -1 when empty; the top level when nothing is below it or the streak is under burst; else the oldest head', () => {
    expect(burstLevel(0, 0, 2, [0, 0, 0])).toBe(-1);
    expect(burstLevel(0b101, 1, 2, [0, 0, 5])).toBe(2);
    expect(burstLevel(0b101, 2, 2, [0, 0, 5])).toBe(0);
    expect(burstLevel(0b111, 2, 2, [7, 3, 5])).toBe(1);
    expect(burstLevel(0b111, 2, 2, [7, 6, 5])).toBe(2); // the top head may itself be the oldest
    expect(burstLevel(0b110, 2, 2, [0, 6, 5])).toBe(2); // empty levels' stamps are ignored
    expect(burstLevel(0b100, 9, 2, [0, 0, 9])).toBe(2); // nothing below: streak is irrelevant
    expect(burstLevel(1 << 31, 8, 8, new Array(32).fill(0))).toBe(31);
    expect(burstLevel((1 << 31) | 1, 8, 8, [...new Array(31).fill(9), 1])).toBe(31);
  });

  it('afterServe: the streak grows on a priority pop with a lower level waiting, restarts otherwise', () => {
    expect(afterServe(0b101, 0, 2)).toBe(1);
    expect(afterServe(0b101, 1, 2)).toBe(2);
    expect(afterServe(0b101, 2, 2)).toBe(0); // that pop was an aging pop
    expect(afterServe(0b100, 1, 2)).toBe(0); // nothing below
    expect(afterServe(0, 1, 2)).toBe(0);
    expect(afterServe(0b11, 1e9, Infinity)).toBe(1e9 + 1);
  });

  /* The bound W = (levels−1)·(burst+1) + 1 and its proof are in the PriorityLevels comment. */
  const bound = (levels: number, burst: number) => (levels - 1) * (burst + 1) + 1;
  /** 'refill' pops, then pushes a fresh message at the level served, keeping floods going. */
  type Op = { push: number; n: number } | 'pop' | 'refill' | 'dropOldest';

  it('bounded waiting: the head of any level is served within (levels−1)·(burst+1)+1 pops; a lower level only after `burst` top pops', () => {
    const opsArb = (levels: number) =>
      fc.array(
        fc.oneof(
          { weight: 5, arbitrary: fc.record({ push: fc.nat(levels - 1), n: fc.integer({ min: 1, max: 6 }) }) },
          { weight: 3, arbitrary: fc.constant<Op>('pop') },
          { weight: 4, arbitrary: fc.constant<Op>('refill') },
          { weight: 1, arbitrary: fc.constant<Op>('dropOldest') },
        ),
        { maxLength: 500, size: 'max' },
      );
    const arb = fc
      .record({ levels: fc.integer({ min: 2, max: 6 }), burst: fc.integer({ min: 1, max: 4 }) })
      .chain(({ levels, burst }) => fc.record({ levels: fc.constant(levels), burst: fc.constant(burst), ops: opsArb(levels) }));
    fc.assert(
      fc.property(arb, ({ levels, burst, ops }) => {
        interface Waiting {
          level: number;
          headSince: number | null;
        }
        const q = new PriorityLevels<Waiting>({ levels, burst });
        expect(q.maxWait).toBe(bound(levels, burst));
        const model: Waiting[][] = Array.from({ length: levels }, () => []);
        const arrivals: Waiting[] = [];
        let pops = 0;
        let topRun = 0; // pops in a row that served the top level while a lower one waited
        const push = (level: number) => {
          const m: Waiting = { level, headSince: null };
          q.push(m, level);
          model[level]!.push(m);
          arrivals.push(m);
        };
        for (const op of ops) {
          if (op === 'pop' || op === 'refill') {
            const m = q.shift();
            const nonEmpty = model.flatMap((lvl, l) => (lvl.length > 0 ? [l] : []));
            if (m === undefined) {
              expect(nonEmpty).toEqual([]);
              continue;
            }
            pops++;
            expect(model[m.level]![0]).toBe(m); // FIFO within a level
            model[m.level]!.shift();
            arrivals.splice(arrivals.indexOf(m), 1);
            expect(pops - m.headSince!).toBeLessThanOrEqual(bound(levels, burst));
            const top = nonEmpty.at(-1)!;
            if (nonEmpty.length === 1) {
              topRun = 0; // strict priority: the only busy level is served (checked above)
            } else if (m.level === top) {
              topRun++;
            } else {
              expect(topRun).toBeGreaterThanOrEqual(burst); // strict priority for `burst` pops
              topRun = 0;
            }
            if (op === 'refill') push(m.level);
          } else if (op === 'dropOldest') {
            const m = q.removeOldest();
            expect(m).toBe(arrivals[0]);
            if (m !== undefined) {
              arrivals.shift();
              expect(model[m.level]!.shift()).toBe(m);
            }
          } else {
            for (let i = 0; i < op.n; i++) push(op.push); // a batch builds a backlog at one level
          }
          for (const lvl of model) if (lvl[0]) lvl[0].headSince ??= pops;
        }
      }),
      { numRuns: 300 },
    );
  });

  /** Flood every level; per level, the longest a head waited for its pop. */
  function floodWaits(levels: number, burst: number, pops: number): number[] {
    const q = new PriorityLevels<{ level: number; since: number }>({ levels, burst });
    const maxWait = new Array<number>(levels).fill(0);
    for (let l = 0; l < levels; l++) q.push({ level: l, since: 0 }, l);
    for (let i = 1; i <= pops; i++) {
      const m = q.shift()!;
      maxWait[m.level] = Math.max(maxWait[m.level]!, i - m.since);
      q.push({ level: m.level, since: i }, m.level); // the next message heads its level from now
    }
    return maxWait;
  }

  it('the bound is nearly reached by a flood: with every level flooded, heads below the top wait (levels−1)·(burst+1) pops', () => {
    for (const [levels, burst] of [
      [2, 1],
      [3, 2],
      [4, 1],
      [5, 3],
      [10, 8],
      [32, 2],
    ] as const) {
      const maxWait = floodWaits(levels, burst, 20 * bound(levels, burst));
      const expected = maxWait.map((_, l) => (l === levels - 1 ? 2 : (levels - 1) * (burst + 1)));
      expect({ levels, burst, maxWait }).toEqual({ levels, burst, maxWait: expected });
    }
    expect(floodWaits(10, 8, 1000)[0]).toBe(81); // the old rule: (8+1)^9 = 387,420,489
  });

  it('the bound is reached exactly: a head that arrives with the streak spent and every other head older waits (levels−1)·(burst+1)+1', () => {
    for (const [levels, burst] of [
      [2, 1],
      [3, 2],
      [4, 3],
      [10, 8],
    ] as const) {
      const q = new PriorityLevels<string>({ levels, burst });
      const top = levels - 1;
      q.push('z', 0);
      for (let i = 0; i < burst; i++) q.push('flood', top);
      for (let i = 0; i < burst; i++) expect(q.shift()).toBe('flood'); // streak spent, z waiting
      q.push('flood', top); // the top head is now older than those below
      for (let l = top - 1; l >= 1; l--) q.push(`old${l}`, l);
      q.push('m', 0);
      expect(q.removeOldest()).toBe('z'); // m heads level 0 from now, youngest of all heads
      let waited = 0;
      for (let x = q.shift(); waited < 10 * bound(levels, burst); x = q.shift()) {
        waited++;
        if (x === 'm') break;
        if (x === 'flood') q.push('flood', top);
      }
      expect({ levels, burst, waited }).toEqual({ levels, burst, waited: bound(levels, burst) });
    }
  });

  it('removeOldest takes the longest-waiting message whatever its level, leaving the streak alone', () => {
    const q = new PriorityLevels<string>({ levels: 3, burst: 1 });
    q.push('a0', 0);
    q.push('b2', 2);
    q.push('c1', 1);
    q.push('d2', 2);
    expect(q.removeOldest()).toBe('a0');
    expect(q.removeOldest()).toBe('b2');
    expect(q.toArray()).toEqual(['d2', 'c1']);
    expect(q.size).toBe(2);
    expect(q.removeOldest()).toBe('c1');
    expect(q.removeOldest()).toBe('d2');
    expect(q.removeOldest()).toBeUndefined();
  });

  it('peek and toArray predict exactly what successive shifts return', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.option(fc.nat(4), { nil: null }), { maxLength: 200, size: 'max' }),
        (levels, burst, ops) => {
          const q = new PriorityLevels<number>({ levels, burst });
          let id = 0;
          for (const op of ops) {
            if (op === null) {
              const predicted = q.toArray();
              const peeked = q.peek();
              expect(q.shift()).toBe(peeked);
              expect(peeked).toBe(predicted[0]);
            } else q.push(id++, op % levels);
          }
          const predicted = q.toArray();
          const actual: number[] = [];
          for (let x = q.shift(); x !== undefined; x = q.shift()) actual.push(x);
          expect(actual).toEqual(predicted);
        },
      ),
    );
  });

  it('allocates per-level storage lazily, only for levels used', () => {
    const q = new PriorityLevels<number>();
    expect((q as any).queues).toBeNull();
    q.push(1, 7);
    const queues = (q as any).queues as unknown[];
    expect(queues.filter((x) => x !== undefined).length).toBe(1);
    expect(q.sizeAt(7)).toBe(1);
    expect(q.sizeAt(3)).toBe(0);
    q.clear();
    expect((q as any).queues).toBeNull();
  });

  it('rejects invalid levels, burst and push level', () => {
    expect(() => new PriorityLevels({ levels: 0 })).toThrow(RangeError);
    expect(() => new PriorityLevels({ levels: 33 })).toThrow(RangeError);
    expect(() => new PriorityLevels({ burst: 0 })).toThrow(RangeError);
    expect(() => new PriorityLevels({ burst: 1.5 })).toThrow(RangeError);
    const q = new PriorityLevels<number>({ levels: 3 });
    for (const l of [-1, 3, 1.5, NaN]) expect(() => q.push(0, l)).toThrow(/level/);
    expect(new PriorityLevels({ levels: 32 }).levels).toBe(32);
  });
});

describe('clampPriority', () => {
  it('clamps into 0..levels-1, floors fractions, and uses the fallback for missing or NaN', () => {
    expect(clampPriority(undefined, 10, 5)).toBe(5);
    expect(clampPriority(NaN, 10, 5)).toBe(5);
    expect(clampPriority(99, 10, 5)).toBe(9);
    expect(clampPriority(Infinity, 10, 5)).toBe(9);
    expect(clampPriority(-3, 10, 5)).toBe(0);
    expect(clampPriority(-Infinity, 10, 5)).toBe(0);
    expect(clampPriority(4.7, 10, 5)).toBe(4);
    expect(clampPriority(7, 10, 5)).toBe(7);
  });
});

describe('PriorityMailbox', () => {
  it('delivers higher priority first and FIFO within a priority', () => {
    const mb = new PriorityMailbox<Msg>({ now: () => 0 });
    mb.push({ id: 0, priority: 1 });
    mb.push({ id: 1, priority: 8 });
    mb.push({ id: 2, priority: 1 });
    mb.push({ id: 3, priority: 8 });
    mb.push({ id: 4 }); // default 5
    expect(ids(mb.drain())).toEqual([1, 3, 4, 0, 2]);
  });

  it('with burst Infinity every shift returns the oldest message of the highest priority queued', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: -2, max: 12 }), { nil: null }), { maxLength: 200 }), (ops) => {
        const mb = new PriorityMailbox<Msg>({ burst: Infinity, now: () => 0, capacity: Infinity });
        const model: Msg[] = [];
        let id = 0;
        for (const op of ops) {
          if (op === null) {
            const top = Math.max(...model.map((m) => clampPriority(m.priority, 10, 5)));
            const expected = model.find((m) => clampPriority(m.priority, 10, 5) === top);
            expect(mb.shift()).toBe(expected);
            if (expected) model.splice(model.indexOf(expected), 1);
          } else {
            const m = { id: id++, priority: op };
            mb.push(m);
            model.push(m);
          }
        }
      }),
    );
  });

  it('clamps out-of-range priorities and applies defaultPriority to messages without one', () => {
    const mb = new PriorityMailbox<Msg>({ levels: 4, defaultPriority: 1, now: () => 0 });
    expect(mb.levels).toBe(4);
    mb.push({ id: 0, priority: 99 });
    mb.push({ id: 1, priority: -5 });
    mb.push({ id: 2 });
    mb.push({ id: 3, priority: NaN });
    expect([0, 1, 2, 3].map((l) => mb.sizeAt(l))).toEqual([1, 2, 0, 1]);
  });

  it('defaultPriority is 5, clamped to the top level when there are fewer levels; an explicit bad one throws', () => {
    expect(new PriorityMailbox().defaultPriority).toBe(5);
    expect(new PriorityMailbox({ levels: 3 }).defaultPriority).toBe(2);
    expect(() => new PriorityMailbox({ levels: 3, defaultPriority: 3 })).toThrow(/defaultPriority/);
  });

  it('drop-oldest evicts the longest-waiting message across levels, not the least urgent', () => {
    const onDrop = vi.fn();
    const mb = new PriorityMailbox<Msg>({ capacity: 3, overflow: 'drop-oldest', onDrop, now: () => 0 });
    const first = { id: 0, priority: 9 };
    mb.push(first);
    mb.push({ id: 1, priority: 0 });
    mb.push({ id: 2, priority: 5 });
    expect(mb.push({ id: 3, priority: 5 })).toEqual({ ok: true, accepted: true, dropped: first });
    expect(onDrop).toHaveBeenCalledExactlyOnceWith(first, 'overflow:drop-oldest');
    expect(ids(mb.toArray())).toEqual([2, 3, 1]);
  });

  it('drop-newest discards the incoming message; reject refuses it', () => {
    const onDrop = vi.fn();
    const dn = new PriorityMailbox<Msg>({ capacity: 1, overflow: 'drop-newest', onDrop, now: () => 0 });
    dn.push({ id: 0, priority: 0 });
    const urgent = { id: 1, priority: 9 };
    expect(dn.push(urgent)).toEqual({ ok: true, accepted: false, dropped: urgent });
    expect(onDrop).toHaveBeenCalledExactlyOnceWith(urgent, 'overflow:drop-newest');
    expect(ids(dn.toArray())).toEqual([0]);
    const rj = new PriorityMailbox<Msg>({ capacity: 1, now: () => 0 });
    rj.push({ id: 0 });
    expect(rj.push({ id: 1 })).toEqual({ ok: false, accepted: false, reason: 'full' });
    expect(rj.stats()).toMatchObject({ kind: 'priority', rejected: 1, pushed: 2, size: 1 });
  });

  it('records wait times from the injected clock', () => {
    let t = 0;
    const mb = new PriorityMailbox<Msg>({ now: () => t });
    mb.push({ id: 0, priority: 0 });
    t = 3;
    mb.push({ id: 1, priority: 9 });
    t = 10;
    expect(mb.shift()?.id).toBe(1); // waited 7
    expect(mb.shift()?.id).toBe(0); // waited 10
    expect(mb.stats().waitMs).toMatchObject({ count: 2, mean: 8.5, max: 10 });
  });

  it('peek is the message shift returns next', () => {
    const mb = new PriorityMailbox<Msg>({ levels: 2, burst: 1, now: () => 0 });
    for (let i = 0; i < 6; i++) mb.push({ id: i, priority: i % 2 });
    while (mb.size > 0) {
      const p = mb.peek();
      expect(mb.shift()).toBe(p);
    }
    expect(mb.peek()).toBeUndefined();
  });
});
