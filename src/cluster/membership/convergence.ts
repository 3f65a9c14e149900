// When may a joining member count? Only once every other live member has seen
// it (Akka moves Joining → Up only at gossip convergence). Until then some node
// might not know it exists, and two sides of a partition would decide quorum
// over different member sets. This tracks, per peer, the view it last sent us.

import { countsForQuorum, isLive, type Member } from './member.js';

interface PeerView {
  incarnation: number;
  /** Incarnation of each node in the peer's view. */
  seen: Map<string, number>;
}

export class SeenViews {
  private readonly byPeer = new Map<string, PeerView>();

  /** Records the view `peer` (at `incarnation`) just sent. */
  record(peer: string, incarnation: number, members: readonly Member[]): void {
    this.byPeer.set(peer, { incarnation, seen: new Map(members.map((m) => [m.nodeId, m.incarnation])) });
  }

  clear(): void {
    this.byPeer.clear();
  }

  /**
   * Joining members (other than `selfId`) that every live member has seen at their
   * incarnation — the joiner included: its own view reached us, so it was welcomed
   * and takes part.
   */
  promotable(view: readonly Member[], selfId: string): Member[] {
    const peers = view.filter((m) => m.nodeId !== selfId && isLive(m.status));
    return view.filter(
      (x) =>
        x.status === 'joining' &&
        x.nodeId !== selfId &&
        peers.every((p) => {
          const pv = this.byPeer.get(p.nodeId);
          return pv !== undefined && pv.incarnation === p.incarnation && pv.seen.get(x.nodeId) === x.incarnation;
        }),
    );
  }
}

/**
 * The members the downing strategy decides over: those up, suspect or leaving,
 * plus joining members not on this side — the other side may already have moved
 * them up, so they count against this side (Akka's "possibly up"). A joining
 * member on this side is not counted for it.
 */
export function quorumBase(view: readonly Member[], onThisSide: ReadonlySet<string>): Member[] {
  return view.filter((m) => countsForQuorum(m.status) || (m.status === 'joining' && !onThisSide.has(m.nodeId)));
}
