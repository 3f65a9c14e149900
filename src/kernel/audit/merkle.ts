// RFC 6962 / RFC 9162 Merkle tree hashing, pure: leaf and node hashes, the
// right-edge frontier that gives O(log n) appends, audit paths, and verifiers.
// Verifiers never throw: any malformed input is a failed verification.

import { hash as sha256Once } from 'node:crypto';

export const HASH_BYTES = 32;

/** Hash of a complete subtree of 2^level leaves starting at leaf `index * 2^level`. */
export type SubtreeSource = (level: number, index: number) => Uint8Array;

const nodeScratch = Buffer.alloc(1 + 2 * HASH_BYTES);
nodeScratch[0] = 0x01;

function sha256(data: Uint8Array): Buffer {
  return sha256Once('sha256', data, 'buffer');
}

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = sha256(new Uint8Array(0));

/** SHA-256(0x00 || leaf): the hash of one log entry. */
export function leafHash(leaf: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(leaf.length + 1);
  buf[0] = 0x00;
  buf.set(leaf, 1);
  return sha256(buf);
}

/** SHA-256(0x01 || left || right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_BYTES);
  return sha256(nodeScratch);
}

/** Number of merges appending to a tree of `size` leaves performs: its trailing one bits. */
export function trailingOnes(size: number): number {
  let n = size;
  let ones = 0;
  while (n % 2 === 1) {
    ones++;
    n = (n - 1) / 2;
  }
  return ones;
}

/** Largest power of two strictly less than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && splitPoint(n + 1) === n;
}

/**
 * The right edge of the tree: one complete-subtree hash per set bit of `size`,
 * largest (leftmost) first. Appending touches only this stack, and the root is
 * the RFC 6962 MTH folded from the right.
 */
export class MerkleFrontier {
  private readonly stack: Uint8Array[];
  private count: number;

  constructor(size = 0, stack: Uint8Array[] = []) {
    let bits = 0;
    for (let n = size; n > 0; n = Math.floor(n / 2)) bits += n % 2;
    if (!Number.isSafeInteger(size) || size < 0 || bits !== stack.length) {
      throw new RangeError(`a frontier of size ${size} needs ${bits} subtree hashes, got ${stack.length}`);
    }
    this.count = size;
    this.stack = stack.slice();
  }

  get size(): number {
    return this.count;
  }

  /** Subtree hashes on the right edge, largest first (a copy). */
  hashes(): Uint8Array[] {
    return this.stack.slice();
  }

  /**
   * Add a leaf hash. Returns the hashes of every complete subtree that ends at
   * this leaf, concatenated by level: bytes [32*l, 32*l+32) hold level l (level 0 is the leaf).
   */
  append(leaf: Uint8Array): Buffer {
    const merges = trailingOnes(this.count);
    const out = Buffer.allocUnsafe(HASH_BYTES * (merges + 1));
    out.set(leaf, 0);
    let h: Uint8Array = leaf;
    for (let level = 1; level <= merges; level++) {
      h = nodeHash(this.stack.pop()!, h);
      out.set(h, HASH_BYTES * level);
    }
    this.stack.push(h === leaf ? Buffer.from(leaf) : h);
    this.count++;
    return out;
  }

  root(): Buffer {
    if (this.stack.length === 0) return Buffer.from(EMPTY_ROOT);
    let h = this.stack[this.stack.length - 1];
    for (let i = this.stack.length - 2; i >= 0; i--) h = nodeHash(this.stack[i], h);
    return Buffer.from(h);
  }
}

/** Positions of the frontier's subtrees for a tree of `size` leaves: [level, index], largest first. */
export function frontierPositions(size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (start + width <= size) {
      out.push([level, start / width]);
      start += width;
    }
  }
  return out;
}

/** MTH of a list of leaf hashes. */
export function rootOf(leafHashes: readonly Uint8Array[]): Buffer {
  const f = new MerkleFrontier();
  for (const h of leafHashes) f.append(h);
  return f.root();
}

/** MTH of leaves [lo, hi), built from complete subtrees. */
export function rangeHash(lo: number, hi: number, node: SubtreeSource): Uint8Array {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (isPowerOfTwo(n) && lo % n === 0) return node(Math.log2(n), lo / n);
  const k = splitPoint(n);
  return nodeHash(rangeHash(lo, lo + k, node), rangeHash(lo + k, hi, node));
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
}

/** RFC 6962 §2.1.1 PATH(index, D[0:size]), deepest sibling first. */
export function inclusionProof(index: number, size: number, node: SubtreeSource): Uint8Array[] {
  checkSize(index, 'index');
  checkSize(size, 'size');
  if (index >= size) throw new RangeError(`index ${index} is not below tree size ${size}`);
  const topDown: Uint8Array[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      topDown.push(rangeHash(lo + k, hi, node));
      hi = lo + k;
    } else {
      topDown.push(rangeHash(lo, lo + k, node));
      lo += k;
    }
  }
  return topDown.reverse();
}

/** RFC 6962 §2.1.2 PROOF(size1, D[0:size2]); empty when size1 == size2. */
export function consistencyProof(size1: number, size2: number, node: SubtreeSource): Uint8Array[] {
  checkSize(size1, 'size1');
  checkSize(size2, 'size2');
  if (size1 < 1 || size1 > size2) throw new RangeError(`need 1 <= size1 <= size2, got ${size1} and ${size2}`);
  const topDown: Uint8Array[] = [];
  let m = size1;
  let lo = 0;
  let hi = size2;
  let complete = true; // SUBPROOF's flag b: the old tree is this whole subtree
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      topDown.push(rangeHash(lo + k, hi, node));
      hi = lo + k;
    } else {
      topDown.push(rangeHash(lo, lo + k, node));
      lo += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) topDown.push(rangeHash(lo, hi, node));
  return topDown.reverse();
}

/** Complete-subtree hashes over an in-memory list of leaf hashes (for tests and offline checks). */
export function memorySubtrees(leafHashes: readonly Uint8Array[]): SubtreeSource {
  const levels: Uint8Array[][] = [leafHashes.slice()];
  return (level, index) => {
    while (levels.length <= level) {
      const below = levels[levels.length - 1];
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) next.push(nodeHash(below[i], below[i + 1]));
      levels.push(next);
    }
    const h = levels[level][index];
    if (h === undefined) throw new RangeError(`no complete subtree at level ${level}, index ${index}`);
    return h;
  };
}

// ---- verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------------

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict hex decoding; undefined for anything that is not an even-length hex string. */
export function fromHex(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !HEX.test(value)) return undefined;
  return Buffer.from(value, 'hex');
}

function hashList(values: unknown): Buffer[] | undefined {
  if (!Array.isArray(values)) return undefined;
  const out: Buffer[] = [];
  for (const v of values) {
    const b = fromHex(v);
    if (b === undefined || b.length !== HASH_BYTES) return undefined;
    out.push(b);
  }
  return out;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const half = (n: number): number => Math.floor(n / 2);
const odd = (n: number): boolean => n % 2 === 1;

/** Does `path` prove that the leaf with hash `leafHashHex` sits at `index` in the tree of `size` with `rootHex`? */
export function verifyInclusion(leafHashHex: string, index: number, size: number, path: readonly string[], rootHex: string): boolean {
  const leaf = fromHex(leafHashHex);
  const root = fromHex(rootHex);
  const proof = hashList(path);
  if (leaf?.length !== HASH_BYTES || root?.length !== HASH_BYTES || proof === undefined) return false;
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && root.equals(r);
}

/** Does `proof` show that the tree of `size1` with `root1Hex` is a prefix of the tree of `size2` with `root2Hex`? */
export function verifyConsistency(size1: number, size2: number, root1Hex: string, root2Hex: string, proof: readonly string[]): boolean {
  const root1 = fromHex(root1Hex);
  const root2 = fromHex(root2Hex);
  const path = hashList(proof);
  if (root1 === undefined || root2 === undefined || path === undefined) return false;
  // A proof from the empty tree proves nothing (RFC 9162 defines none); reject it, as the Go reference does.
  if (!isSize(size1) || !isSize(size2) || size1 < 1 || size2 < size1) return false;
  if (size1 === size2) return path.length === 0 && root1.equals(root2);
  if (root1.length !== HASH_BYTES || root2.length !== HASH_BYTES || path.length === 0) return false;
  if (isPowerOfTwo(size1)) path.unshift(root1);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0];
  let sr: Uint8Array = path[0];
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && root1.equals(fr) && root2.equals(sr);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
