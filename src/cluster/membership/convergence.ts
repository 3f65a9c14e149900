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
 * plus joining members not on this side when some other counting member is off
 * this side too — that member may have promoted them where we cannot see it, so
 * they count against this side (Akka's "possibly up"). A joiner that is alone off
 * this side cannot tip any decision and is not counted (so a lone member is not
 * fenced by a joiner that died before it was promoted); one on this side never is.
 */
export function quorumBase(view: readonly Member[], onThisSide: ReadonlySet<string>): Member[] {
  const counted = view.filter((m) => countsForQuorum(m.status));
  const othersOff = counted.some((m) => !onThisSide.has(m.nodeId));
  return view.filter((m) => countsForQuorum(m.status) || (othersOff && m.status === 'joining' && !onThisSide.has(m.nodeId)));
}
