// This node's own view of who it can hear: one phi accrual detector per live
// member (per incarnation), and how long the set of unreachable members has been
// unchanged (downing waits for it to be stable, so a partition is seen whole).

import { isLive, type Member } from './member.js';
import { PhiAccrualDetector, type PhiOptions } from './phi.js';

interface Monitored {
  incarnation: number;
  detector: PhiAccrualDetector;
}

export class Reachability {
  private readonly monitored = new Map<string, Monitored>();
  private lastSet = '';
  private since = 0;

  constructor(private readonly phiOptions: PhiOptions) {}

  /**
   * Monitors exactly the live members other than `selfId`. A member seen for the
   * first time (or a new incarnation) starts with a heartbeat at `now`, so a node
   * that dies before its first heartbeat arrives is still detected.
   */
  sync(members: readonly Member[], selfId: string, now: number): void {
    const wanted = new Map<string, Member>();
    for (const m of members) if (m.nodeId !== selfId && isLive(m.status)) wanted.set(m.nodeId, m);
    for (const [id, mon] of this.monitored) {
      const m = wanted.get(id);
      if (m === undefined || m.incarnation !== mon.incarnation) this.monitored.delete(id);
    }
    for (const [id, m] of wanted) {
      if (this.monitored.has(id)) continue;
      const detector = new PhiAccrualDetector(this.phiOptions);
      detector.heartbeat(now);
      this.monitored.set(id, { incarnation: m.incarnation, detector });
    }
  }

  /** Records a heartbeat; false when the sender is not monitored at that incarnation. */
  heartbeat(nodeId: string, incarnation: number, now: number): boolean {
    const mon = this.monitored.get(nodeId);
    if (mon === undefined || mon.incarnation !== incarnation) return false;
    mon.detector.heartbeat(now);
    return true;
  }

  phi(nodeId: string, now: number): number | undefined {
    return this.monitored.get(nodeId)?.detector.phi(now);
  }

  isMonitoring(nodeId: string): boolean {
    return this.monitored.has(nodeId);
  }

  /**
   * Monitored members heard from (or first seen) within `windowMs` whose φ is
   * below the threshold: the members this node can vouch for right now.
   */
  fresh(now: number, windowMs: number): Set<string> {
    const out = new Set<string>();
    for (const [id, mon] of this.monitored) {
      const last = mon.detector.lastHeartbeatAt;
      if (last !== undefined && now - last <= windowMs && mon.detector.isAvailable(now)) out.add(id);
    }
    return out;
  }

  /** Monitored members whose φ is at or above the threshold, sorted by node id, and since when that set is unchanged. */
  observe(now: number): { unreachable: string[]; stableSince: number } {
    const unreachable: string[] = [];
    for (const [id, mon] of this.monitored) if (!mon.detector.isAvailable(now)) unreachable.push(id);
    unreachable.sort();
    const key = unreachable.join('\u0000');
    if (key !== this.lastSet) {
      this.lastSet = key;
      this.since = now;
    }
    return { unreachable, stableSince: this.since };
  }

  clear(now: number): void {
    this.monitored.clear();
    this.lastSet = '';
    this.since = now;
  }
}
