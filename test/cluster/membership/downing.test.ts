// Split-brain decisions: keep-majority (with the lowest-address tie-break) and
// static-quorum(n), and the safety property: for any partition of a member set
// into two sides, at most one side keeps running.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideDowning, keepMajority, resolveDowning, staticQuorum, type DowningMember, type DowningStrategy } from '../../../src/cluster/membership/downing.js';
import { islandWins } from '../../../src/cluster/membership/islands.js';
import type { Member } from '../../../src/cluster/membership/member.js';

const members = (...ids: string[]): DowningMember[] => ids.map((id) => ({ nodeId: id, address: `ws://${id}:7400` }));
const keep = (s: DowningStrategy, all: DowningMember[], side: string[]): boolean => decideDowning(s, all, new Set(side)).keep;

describe('keep-majority', () => {
  const all = members('a', 'b', 'c', 'd', 'e');
  it('keeps the side with more than half, downs itself otherwise', () => {
    expect(decideDowning(keepMajority(), all, new Set(['a', 'b', 'c']))).toEqual({ keep: true, reason: 'majority', reachable: 3, members: 5 });
    expect(decideDowning(keepMajority(), all, new Set(['d', 'e']))).toEqual({ keep: false, reason: 'minority', reachable: 2, members: 5 });
  });

  it('at exactly half keeps the side holding the lowest address (not the lowest node id)', () => {
    const four = [
      { nodeId: 'z', address: 'ws://10.0.0.1:7400' },
      { nodeId: 'a', address: 'ws://10.0.0.2:7400' },
      { nodeId: 'b', address: 'ws://10.0.0.3:7400' },
      { nodeId: 'c', address: 'ws://10.0.0.4:7400' },
    ];
    expect(decideDowning(keepMajority(), four, new Set(['z', 'c'])).reason).toBe('half-with-lowest');
    expect(decideDowning(keepMajority(), four, new Set(['a', 'b'])).reason).toBe('half-without-lowest');
  });

  it('ignores reachable ids that are not members, and an empty member set keeps running', () => {
    expect(keep(keepMajority(), members('a', 'b', 'c'), ['c', 'x', 'y'])).toBe(false);
    expect(decideDowning(keepMajority(), [], new Set()).keep).toBe(true);
  });
});

describe('static-quorum', () => {
  it('keeps a side of at least quorumSize members', () => {
    const all = members('a', 'b', 'c', 'd', 'e');
    expect(keep(staticQuorum(3), all, ['c', 'd', 'e'])).toBe(true);
    expect(keep(staticQuorum(3), all, ['a', 'b'])).toBe(false);
  });

  it('keeps no side once the cluster has more than 2·quorumSize − 1 members (two quorums could form)', () => {
    const six = members('a', 'b', 'c', 'd', 'e', 'f');
    expect(decideDowning(staticQuorum(3), six, new Set(['a', 'b', 'c', 'd', 'e', 'f']))).toMatchObject({ keep: false, reason: 'too-many-members' });
  });

  it('rejects a quorum size that is not a positive integer', () => {
    expect(() => staticQuorum(0)).toThrow(expect.objectContaining({ code: 'CLUSTER_INVALID_OPTIONS', field: 'downing.quorumSize' }));
    expect(() => resolveDowning({ strategy: 'static-quorum', quorumSize: 2.5 })).toThrow(expect.objectContaining({ field: 'downing.quorumSize' }));
    expect(() => resolveDowning({ strategy: 'keep-oldest' })).toThrow(expect.objectContaining({ field: 'downing.strategy' }));
    expect(() => resolveDowning('keep-majority')).toThrow(expect.objectContaining({ field: 'downing' }));
    expect(resolveDowning(undefined)).toEqual({ strategy: 'keep-majority' });
  });
});

// A member set with distinct ids and addresses (addresses shuffled against ids, so
// the tie-break is by address, not id), and an assignment of each member to a side.
const partitioned = fc
  .uniqueArray(fc.integer({ min: 1, max: 250 }), { minLength: 1, maxLength: 12 })
  .chain((octets) =>
    fc.tuple(
      fc.constant(octets),
      fc.shuffledSubarray(octets, { minLength: octets.length, maxLength: octets.length }),
      fc.array(fc.boolean(), { minLength: octets.length, maxLength: octets.length }),
    ),
  )
  .map(([ids, addrs, sides]) => {
    const all = ids.map((id, i) => ({ nodeId: `n${id}`, address: `ws://10.0.0.${addrs[i]}:7400` }));
    return { all, a: all.filter((_, i) => sides[i]).map((m) => m.nodeId), b: all.filter((_, i) => !sides[i]).map((m) => m.nodeId) };
  });

const strategy: fc.Arbitrary<DowningStrategy> = fc.oneof(
  fc.constant(keepMajority()),
  fc.integer({ min: 1, max: 8 }).map((q) => staticQuorum(q)),
);

describe('properties', () => {
  it('for any partition into two sides, at most one side keeps running (both strategies)', () => {
    fc.assert(
      fc.property(partitioned, strategy, ({ all, a, b }, s) => {
        expect(keep(s, all, a) && keep(s, all, b)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('keep-majority: exactly one side keeps running (no partition leaves the cluster headless)', () => {
    fc.assert(
      fc.property(partitioned, ({ all, a, b }) => {
        expect(Number(keep(keepMajority(), all, a)) + Number(keep(keepMajority(), all, b))).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('a side that can reach every member keeps running (keep-majority; static-quorum while n ≤ members ≤ 2n − 1)', () => {
    fc.assert(
      fc.property(partitioned, fc.integer({ min: 1, max: 8 }), ({ all }, q) => {
        const everyone = all.map((m) => m.nodeId);
        expect(keep(keepMajority(), all, everyone)).toBe(true);
        expect(keep(staticQuorum(q), all, everyone)).toBe(all.length >= q && all.length <= 2 * q - 1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('islands', () => {
  const island = (octets: number[], status: Member['status'] = 'up'): Member[] =>
    octets.map((o) => ({ nodeId: `n${o}`, address: `ws://10.0.0.${o}:7400`, incarnation: 1, status, version: 0 }));

  it('the larger island wins; at equal size the one holding the lowest address', () => {
    expect(islandWins(island([4, 5, 6]), island([1, 2]))).toBe(true);
    expect(islandWins(island([4, 5]), island([1, 2]))).toBe(false);
    expect(islandWins(island([1, 5]), island([2, 3]))).toBe(true);
    // Only members that count for quorum make an island's size.
    expect(islandWins([...island([4, 5]), ...island([6, 7, 8], 'removed')], island([1, 2, 3]))).toBe(false);
  });

  it('property: for two different islands exactly one wins (both sides agree)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 2, maxLength: 12 }), fc.nat(), (octets, cut) => {
        const k = 1 + (cut % (octets.length - 1));
        const a = island(octets.slice(0, k));
        const b = island(octets.slice(k));
        expect(Number(islandWins(a, b)) + Number(islandWins(b, a))).toBe(1);
      }),
      { numRuns: 500 },
    );
  });
});
