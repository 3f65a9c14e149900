import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  MerkleFrontier,
  consistencyProof,
  frontierPositions,
  inclusionProof,
  leafHash,
  memorySubtrees,
  rootOf,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/kernel/audit/merkle.js';
import { loadVectors, referenceRoot } from './helpers.js';

const v = loadVectors();
const leafInputs = v.leaves.map((h) => Buffer.from(h, 'hex'));
const leafHashes = leafInputs.map((l) => leafHash(l));
const subtrees = memorySubtrees(leafHashes);
const hex = (list: Uint8Array[]): string[] => list.map(toHex);

describe('RFC 6962 vectors: hashing', () => {
  it('has the vector file with its full set of cases', () => {
    expect(v.leaves).toHaveLength(8);
    expect(v.inclusion.length).toBeGreaterThanOrEqual(144);
    expect(v.consistency.length).toBeGreaterThanOrEqual(135);
  });

  it('hashes each leaf as SHA-256(0x00 || input)', () => {
    expect(hex(leafHashes)).toEqual(v.leafHashes);
  });

  it('hashes interior nodes as SHA-256(0x01 || left || right), level by level', () => {
    v.nodeHashes.forEach((level, l) => level.forEach((h, i) => expect(toHex(subtrees(l, i))).toBe(h)));
  });

  it.each(Object.keys(v.roots).map(Number))('computes the published root of the first %i leaves', (n) => {
    expect(rootOf(leafHashes.slice(0, n)).toString('hex')).toBe(v.roots[String(n)]);
  });

  it('uses SHA-256 of the empty string as the empty root', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(v.roots['0']);
  });
});

describe('RFC 6962 vectors: proofs we generate equal the published ones', () => {
  const ours = v.inclusion.filter((c) => c.expected && c.size <= 8 && c.leafHash === v.leafHashes[c.index] && c.root === v.roots[String(c.size)]);
  it('covers every (index, size) pair of the 8-leaf tree', () => {
    expect(new Set(ours.map((c) => `${c.index}/${c.size}`)).size).toBe(36);
  });
  it.each(ours.map((c) => [c.index, c.size, c] as const))('inclusion proof of leaf %i in a tree of %i', (_i, _s, c) => {
    expect(hex(inclusionProof(c.index, c.size, subtrees))).toEqual(c.proof);
  });

  const oursC = v.consistency.filter((c) => c.expected && c.size1 >= 1 && c.size2 <= 8 && c.root1 === v.roots[String(c.size1)] && c.root2 === v.roots[String(c.size2)]);
  it('covers every 1 <= size1 < size2 <= 8 pair', () => {
    expect(new Set(oursC.filter((c) => c.size1 < c.size2).map((c) => `${c.size1}/${c.size2}`)).size).toBe(28);
  });
  it.each(oursC.map((c) => [c.size1, c.size2, c] as const))('consistency proof from %i to %i', (_a, _b, c) => {
    expect(hex(consistencyProof(c.size1, c.size2, subtrees))).toEqual(c.proof);
  });
});

describe('RFC 6962 vectors: verifiers accept exactly the valid proofs', () => {
  it.each(v.inclusion.map((c, i) => [i, c.expected ? 'accepts' : 'rejects', c.desc, c] as const))(
    'inclusion #%i %s: %s',
    (_i, _verb, _desc, c) => {
      expect(verifyInclusion(c.leafHash, c.index, c.size, c.proof, c.root)).toBe(c.expected);
    },
  );
  it.each(v.consistency.map((c, i) => [i, c.expected ? 'accepts' : 'rejects', c.desc, c] as const))(
    'consistency #%i %s: %s',
    (_i, _verb, _desc, c) => {
      expect(verifyConsistency(c.size1, c.size2, c.root1, c.root2, c.proof)).toBe(c.expected);
    },
  );
});

/** Distinct leaves: with repeated leaves, a proof for one position can honestly verify for another. */
const leafLists = (min: number, max: number) =>
  fc
    .uniqueArray(fc.uint8Array({ maxLength: 24 }), { minLength: min, maxLength: max, selector: (l) => Buffer.from(l).toString('hex') })
    .map((ls) => ls.map((l) => Buffer.from(l)));

describe('Merkle properties', () => {
  it('frontier root equals the recursive RFC 6962 MTH for any leaf list', () => {
    fc.assert(
      fc.property(leafLists(0, 80), (leaves) => {
        expect(rootOf(leaves.map(leafHash)).equals(referenceRoot(leaves))).toBe(true);
      }),
    );
  });

  it('a frontier restored from stored subtrees continues to the same root', () => {
    fc.assert(
      fc.property(leafLists(0, 70), fc.nat(), (leaves, cut) => {
        const hashes = leaves.map(leafHash);
        const k = leaves.length === 0 ? 0 : cut % (leaves.length + 1);
        const src = memorySubtrees(hashes);
        const restored = new MerkleFrontier(k, frontierPositions(k).map(([l, i]) => src(l, i)));
        for (const h of hashes.slice(k)) restored.append(h);
        expect(restored.root().equals(referenceRoot(leaves))).toBe(true);
      }),
    );
  });

  it('every inclusion proof verifies, and fails for another index, leaf, tree or a flipped bit', () => {
    fc.assert(
      fc.property(leafLists(1, 70), fc.nat(), fc.nat(), (leaves, a, b) => {
        const hashes = leaves.map(leafHash);
        const n = leaves.length;
        const index = a % n;
        const root = referenceRoot(leaves).toString('hex');
        const proof = hex(inclusionProof(index, n, memorySubtrees(hashes)));
        const lh = toHex(hashes[index]);
        expect(verifyInclusion(lh, index, n, proof, root)).toBe(true);
        if (n > 1) {
          const other = (index + 1 + (b % (n - 1))) % n;
          expect(verifyInclusion(toHex(hashes[other]), index, n, proof, root)).toBe(false);
          expect(verifyInclusion(lh, other, n, proof, root)).toBe(false);
        }
        // A path carries no size of its own; what a signed head fixes is the (size, root) pair.
        const grown = referenceRoot([...leaves, Buffer.from('extra')]).toString('hex');
        expect(verifyInclusion(lh, index, n + 1, proof, grown)).toBe(false);
        if (proof.length > 0) {
          const bad = proof.slice();
          const at = b % bad.length;
          const bytes = Buffer.from(bad[at], 'hex');
          bytes[b % 32] ^= 1 << (b % 8);
          bad[at] = bytes.toString('hex');
          expect(verifyInclusion(lh, index, n, bad, root)).toBe(false);
        }
      }),
    );
  });

  it('every consistency proof verifies, and fails for a wrong root, a grown tree or a flipped bit', () => {
    fc.assert(
      fc.property(leafLists(1, 70), fc.nat(), fc.nat(), (leaves, a, b) => {
        const n = leaves.length;
        const m = 1 + (a % n);
        const src = memorySubtrees(leaves.map(leafHash));
        const r1 = referenceRoot(leaves.slice(0, m)).toString('hex');
        const r2 = referenceRoot(leaves).toString('hex');
        const proof = hex(consistencyProof(m, n, src));
        expect(verifyConsistency(m, n, r1, r2, proof)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, r2, r2, proof)).toBe(false);
          const grown = referenceRoot([...leaves, Buffer.from('extra')]).toString('hex');
          expect(verifyConsistency(m, n + 1, r1, grown, proof)).toBe(false);
          const bad = proof.slice();
          const at = b % bad.length;
          const bytes = Buffer.from(bad[at], 'hex');
          bytes[b % 32] ^= 1 << (b % 8);
          bad[at] = bytes.toString('hex');
          expect(verifyConsistency(m, n, r1, r2, bad)).toBe(false);
        }
      }),
    );
  });

  it('proof generators refuse impossible requests', () => {
    expect(() => inclusionProof(3, 3, subtrees)).toThrow(RangeError);
    expect(() => consistencyProof(0, 3, subtrees)).toThrow(RangeError);
    expect(() => consistencyProof(4, 3, subtrees)).toThrow(RangeError);
    expect(consistencyProof(5, 5, subtrees)).toEqual([]);
  });

  it('verifiers reject malformed input instead of throwing', () => {
    const root = v.roots['8'];
    const good = v.inclusion.find((c) => c.expected && c.size === 8)!;
    expect(verifyInclusion('zz', good.index, 8, good.proof, root)).toBe(false);
    expect(verifyInclusion(good.leafHash, -1, 8, good.proof, root)).toBe(false);
    expect(verifyInclusion(good.leafHash, 0.5, 8, good.proof, root)).toBe(false);
    expect(verifyInclusion(good.leafHash, good.index, 8, ['abc'], root)).toBe(false);
    expect(verifyInclusion(good.leafHash, good.index, 8, null as unknown as string[], root)).toBe(false);
    expect(verifyConsistency(2, 8, 'not hex', root, [])).toBe(false);
    expect(verifyConsistency(Number.NaN, 8, root, root, [])).toBe(false);
  });
});
