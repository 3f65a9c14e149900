// Membership on a virtual clock over the in-memory network: joining through
// seeds, crash detection within the computed time, a pause shorter than the
// detection time, restarts as new incarnations, graceful leave, determinism.

import { describe, expect, it } from 'vitest';
import { Membership } from '../../../src/cluster/membership/membership.js';
import { MEMBERSHIP_DEFAULTS } from '../../../src/cluster/membership/options.js';
import { detectionTimeMs } from '../../../src/cluster/membership/phi.js';
import { InMemoryNetwork } from '../../../src/cluster/membership/in-memory-network.js';
import { VirtualClock } from '../../../src/base/clock.js';
import { seededRng } from '../../../src/base/rng.js';
import { ClusterError } from '../../../src/cluster/errors.js';
import { staticQuorum } from '../../../src/cluster/membership/downing.js';
import { SimCluster, addressOf, settle, viewKey } from './support.js';

const D = detectionTimeMs(MEMBERSHIP_DEFAULTS.heartbeatIntervalMs); // ≈ 4523 ms
const { checkIntervalMs: CHECK, stableAfterMs: STABLE, downRemovalMarginMs: MARGIN, heartbeatIntervalMs: HB } = MEMBERSHIP_DEFAULTS;
const MAX_DELAY = 5; // the in-memory network's default one-way delay is 1–5 ms

function converged(n: number, seed = 1): SimCluster {
  const sim = new SimCluster({}, { seed });
  sim.startAll(n);
  sim.advanceUntil(() => sim.converged(), 10_000);
  return sim;
}

describe('joining through seeds', () => {
  for (const n of [3, 5]) {
    it(`${n} nodes join through the first seed and converge to all up, each seeing every other join and come up`, () => {
      const sim = new SimCluster({}, { seed: n });
      sim.startAll(n);
      const took = sim.advanceUntil(() => sim.converged(), 10_000);
      expect(took).toBeLessThan(3 * MEMBERSHIP_DEFAULTS.gossipIntervalMs);
      const ids = [...sim.nodes.keys()];
      for (const observer of ids) {
        for (const subject of ids) {
          if (observer === subject) continue;
          expect(sim.history(observer, subject)).toEqual(['member-joined@1', 'member-up@1']);
        }
        expect(sim.m(observer).isQuorate()).toBe(true);
      }
      sim.advance(30_000);
      expect(sim.converged()).toBe(true);
      expect(sim.events(['member-suspect', 'member-down', 'member-removed', 'quorum-lost'])).toEqual([]);
    });
  }

  it('a node that starts before its seed keeps retrying and joins once the seed is up', () => {
    const sim = new SimCluster();
    sim.start('n2');
    sim.advance(5_000);
    expect(sim.m('n2').self().status).toBe('joining');
    expect(sim.m('n2').isQuorate()).toBe(false);
    sim.start('n1');
    sim.advanceUntil(() => sim.converged(), 3_000);
  });

  it('the first seed forms the cluster alone only after seedTimeoutMs without an answer from the other seeds', () => {
    const seeds = [addressOf('n1'), addressOf('n2')];
    const sim = new SimCluster({ seeds });
    sim.start('n1');
    sim.advance(MEMBERSHIP_DEFAULTS.seedTimeoutMs - 100);
    expect(sim.m('n1').self().status).toBe('joining');
    sim.advance(MEMBERSHIP_DEFAULTS.seedTimeoutMs);
    expect(sim.m('n1').self().status).toBe('up');
    sim.start('n2');
    sim.start('n3');
    sim.advanceUntil(() => sim.converged(), 3_000);
  });

  it('a restarted first seed joins the running cluster through another seed instead of forming a second one', () => {
    const seeds = [addressOf('n1'), addressOf('n2')];
    const sim = new SimCluster({ seeds });
    sim.start('n1');
    sim.advance(100);
    sim.start('n2');
    sim.start('n3');
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.restart('n1');
    sim.advanceUntil(() => sim.converged(), 3_000);
    expect(sim.m('n1').self().incarnation).toBe(2);
    expect(sim.m('n1').members()).toHaveLength(3);
  });
});

describe('static quorum', () => {
  it('static-quorum(3): members come up one by one, and are quorate only once three are up', () => {
    const sim = new SimCluster({ downing: staticQuorum(3) });
    sim.start('n1');
    sim.advance(1_000);
    expect([sim.m('n1').self().status, sim.m('n1').isQuorate()]).toEqual(['up', false]);
    expect(sim.m('n1').lastDowningDecision()).toMatchObject({ keep: false, reason: 'below-quorum' });
    sim.start('n2');
    sim.advanceUntil(() => sim.converged(), 3_000);
    expect(sim.m('n2').isQuorate()).toBe(false);
    sim.start('n3');
    sim.advanceUntil(() => sim.converged(), 3_000);
    expect(['n1', 'n2', 'n3'].map((id) => sim.m(id).isQuorate())).toEqual([true, true, true]);
    const gained = sim.events(['quorum-gained'], 'n1')[0].event;
    expect(gained).toMatchObject({ memberStatus: 'up', decision: { keep: true, reason: 'quorum', reachable: 3, members: 3 } });
  });
});

describe('failure detection', () => {
  it(`a crashed node goes suspect after ≈${Math.round(D)} ms of silence and down ${STABLE} ms later; the others agree and stay quorate`, () => {
    const sim = converged(3);
    sim.advance(30_000 - sim.clock.now() + HB / 2); // crash half-way between two heartbeats
    const tc = sim.clock.now();
    sim.crash('n3');
    sim.advance(D + STABLE + MARGIN + 4 * CHECK + 100);
    for (const observer of ['n1', 'n2']) {
      const suspect = sim.firstAt(observer, 'member-suspect', 'n3');
      const down = sim.firstAt(observer, 'member-down', 'n3');
      const removed = sim.firstAt(observer, 'member-removed', 'n3');
      expect(suspect, `${observer} suspects n3`).toBeDefined();
      // The last heartbeat arrived at most one interval before the crash: no earlier suspicion,
      // and φ crosses the threshold D after it, seen at the next check.
      expect(suspect!).toBeGreaterThanOrEqual(tc - HB + D);
      expect(suspect!).toBeLessThanOrEqual(tc + D + CHECK + MAX_DELAY);
      expect(down!).toBeGreaterThanOrEqual(suspect! + STABLE - CHECK);
      // …plus the confirmation round with the other survivor (one round trip).
      expect(down!).toBeLessThanOrEqual(tc + D + STABLE + 2 * CHECK + 3 * MAX_DELAY);
      expect(removed!).toBeLessThanOrEqual(down! + MARGIN + CHECK);
      expect(sim.history(observer, 'n3')).toEqual(['member-joined@1', 'member-up@1', 'member-suspect@1', 'member-down@1', 'member-removed@1']);
      expect(sim.m(observer).isQuorate()).toBe(true);
    }
    expect(viewKey(sim.m('n1').members())).toBe(viewKey(sim.m('n2').members()));
    expect(sim.m('n1').members().map((m) => m.nodeId)).toEqual(['n1', 'n2']);
    expect(sim.events(['member-suspect', 'member-down']).every((l) => 'member' in l.event && l.event.member.nodeId === 'n3')).toBe(true);
  });

  it(`a node paused (SIGSTOP) for 3 s, less than the detection time, stays up everywhere`, () => {
    const sim = converged(3);
    sim.advance(20_000 - sim.clock.now() + HB / 2);
    sim.freeze('n3');
    sim.advance(3_000);
    sim.thaw('n3');
    sim.advance(20_000);
    expect(sim.events(['member-suspect', 'member-down', 'member-removed', 'quorum-lost', 'rejoining'])).toEqual([]);
    expect(sim.converged()).toBe(true);
  });

  it('a node paused for 5 s is suspected, refutes the suspicion when it resumes, and is never downed', () => {
    const sim = converged(3);
    sim.advance(20_000 - sim.clock.now() + HB / 2);
    const versionBefore = sim.m('n3').self().version;
    sim.freeze('n3');
    sim.advance(5_000);
    expect(sim.m('n1').member('n3')!.status).toBe('suspect');
    sim.thaw('n3');
    sim.advanceUntil(() => sim.converged(), 3_000);
    expect(sim.history('n1', 'n3')).toEqual(['member-joined@1', 'member-up@1', 'member-suspect@1', 'member-up@1']);
    expect(sim.events(['member-down', 'member-removed', 'quorum-lost', 'rejoining'])).toEqual([]);
    expect(sim.m('n3').self().version).toBeGreaterThan(versionBefore); // raised to refute
  });

  it('a node that dies right after joining, before its first heartbeat, is still detected', () => {
    const sim = converged(2);
    sim.start('n3');
    sim.advanceUntil(() => sim.converged(), 1_000, 1);
    sim.crash('n3');
    // Monitoring starts with a heartbeat at admission; the window then holds only the first
    // estimate's two samples (mean 1 s, σ 250 ms, above the 100 ms floor).
    const firstDetection = detectionTimeMs(HB, { minStdDeviationMs: 250 });
    sim.advance(firstDetection - 200);
    expect(sim.m('n1').member('n3')!.status).toBe('up');
    sim.advance(200 + STABLE + 2 * CHECK + 100);
    expect(sim.m('n1').member('n3')!.status).toBe('down');
    expect(sim.m('n2').member('n3')!.status).toBe('down');
  });

  it('a joiner that dies before it is promoted is downed, and a lone member is not fenced by it', () => {
    const sim = new SimCluster({ seeds: [addressOf('n2')] });
    sim.start('n2');
    sim.advance(1_000);
    sim.start('n1'); // its address sorts lower than n2's: counted, it would win a 1:1 tie
    sim.advanceUntil(() => sim.m('n2').member('n1') !== undefined, 1_000, 1);
    sim.crash('n1'); // admitted (joining) but gone before anyone promoted it
    sim.advance(detectionTimeMs(HB, { minStdDeviationMs: 250 }) + STABLE + MARGIN + 5 * CHECK);
    expect(sim.m('n2').member('n1')!.status).toBe('removed');
    expect(sim.events(['quorum-lost'], 'n2')).toEqual([]);
    expect(sim.m('n2').isQuorate()).toBe(true);
  });
});

describe('restarts', () => {
  it('a restarted node (new incarnation) is accepted and the old incarnation is gone from every view', () => {
    const sim = converged(3);
    sim.crash('n3');
    sim.advance(1_000);
    sim.restart('n3');
    sim.advanceUntil(() => sim.converged(), 3_000);
    for (const observer of ['n1', 'n2']) {
      expect(sim.history(observer, 'n3')).toEqual(['member-joined@1', 'member-up@1', 'member-removed@1', 'member-joined@2', 'member-up@2']);
    }
    for (const n of sim.running()) {
      expect(n.membership.members({ includeRemoved: true }).filter((m) => m.nodeId === 'n3')).toEqual([expect.objectContaining({ incarnation: 2, status: 'up' })]);
    }
    // A late message from the old process changes nothing: its incarnation is superseded.
    const ghost = sim.network.connect('n3', 'ws://10.0.0.99:7400');
    ghost.send({ address: addressOf('n1') }, { type: 'membership.gossip', reply: false, from: { nodeId: 'n3', address: addressOf('n3'), incarnation: 1 }, members: [{ nodeId: 'n3', address: addressOf('n3'), incarnation: 1, status: 'up', version: 99 }] });
    ghost.send({ address: addressOf('n1') }, { type: 'membership.heartbeat', from: { nodeId: 'n3', address: addressOf('n3'), incarnation: 1 } });
    sim.advance(20_000);
    expect(sim.m('n1').member('n3')).toMatchObject({ incarnation: 2, status: 'up' });
    expect(sim.converged()).toBe(true);
    expect(sim.events(['member-suspect', 'member-down'])).toEqual([]);
  });

  it('a node restarted with the same incarnation after being downed is refused until it comes back as a new one', () => {
    const sim = converged(3);
    sim.crash('n3');
    sim.advance(D + STABLE + MARGIN + 5 * CHECK);
    expect(sim.m('n1').member('n3')!.status).toBe('removed');
    // A careless restart that does not raise the incarnation: it learns it was removed and rejoins as 2.
    sim.start('n3', { incarnation: 1 });
    sim.advanceUntil(() => sim.converged(), 5_000);
    expect(sim.m('n3').self().incarnation).toBe(2);
    expect(sim.events(['rejoining'], 'n3')).toHaveLength(1);
  });
});

describe('graceful leave', () => {
  it('leaving → beforeLeave → removed; the others see it leave without suspicion or downing', async () => {
    const sim = new SimCluster();
    let statusInHook: string | undefined;
    sim.start('n1');
    sim.start('n2');
    const n3 = sim.start('n3', { beforeLeave: async () => void (statusInHook = n3.membership.self().status) });
    sim.advanceUntil(() => sim.converged(), 3_000);
    sim.advance(10_000);
    const outcome = await settle(sim, n3.membership.leave(), 10_000);
    expect(outcome.ok).toBe(true);
    expect(statusInHook).toBe('leaving');
    expect(n3.membership.self().status).toBe('removed');
    n3.running = false;
    sim.advance(100); // the removed record is in flight
    for (const observer of ['n1', 'n2']) {
      expect(sim.history(observer, 'n3')).toEqual(['member-joined@1', 'member-up@1', 'member-leaving@1', 'member-removed@1']);
      expect(sim.m(observer).members().map((m) => m.nodeId)).toEqual(['n1', 'n2']);
      expect(sim.m(observer).isQuorate()).toBe(true);
    }
    sim.advance(30_000);
    expect(sim.events(['member-suspect', 'member-down'])).toEqual([]);
    expect(sim.converged()).toBe(true);
  });

  it('waits for beforeLeave (e.g. handing off actors) before going removed', async () => {
    const sim = new SimCluster();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    sim.start('n1');
    sim.start('n2', { beforeLeave: () => gate });
    sim.advanceUntil(() => sim.converged(), 3_000);
    const leaving = sim.m('n2').leave();
    sim.advance(2_000);
    expect(sim.m('n1').member('n2')!.status).toBe('leaving');
    release();
    expect((await settle(sim, leaving, 5_000)).ok).toBe(true);
    sim.advance(100);
    expect(sim.m('n1').member('n2')!.status).toBe('removed');
  });

  it('a failing beforeLeave still removes the node and rejects with CLUSTER_LEAVE_HOOK_FAILED', async () => {
    const sim = new SimCluster();
    sim.start('n1');
    sim.start('n2', { beforeLeave: async () => Promise.reject(new Error('handoff failed')) });
    sim.advanceUntil(() => sim.converged(), 3_000);
    const outcome = await settle(sim, sim.m('n2').leave(), 10_000);
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: unknown }).error).toMatchObject({ code: 'CLUSTER_LEAVE_HOOK_FAILED', field: 'beforeLeave' });
    sim.advance(100);
    expect(sim.m('n1').member('n2')!.status).toBe('removed');
  });

  it('leave() is refused before the node is up and after it stopped', async () => {
    const sim = new SimCluster();
    const n2 = sim.start('n2').membership; // no seed running: stays joining
    await expect(n2.leave()).rejects.toMatchObject({ code: 'CLUSTER_MEMBERSHIP_STATE' });
    n2.stop();
    await expect(n2.leave()).rejects.toBeInstanceOf(ClusterError);
    expect(() => n2.start()).toThrow(expect.objectContaining({ code: 'CLUSTER_MEMBERSHIP_STATE' }));
  });
});

describe('determinism and input hygiene', () => {
  it('the same seeds and the same clock give the same event log', () => {
    const run = (): string => {
      const sim = new SimCluster({}, { seed: 42, delayMs: { min: 1, max: 40 }, dropRate: 0.05 });
      sim.startAll(4);
      sim.advance(20_000);
      sim.crash('n4');
      sim.advance(20_000);
      return JSON.stringify(sim.log);
    };
    expect(run()).toBe(run());
  });

  it('a throwing listener does not disturb membership or other listeners; members() hides tombstones unless asked', () => {
    const sim = converged(3);
    const seen: string[] = [];
    sim.m('n1').on(() => {
      throw new Error('listener bug');
    });
    const off = sim.m('n1').on((e) => seen.push(e.type));
    sim.crash('n3');
    sim.advance(D + STABLE + MARGIN + 5 * CHECK);
    expect(seen).toEqual(['member-suspect', 'member-down', 'member-removed']);
    expect(sim.m('n1').stats().listenerErrors).toBe(3);
    expect(sim.m('n1').members().map((m) => m.nodeId)).toEqual(['n1', 'n2']);
    expect(sim.m('n1').members({ includeRemoved: true }).map((m) => `${m.nodeId}:${m.status}`)).toEqual(['n1:up', 'n2:up', 'n3:removed']);
    off();
    sim.restart('n3');
    sim.advanceUntil(() => sim.converged(), 3_000);
    expect(seen).toHaveLength(3);
  });

  it('drops malformed messages and messages whose sender is not the authenticated peer', () => {
    const clock = new VirtualClock();
    const network = new InMemoryNetwork({ clock, rng: seededRng(1) });
    const m = new Membership({ nodeId: 'n1', address: addressOf('n1'), incarnation: 1, seeds: [], clock, rng: seededRng(2), link: network.connect('n1', addressOf('n1')) });
    m.start();
    const rogue = network.connect('n9', addressOf('n9'));
    rogue.send({ address: addressOf('n1') }, { type: 'membership.heartbeat', from: { nodeId: 'n1', address: 'x', incarnation: -1 } } as never);
    rogue.send({ address: addressOf('n1') }, { type: 'membership.gossip', from: { nodeId: 'n2', address: addressOf('n2'), incarnation: 1 }, reply: false, members: [{ nodeId: 'n1', address: addressOf('n1'), incarnation: 1, status: 'down', version: 9 }] });
    clock.advance(100);
    expect(m.stats()).toMatchObject({ invalidMessages: 1, spoofedMessages: 1 });
    expect(m.self().status).toBe('up');
  });

  it('rejects invalid options with CLUSTER_INVALID_OPTIONS naming the field', () => {
    const clock = new VirtualClock();
    const base = { nodeId: 'n1', address: 'ws://a', incarnation: 1, seeds: [], clock, rng: seededRng(1), link: new InMemoryNetwork({ clock, rng: seededRng(1) }).connect('n1', 'ws://a') };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ nodeId: '' }, 'nodeId'],
      [{ incarnation: -1 }, 'incarnation'],
      [{ incarnation: 1.5 }, 'incarnation'],
      [{ seeds: 'ws://b' }, 'seeds'],
      [{ seeds: [''] }, 'seeds[0]'],
      [{ heartbeatIntervalMs: 0 }, 'heartbeatIntervalMs'],
      [{ stableAfterMs: Number.POSITIVE_INFINITY }, 'stableAfterMs'],
      [{ failureDetector: { threshold: -1 } }, 'failureDetector.threshold'],
      [{ downing: { strategy: 'static-quorum', quorumSize: 0 } }, 'downing.quorumSize'],
      [{ link: {} }, 'link'],
    ];
    for (const [patch, field] of cases) {
      expect(() => new Membership({ ...base, ...patch } as never), field).toThrow(expect.objectContaining({ code: 'CLUSTER_INVALID_OPTIONS', field }));
    }
  });
});
