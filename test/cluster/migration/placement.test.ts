// The pure decisions of mobility: replica placement by rendezvous hashing, which
// survivor restarts a failed node's actor, and placement against contracts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failoverPlan, placementRefusal, replicaSet } from '../../../src/cluster/migration/placement.js';
import { resolveMobility } from '../../../src/cluster/migration/options.js';

const nodes = fc.uniqueArray(fc.stringMatching(/^n[0-9a-z]{1,4}$/), { minLength: 2, maxLength: 7 });

describe('replica placement', () => {
  it('is the same whatever order the members are listed in, never the owner, at most `count` members', () => {
    fc.assert(
      fc.property(nodes, fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 4 }), (members, id, count) => {
        const owner = members[0]!;
        const a = replicaSet(id, owner, members, count);
        const b = replicaSet(id, owner, [...members].reverse(), count);
        expect(a).toEqual(b);
        expect(a).not.toContain(owner);
        expect(a.length).toBe(Math.min(count, members.length - 1));
      }),
    );
  });

  it('a member joining moves only the replicas it now holds (rendezvous)', () => {
    fc.assert(
      fc.property(nodes, fc.stringMatching(/^j[0-9a-z]{1,4}$/), fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 30 }), (members, joiner, ids) => {
        const owner = members[0]!;
        for (const id of ids) {
          const before = replicaSet(id, owner, members, 1);
          const after = replicaSet(id, owner, [...members, joiner], 1);
          if (after[0] !== joiner) expect(after).toEqual(before);
        }
      }),
    );
  });
});

describe('failover decision', () => {
  it('exactly one survivor restarts each actor of the removed node, whoever of the holders asks', () => {
    fc.assert(
      fc.property(nodes, fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 3 }), (members, ids, count) => {
        const removed = members[0]!;
        const survivors = members.slice(1);
        const replicas = [...new Set(ids)].map((id) => ({ id, owner: removed, replicaSet: replicaSet(id, removed, members, count) }));
        const restarted = survivors.flatMap((self) =>
          failoverPlan({ self, quorate: true, removed, up: survivors, replicas: replicas.filter((r) => r.replicaSet.includes(self)) }),
        );
        expect(restarted.sort()).toEqual(replicas.map((r) => r.id).sort());
      }),
    );
  });

  it('the next holder takes over when the first is down too; nothing on a side without quorum; nothing of other owners', () => {
    const replicas = [
      { id: 'x', owner: 'n3', replicaSet: ['n1', 'n2'] },
      { id: 'y', owner: 'n4', replicaSet: ['n2'] },
    ];
    expect(failoverPlan({ self: 'n2', quorate: true, removed: 'n3', up: ['n1', 'n2'], replicas })).toEqual([]);
    expect(failoverPlan({ self: 'n2', quorate: true, removed: 'n3', up: ['n2', 'n5'], replicas })).toEqual(['x']);
    expect(failoverPlan({ self: 'n1', quorate: false, removed: 'n3', up: ['n1'], replicas })).toEqual([]);
    expect(failoverPlan({ self: 'n1', quorate: true, removed: 'n3', up: ['n1', 'n2'], replicas })).toEqual(['x']);
  });
});

describe('placement and options', () => {
  it('a contract without placement goes anywhere; with one, only to nodes of that placement', () => {
    expect(placementRefusal(undefined, 'edge')).toBeUndefined();
    expect(placementRefusal('edge', 'edge')).toBeUndefined();
    expect(placementRefusal('cloud', 'on_prem')).toMatch(/cloud/);
  });

  it('defaults, and bad values name the option', () => {
    expect(resolveMobility({})).toEqual({ placement: 'on_prem', replicas: 1, handOffOnLeave: true, drainMs: 5000, timeoutMs: 10_000, holdMs: 2000 });
    expect(() => resolveMobility({ handOffOnLeave: 'yes' as never })).toThrow(expect.objectContaining({ field: 'cluster.handOffOnLeave' }));
    expect(() => resolveMobility({ placement: 'moon' as never })).toThrow(expect.objectContaining({ code: 'CLUSTER_INVALID_OPTIONS', field: 'cluster.placement' }));
    expect(() => resolveMobility({ replicas: -1 })).toThrow(expect.objectContaining({ field: 'cluster.replicas' }));
    expect(() => resolveMobility({ migration: { drainMs: 0 } })).toThrow(expect.objectContaining({ field: 'cluster.migration.drainMs' }));
  });
});
