// The merge order of member records: a higher incarnation replaces, down and
// removed are final for an incarnation, the member's own version raise refutes a
// suspicion; and merging is a semilattice (so gossip converges).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MEMBER_STATUSES, compareMembers, mergeMember, type Member } from '../../../src/cluster/membership/member.js';
import { MemberTable, changeEvents } from '../../../src/cluster/membership/view.js';

const rec = (status: Member['status'], version: number, incarnation = 1): Member => ({ nodeId: 'n1', address: 'ws://10.0.0.1:7400', incarnation, status, version });

describe('merge order', () => {
  it('a higher incarnation wins over anything of a lower one', () => {
    expect(mergeMember(rec('removed', 9, 1), rec('joining', 0, 2))).toEqual(rec('joining', 0, 2));
  });

  it('down and removed are final for an incarnation, whatever the version', () => {
    expect(mergeMember(rec('down', 3), rec('up', 7)).status).toBe('down');
    expect(mergeMember(rec('down', 3), rec('removed', 1)).status).toBe('removed');
  });

  it('a suspicion beats the same version; the member refutes it with a higher one', () => {
    expect(mergeMember(rec('up', 4), rec('suspect', 4)).status).toBe('suspect');
    expect(mergeMember(rec('suspect', 4), rec('up', 5)).status).toBe('up');
    expect(mergeMember(rec('suspect', 4), rec('leaving', 5)).status).toBe('leaving');
  });
});

const record = fc.record({
  nodeId: fc.constant('n1'),
  address: fc.constantFrom('ws://a:1', 'ws://b:1'),
  incarnation: fc.integer({ min: 0, max: 3 }),
  status: fc.constantFrom(...MEMBER_STATUSES),
  version: fc.integer({ min: 0, max: 4 }),
});

describe('properties', () => {
  it('merge is commutative, associative and idempotent (a join-semilattice)', () => {
    fc.assert(
      fc.property(record, record, record, (a, b, c) => {
        expect(mergeMember(a, b)).toEqual(mergeMember(b, a));
        expect(mergeMember(mergeMember(a, b), c)).toEqual(mergeMember(a, mergeMember(b, c)));
        expect(mergeMember(a, a)).toEqual(a);
      }),
      { numRuns: 2000 },
    );
  });

  it('compareMembers is a total order (antisymmetric, transitive)', () => {
    fc.assert(
      fc.property(record, record, record, (a, b, c) => {
        expect(Math.sign(compareMembers(a, b)) + Math.sign(compareMembers(b, a))).toBe(0);
        if (compareMembers(a, b) <= 0 && compareMembers(b, c) <= 0) expect(compareMembers(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('tables that received the same records in any order hold the same view', () => {
    const records = fc.array(record.chain((r) => fc.constantFrom('n1', 'n2', 'n3').map((nodeId) => ({ ...r, nodeId }))), { maxLength: 30 });
    const twoOrders = records.chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length })));
    fc.assert(
      fc.property(twoOrders, ([inOrder, shuffled]) => {
        const a = new MemberTable();
        const b = new MemberTable();
        for (const r of inOrder) a.merge(r);
        for (const r of shuffled) b.merge(r);
        expect(a.all()).toEqual(b.all());
      }),
      { numRuns: 500 },
    );
  });
});

describe('change events', () => {
  it('a new incarnation retires the old one, then joins (and reports its status past joining)', () => {
    expect(changeEvents(rec('up', 3, 1), rec('up', 1, 2)).map((e) => `${e.type}@${e.member.incarnation}`)).toEqual(['member-removed@1', 'member-joined@2', 'member-up@2']);
  });

  it('a tombstone of a never-seen incarnation announces nothing; a status change announces the new status', () => {
    expect(changeEvents(undefined, rec('removed', 2))).toEqual([]);
    expect(changeEvents(rec('up', 2), rec('suspect', 2)).map((e) => e.type)).toEqual(['member-suspect']);
    expect(changeEvents(rec('up', 2), rec('up', 3))).toEqual([]);
  });
});
