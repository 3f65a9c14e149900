// The confirmation round before downing. Freshness (heard within heartbeat +
// pause) is good enough to fence oneself, but a member cut off a moment ago still
// looks fresh; counting it could let both sides of a new partition keep running.
// So a side that means to down others first asks every member it counts on, and
// decides only over those that answer within the timeout. A node regaining quorum
// after losing it asks every live member the same way (see MembershipCore).

export interface ProbeResult {
  /** Members asked, and those that answered. */
  targets: Set<string>;
  acked: Set<string>;
  /** The unreachable set the round was started for (sorted ids joined), to check it still holds. */
  unreachableKey: string;
}

export class ConfirmationProbe {
  private nonce = 0;
  private current: { nonce: number; targets: Set<string>; acked: Set<string>; unreachableKey: string } | undefined;

  get inFlight(): boolean {
    return this.current !== undefined;
  }

  /** Starts a round; returns the nonce to send to `targets`. */
  start(targets: readonly string[], unreachable: readonly string[]): number {
    this.nonce++;
    this.current = { nonce: this.nonce, targets: new Set(targets), acked: new Set(), unreachableKey: unreachableKey(unreachable) };
    return this.nonce;
  }

  /** Records an answer; true when every target has answered. */
  ack(from: string, nonce: number): boolean {
    const c = this.current;
    if (c === undefined || c.nonce !== nonce || !c.targets.has(from)) return false;
    c.acked.add(from);
    return c.acked.size === c.targets.size;
  }

  /** Ends the round and returns what it found (undefined when none was in flight). */
  finish(): ProbeResult | undefined {
    const c = this.current;
    this.current = undefined;
    return c === undefined ? undefined : { targets: c.targets, acked: c.acked, unreachableKey: c.unreachableKey };
  }

  cancel(): void {
    this.current = undefined;
  }
}

export function unreachableKey(ids: readonly string[]): string {
  return [...ids].sort().join('\u0000');
}
