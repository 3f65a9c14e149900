// Split brain on the simulated network: a 3|2 partition under keep-majority and
// under static-quorum(3), a 2|2 tie, healing (the downed side rejoins as new
// incarnations), and convergence after random drops and delays.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MEMBERSHIP_DEFAULTS } from '../../../src/cluster/membership/options.js';
import { detectionTimeMs } from '../../../src/cluster/membership/phi.js';
import { staticQuorum } from '../../../src/cluster/membership/downing.js';
import { SimCluster, type NodeOverrides } from './support.js';

const D = detectionTimeMs(MEMBERSHIP_DEFAULTS.heartbeatIntervalMs);
const { checkIntervalMs: CHECK, stableAfterMs: STABLE, downRemovalMarginMs: MARGIN } = MEMBERSHIP_DEFAULTS;
const MAJORITY = ['n1', 'n2', 'n3'];
const MINORITY = ['n4', 'n5'];

function fiveSplit(overrides: NodeOverrides = {}): SimCluster {
  const sim = new SimCluster(overrides, { seed: 5 });
  sim.startAll(5);
  sim.advanceUntil(() => sim.converged(), 10_000);
  sim.advance(20_000);
  sim.network.partition(MAJORITY, MINORITY);
  sim.advance(D + STABLE + MARGIN + 4 * CHECK + 100);
  return sim;
}

function expectMinorityFencedAndDowned(sim: SimCluster): void {
  for (const id of MINORITY) {
    expect(sim.m(id).isQuorate(), `${id} lost quorum`).toBe(false);
    expect(sim.events(['quorum-lost'], id)).toHaveLength(1);
    // The minority suspects the majority but never downs it.
    for (const other of MAJORITY) expect(sim.m(id).member(other)!.status).toBe('suspect');
  }
  for (const id of MAJORITY) {
    expect(sim.m(id).isQuorate(), `${id} keeps quorum`).toBe(true);
    expect(sim.m(id).members().map((m) => m.nodeId)).toEqual(MAJORITY);
    for (const gone of MINORITY) {
      expect(sim.history(id, gone)).toEqual(['member-joined@1', 'member-up@1', 'member-suspect@1', 'member-down@1', 'member-removed@1']);
      // Fencing comes first: the minority stopped hosting before the majority downed it.
      expect(sim.firstAt(gone, 'quorum-lost')!).toBeLessThanOrEqual(sim.firstAt(id, 'member-down', gone)! - STABLE + CHECK);
    }
  }
  expect(sim.events(['quorum-lost']).map((l) => l.node).sort()).toEqual(MINORITY);
  expect(sim.events(['member-down']).every((l) => MAJORITY.includes(l.node))).toBe(true);
}

function expectHealed(sim: SimCluster): void {
  sim.network.heal();
  sim.advanceUntil(() => sim.converged(), 10_000);
  for (const id of MINORITY) {
    expect(sim.m(id).self().incarnation).toBe(2);
    expect(sim.events(['rejoining'], id)).toHaveLength(1);
    expect(sim.m(id).isQuorate()).toBe(true);
  }
  for (const id of MAJORITY) {
    expect(sim.m(id).self().incarnation).toBe(1);
    for (const back of MINORITY) expect(sim.history(id, back).slice(-2)).toEqual(['member-joined@2', 'member-up@2']);
  }
  sim.advance(30_000);
  expect(sim.converged()).toBe(true);
}

describe('partition 3|2', () => {
  it('keep-majority: the 2-side loses quorum at once, the 3-side downs and removes the other two', () => {
    expectMinorityFencedAndDowned(fiveSplit());
  });

  it('static-quorum(3): the same outcome', () => {
    expectMinorityFencedAndDowned(fiveSplit({ downing: staticQuorum(3) }));
  });

  it('healing merges the views: the removed nodes rejoin as new incarnations and all converge to up', () => {
    expectHealed(fiveSplit());
  });

  it('a partition healed before the majority downs anyone ends with no downing and quorum regained', () => {
    const sim = new SimCluster({}, { seed: 9 });
    sim.startAll(5);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(20_000);
    sim.network.partition(MAJORITY, MINORITY);
    sim.advance(D + CHECK + 500); // suspected and fenced, not yet stable for STABLE ms
    expect(sim.m('n4').isQuorate()).toBe(false);
    sim.network.heal();
    // Quorum comes back once every member has answered the minority's confirmation round.
    sim.advanceUntil(() => sim.converged() && MINORITY.every((id) => sim.m(id).isQuorate()), 5_000);
    expect(sim.events(['member-down', 'rejoining'])).toEqual([]);
    for (const id of MINORITY) expect(sim.events(['quorum-lost', 'quorum-gained'], id).map((l) => l.event.type)).toEqual(['quorum-gained', 'quorum-lost', 'quorum-gained']);
  });
});

describe('partition 2|2', () => {
  it('keep-majority: the side holding the lowest address keeps running', () => {
    const sim = new SimCluster({}, { seed: 3 });
    sim.startAll(4);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(10_000);
    sim.network.partition(['n1', 'n3'], ['n2', 'n4']);
    sim.advance(D + STABLE + MARGIN + 4 * CHECK);
    expect(['n1', 'n3'].map((id) => sim.m(id).isQuorate())).toEqual([true, true]);
    expect(['n2', 'n4'].map((id) => sim.m(id).isQuorate())).toEqual([false, false]);
    expect(sim.m('n1').members().map((m) => m.nodeId)).toEqual(['n1', 'n3']);
  });
});

/** Fails if a node is quorate while a quorate node on the other side holds it down or removed. */
function expectNoDoubleHosting(sim: SimCluster, a: readonly string[], b: readonly string[]): void {
  const heldDown = (holder: string, subject: string): boolean => ['down', 'removed'].includes(sim.m(holder).member(subject)?.status ?? '');
  for (const x of a) {
    for (const y of b) {
      const both = sim.m(x).isQuorate() && sim.m(y).isQuorate();
      expect(both && heldDown(x, y), `${x} holds ${y} down while both host`).toBe(false);
      expect(both && heldDown(y, x), `${y} holds ${x} down while both host`).toBe(false);
    }
  }
}

describe('why a side counts only members it heard from lately, and confirms them before downing', () => {
  it('a node whose detector is slow (jittery link) still fences itself before the other side downs it', () => {
    const sim = new SimCluster({}, { seed: 12 });
    sim.startAll(3);
    sim.advanceUntil(() => sim.converged(), 10_000);
    // n2 → n1 heartbeats jitter by up to 2 s: n1's window for n2 has σ ≈ 800 ms, so φ for n2
    // crosses the threshold only ≈ 8 s after the last heartbeat.
    sim.network.setLinkDelay('n2', 'n1', { min: 0, max: 2000 });
    sim.advance(60_000);
    expect(sim.events(['member-suspect'])).toEqual([]);
    sim.network.partition(['n1'], ['n2', 'n3']);
    for (let t = 0; t < 15_000; t += 50) {
      sim.advance(50);
      expectNoDoubleHosting(sim, ['n1'], ['n2', 'n3']);
    }
    expect(sim.firstAt('n1', 'quorum-lost')!).toBeLessThan(sim.firstAt('n2', 'member-down', 'n1')!);
  });

  it('a member cut off just before the decision is not counted: the downing waits for answers, and a side left short fences at once', () => {
    const sim = new SimCluster({}, { seed: 13 });
    sim.startAll(4);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(10_000);
    sim.network.partition(['n1'], ['n2']); // only the n1–n2 link: each suspects the other
    sim.advanceUntil(() => sim.m('n2').member('n1')!.status === 'suspect', 10_000, 10);
    sim.advance(500); // n2's unreachable set is stable, its downing of n1 is due in 1.5 s
    sim.network.partition(['n1', 'n4'], ['n2', 'n3']); // …when n4 is cut off from n2 as well (n4 still looks fresh)
    const removedWhileHosting: string[] = [];
    for (let t = 0; t < 20_000; t += 50) {
      sim.advance(50);
      for (const [holder, subject] of [['n1', 'n2'], ['n1', 'n3'], ['n4', 'n2'], ['n4', 'n3'], ['n2', 'n1'], ['n2', 'n4'], ['n3', 'n1'], ['n3', 'n4']]) {
        if (sim.m(holder).member(subject)!.status === 'removed' && sim.m(subject).isQuorate()) removedWhileHosting.push(`${holder}→${subject}`);
      }
    }
    // n2 and n3 never down the other side: n4 did not answer, so they had no majority.
    expect(sim.events(['member-down']).filter((l) => ['n2', 'n3'].includes(l.node))).toEqual([]);
    // n2 learnt it from its own confirmation round (within one probe timeout of n1 downing it), so it
    // was fenced well before n1's side could remove (fail over) it — not only when n4 went stale.
    expect(sim.firstAt('n2', 'quorum-lost')!).toBeLessThanOrEqual(sim.firstAt('n1', 'member-down', 'n2')! + MEMBERSHIP_DEFAULTS.heartbeatIntervalMs);
    expect(removedWhileHosting).toEqual([]);
    // The 2|2 tie goes to the side holding the lowest address.
    expect(['n1', 'n2', 'n3', 'n4'].map((id) => sim.m(id).isQuorate())).toEqual([true, false, false, true]);
  });
});

describe('joining during a partition', () => {
  it('a joiner only one side has seen is not promoted, so it cannot tip that side into a majority', () => {
    const sim = new SimCluster({}, { seed: 14 });
    sim.startAll(3);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(5_000);
    sim.network.partition(['n4'], ['n2', 'n3']);
    sim.start('n4');
    sim.advanceUntil(() => sim.m('n1').member('n4') !== undefined, 1_000, 1);
    sim.network.partition(['n1'], ['n2', 'n3']); // n1's announcement of n4 is lost on the way
    for (let t = 0; t < 20_000; t += 50) {
      sim.advance(50);
      expectNoDoubleHosting(sim, ['n1', 'n4'], ['n2', 'n3']);
    }
    expect(sim.m('n1').member('n4')!.status).toBe('joining');
    expect(['n1', 'n2', 'n3', 'n4'].map((id) => sim.m(id).isQuorate())).toEqual([false, true, true, false]);
  });

  it('a joiner promoted on one side just before a partition counts against the other side, which saw it joining', () => {
    const sim = new SimCluster({}, { seed: 15 });
    sim.startAll(3);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(5_000);
    sim.network.partition(['n4'], ['n2', 'n3']); // n2 and n3 learn of n4 only through n1, so they cannot promote it
    sim.start('n4');
    sim.advanceUntil(() => sim.m('n1').member('n4')?.status === 'up', 2_000, 1);
    sim.network.partition(['n1'], ['n2', 'n3']); // n1's announcement of the promotion is lost
    expect(sim.m('n2').member('n4')!.status).toBe('joining');
    for (let t = 0; t < 20_000; t += 50) {
      sim.advance(50);
      expectNoDoubleHosting(sim, ['n1', 'n4'], ['n2', 'n3']);
    }
    expect(['n1', 'n2', 'n3', 'n4'].map((id) => sim.m(id).isQuorate())).toEqual([true, false, false, true]);
  });
});

describe('split brain through a bridge, and islands', () => {
  it('a node bridging two sides lets both keep running (documented limit); once healed, the island with the lowest address absorbs the other', () => {
    const sim = new SimCluster({}, { seed: 4 });
    sim.startAll(5);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(10_000);
    // n1,n2 | n4,n5 cannot talk; n3 talks to all, so each side counts 3 of 5 and downs the other.
    sim.network.partition(['n1', 'n2'], ['n4', 'n5']);
    sim.advanceUntil(() => sim.m('n1').member('n4')!.status === 'down' || sim.m('n4').member('n1')!.status === 'down', 20_000, 1);
    sim.crash('n3'); // the bridge goes before it can tell either side it was downed
    sim.advance(15_000);
    const island = (id: string): string[] => sim.m(id).members().map((m) => m.nodeId);
    expect([island('n1'), island('n4')]).toEqual([['n1', 'n2'], ['n4', 'n5']]);
    expect(sim.running().every((n) => n.membership.isQuorate())).toBe(true);
    sim.network.heal();
    sim.advanceUntil(() => sim.converged(), MEMBERSHIP_DEFAULTS.reconnectIntervalMs * 4);
    expect(sim.running().map((n) => `${n.id}@${n.membership.self().incarnation}`)).toEqual(['n1@1', 'n2@1', 'n4@2', 'n5@2']);
  });
});

describe('properties', () => {
  it('for a clean partition into two sides, no node hosts (is quorate) while a quorate node on the other side holds it down or removed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 2, max: 7 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.boolean(), { minLength: n, maxLength: n }))),
        fc.integer({ min: 0, max: 300 }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        (seed, [n, sides], maxDelay, dropRate) => {
          const sim = new SimCluster({}, { seed, delayMs: { min: 0, max: maxDelay } });
          sim.startAll(n);
          sim.advanceUntil(() => sim.converged(), 10_000);
          sim.advance(5_000);
          const ids = [...sim.nodes.keys()];
          const a = ids.filter((_, i) => sides[i]);
          const b = ids.filter((_, i) => !sides[i]);
          sim.network.setDropRate(dropRate);
          sim.network.partition(a, b);
          const heldDown = (holder: string, subject: string): boolean => {
            const s = sim.m(holder).member(subject)?.status;
            return s === 'down' || s === 'removed';
          };
          for (let t = 0; t < 20_000; t += 100) {
            sim.advance(100);
            for (const x of a) for (const y of b) {
              const [qx, qy] = [sim.m(x).isQuorate(), sim.m(y).isQuorate()];
              expect(qx && qy && heldDown(x, y)).toBe(false);
              expect(qx && qy && heldDown(y, x)).toBe(false);
            }
          }
          // Afterwards at most one side keeps running.
          const quorate = (side: string[]): boolean => side.some((id) => sim.m(id).isQuorate());
          expect(quorate(a) && quorate(b)).toBe(false);
        },
      ),
      { numRuns: 25, seed: 7 },
    );
  });

  it('with random drops, delays and pauses (fixed seeds), views converge once the network is healthy for long enough', () => {
    let rejoined = 0;
    const pause = fc.record({ node: fc.integer({ min: 1, max: 6 }), at: fc.integer({ min: 5_000, max: 40_000 }), len: fc.integer({ min: 0, max: 15_000 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: 3, max: 6 }),
        fc.array(pause, { maxLength: 2 }),
        (seed, dropRate, maxDelay, n, pauses) => {
          const sim = new SimCluster({}, { seed, dropRate, delayMs: { min: 0, max: maxDelay } });
          sim.startAll(n);
          // Chaos for 60 s: messages lost and delayed; some nodes paused (SIGSTOP) long enough to be downed.
          const frozen = new Set<string>();
          for (let t = 0; t < 60_000; t += 250) {
            for (const p of pauses) {
              const id = `n${((p.node - 1) % n) + 1}`;
              if (t === p.at - (p.at % 250) && !frozen.has(id)) {
                frozen.add(id);
                sim.freeze(id);
              }
              if (t === Math.min(p.at + p.len, 55_000) - (Math.min(p.at + p.len, 55_000) % 250) && frozen.has(id)) {
                frozen.delete(id);
                sim.thaw(id);
              }
            }
            sim.advance(250);
          }
          for (const id of frozen) sim.thaw(id);
          rejoined += sim.events(['rejoining']).length;
          sim.network.setDropRate(0);
          sim.network.setDelay(1, 5);
          // Healthy: detection and downing settle (≈ 9 s), rejoins complete, gossip spreads.
          sim.advanceUntil(() => sim.converged(), 60_000, 250);
          sim.advance(10_000);
          expect(sim.converged()).toBe(true);
          for (const node of sim.running()) expect(node.membership.isQuorate()).toBe(true);
        },
      ),
      { numRuns: 30, seed: 20240601 },
    );
    expect(rejoined).toBeGreaterThan(3); // the chaos did get nodes downed, and they came back
  });

  it('with random partitions as well, views converge once the network is healthy', () => {
    const cut = fc.record({ at: fc.integer({ min: 0, max: 50_000 }), len: fc.integer({ min: 0, max: 20_000 }), side: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 0, max: 800 }),
        fc.integer({ min: 3, max: 6 }),
        fc.array(cut, { maxLength: 3 }),
        (seed, dropRate, maxDelay, n, cuts) => {
          const sim = new SimCluster({}, { seed, dropRate, delayMs: { min: 0, max: maxDelay } });
          sim.startAll(n);
          const ids = [...sim.nodes.keys()];
          for (let t = 0; t < 60_000; t += 500) {
            for (const c of cuts) {
              if (c.at >= t && c.at < t + 500) sim.network.partition(ids.filter((_, i) => c.side[i]), ids.filter((_, i) => !c.side[i]));
              if (c.at + c.len >= t && c.at + c.len < t + 500) sim.network.heal();
            }
            sim.advance(500);
          }
          sim.network.heal();
          sim.network.setDropRate(0);
          sim.network.setDelay(1, 5);
          sim.advanceUntil(() => sim.converged(), 60_000, 250);
        },
      ),
      { numRuns: 30, seed: 11 },
    );
  });
});
