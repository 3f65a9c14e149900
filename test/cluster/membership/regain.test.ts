// Regaining quorum after losing it. Messages a partition held back (TCP keeps
// retransmitting them) arrive after it heals and make the silent side look fresh
// again, though the other side may have downed it — and be failing its actors
// over — meanwhile. So a node back from a loss of quorum hosts again only once
// every live member has answered a confirmation round, and a member that downed
// it does not answer.
import { describe, expect, it } from 'vitest';
import { SimCluster } from './support.js';

/** Links between n3 and the others hold every message for `ms` (in order), as a partition under TCP does. */
function hold(sim: SimCluster, ms: number | undefined): void {
  for (const other of ['n1', 'n2']) {
    sim.network.setLinkDelay('n3', other, ms === undefined ? undefined : { min: ms, max: ms });
    sim.network.setLinkDelay(other, 'n3', ms === undefined ? undefined : { min: ms, max: ms });
  }
}

const heldDown = (sim: SimCluster, holder: string, subject: string, incarnation: number): boolean => {
  const m = sim.m(holder).member(subject);
  return m !== undefined && m.incarnation === incarnation && ['down', 'removed'].includes(m.status);
};

describe('regaining quorum', () => {
  it('late messages from the other side do not give a downed node its quorum back: it rejoins instead', () => {
    const sim = new SimCluster({}, { seed: 21 });
    sim.startAll(3);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(10_000);
    hold(sim, 15_000);
    sim.advanceUntil(() => heldDown(sim, 'n1', 'n3', 1) && heldDown(sim, 'n2', 'n3', 1), 20_000);
    expect(sim.m('n3').isQuorate()).toBe(false);
    hold(sim, undefined); // healed: what was held arrives over the next 15 s, then the links are fast again
    const hostedWhileDowned: number[] = [];
    for (let t = 0; t < 40_000; t += 50) {
      sim.advance(50);
      const n3 = sim.m('n3').self();
      if (n3.incarnation === 1 && sim.m('n3').isQuorate() && (heldDown(sim, 'n1', 'n3', 1) || heldDown(sim, 'n2', 'n3', 1))) hostedWhileDowned.push(t);
    }
    expect(hostedWhileDowned).toEqual([]);
    // It learnt its fate and came back as a new incarnation, quorate again.
    expect(sim.events(['rejoining'], 'n3')).toHaveLength(1);
    expect(sim.m('n3').self().incarnation).toBe(2);
    expect(sim.m('n3').isQuorate()).toBe(true);
    expect(sim.converged()).toBe(true);
  });

  it('a node whose partition heals before anyone downed it regains quorum once every member answered', () => {
    const sim = new SimCluster({}, { seed: 22 });
    sim.startAll(3);
    sim.advanceUntil(() => sim.converged(), 10_000);
    sim.advance(10_000);
    hold(sim, 5_000); // long enough to fence n3, too short for the others to down it
    sim.advanceUntil(() => !sim.m('n3').isQuorate(), 10_000);
    hold(sim, undefined);
    sim.advanceUntil(() => sim.m('n3').isQuorate(), 20_000);
    expect(sim.events(['member-down', 'rejoining'])).toEqual([]);
    expect(sim.events(['quorum-lost', 'quorum-gained'], 'n3').map((l) => l.event.type)).toEqual(['quorum-gained', 'quorum-lost', 'quorum-gained']);
  });
});
