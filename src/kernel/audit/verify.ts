// End-to-end check of a stored audit log in one ordered pass: every leaf against
// its stored hash and its position (seq), every stored subtree hash against the
// recomputed tree, every stored signed head against the root at its size.

import { verifyTreeHead, type SignedTreeHead } from './keys.js';
import { HASH_BYTES, MerkleFrontier, leafHash, toHex } from './merkle.js';
import { decodeRecord, seqOf } from './record.js';
import type { AuditStore } from './store.js';

export type VerifyResult =
  | { ok: true; size: number; /** Records covered by the latest stored signed head. */ signedSize: number }
  | {
      ok: false;
      /** The first record found wrong, missing or out of place. */
      index?: number;
      /** Size of the signed tree head found wrong. */
      headSize?: number;
      problem: string;
    };

export interface VerifyInput {
  store: AuditStore;
  /** The node's public key (hex); every head must be signed by it. */
  publicKeyHex: string;
  /** What the running log believes: its size and root. */
  size: number;
  root: Uint8Array;
}

type Failure = Extract<VerifyResult, { ok: false }>;

function describeAlteredLeaf(index: number, leaf: Uint8Array, actual: Uint8Array, expected: Uint8Array): Failure {
  let seq: number | undefined;
  try {
    seq = decodeRecord(leaf, index).seq;
  } catch {
    // not even a record: reported as altered bytes below
  }
  if (seq !== undefined && seq !== index) {
    return { ok: false, index, problem: `position ${index} holds record seq ${seq}: records were reordered or replaced` };
  }
  return {
    ok: false,
    index,
    problem: `record ${index} was altered: its bytes hash to ${toHex(actual)}, the stored leaf hash is ${toHex(expected)}`,
  };
}

function describeUndecodable(leaf: Uint8Array, index: number): string {
  try {
    decodeRecord(leaf, index);
  } catch (err) {
    return (err as Error).message;
  }
  return `audit record ${index} is not in canonical form`;
}

function checkEntry(index: number, leaf: Uint8Array | undefined, hashes: Uint8Array | undefined, frontier: MerkleFrontier): Failure | Buffer {
  if (leaf === undefined) return { ok: false, index, problem: `record ${index} is missing` };
  if (hashes === undefined) return { ok: false, index, problem: `the stored hashes of record ${index} are missing` };
  const lh = leafHash(leaf);
  if (hashes.length < HASH_BYTES || lh.compare(hashes, 0, HASH_BYTES) !== 0) {
    return describeAlteredLeaf(index, leaf, lh, hashes.subarray(0, HASH_BYTES));
  }
  const seq = seqOf(leaf);
  if (seq === undefined) return { ok: false, index, problem: describeUndecodable(leaf, index) };
  if (seq !== index) return { ok: false, index, problem: `position ${index} holds record seq ${seq}: records were reordered or replaced` };
  const completed = frontier.append(lh);
  if (completed.length !== hashes.length) {
    return { ok: false, index, problem: `the stored hashes of record ${index} have ${hashes.length} bytes, expected ${completed.length}` };
  }
  for (let level = 1; level * HASH_BYTES < completed.length; level++) {
    const at = level * HASH_BYTES;
    if (completed.compare(hashes, at, at + HASH_BYTES, at, at + HASH_BYTES) !== 0) {
      const first = index + 1 - 2 ** level;
      return {
        ok: false,
        index: first,
        problem: `the stored hash of records [${first}, ${index + 1}) (level ${level}) does not match the records`,
      };
    }
  }
  return completed;
}

function wellFormed(head: unknown, size: number): head is SignedTreeHead {
  const h = head as SignedTreeHead | null;
  return (
    typeof h === 'object' && h !== null && h.size === size && Number.isSafeInteger(h.timestamp) &&
    typeof h.rootHash === 'string' && typeof h.signature === 'string' && typeof h.publicKey === 'string'
  );
}

function checkHead(size: number, head: unknown, root: Buffer, publicKeyHex: string, covered: { size: number; timestamp: number }): Failure | undefined {
  const at = { ok: false as const, headSize: size };
  if (!wellFormed(head, size)) return { ...at, problem: `the tree head stored at size ${size} is malformed` };
  if (head.publicKey !== publicKeyHex) {
    return { ...at, problem: `the tree head at size ${size} names key ${head.publicKey}, not this node's key ${publicKeyHex}` };
  }
  if (!verifyTreeHead(head, publicKeyHex)) return { ...at, problem: `the signature of the tree head at size ${size} is invalid` };
  if (head.rootHash !== root.toString('hex')) {
    return {
      ...at,
      index: covered.size,
      problem: `the tree head at size ${size} signs root ${head.rootHash}, but records [0, ${size}) hash to ${root.toString('hex')}; the change lies in [${covered.size}, ${size})`,
    };
  }
  if (head.timestamp < covered.timestamp) {
    return { ...at, problem: `the tree head at size ${size} is dated ${head.timestamp}, before the head at size ${covered.size} (${covered.timestamp})` };
  }
  return undefined;
}

/** Verify everything the store holds against the running log's view; the first problem found is reported. */
export function verifyStore({ store, publicKeyHex, size, root }: VerifyInput): VerifyResult {
  const heads = store.heads();
  const frontier = new MerkleFrontier();
  let nextHead = 0;
  const covered = { size: 0, timestamp: 0 }; // the last verified head: records below its size are vouched for
  const headsAtCurrentSize = (): Failure | undefined => {
    while (nextHead < heads.length && heads[nextHead].size <= frontier.size) {
      const { size: headSize, head } = heads[nextHead++];
      const problem = checkHead(headSize, head, frontier.root(), publicKeyHex, covered);
      if (problem) return problem;
      covered.size = headSize;
      covered.timestamp = head.timestamp;
    }
    return undefined;
  };
  let problem = headsAtCurrentSize();
  if (problem) return problem;
  for (const { index, leaf, hashes } of store.entries()) {
    const checked = checkEntry(index, leaf, hashes, frontier);
    if (!Buffer.isBuffer(checked)) return checked;
    if (nextHead < heads.length && heads[nextHead].size === frontier.size) {
      problem = headsAtCurrentSize();
      if (problem) return problem;
    }
  }
  const stored = frontier.size;
  if (nextHead < heads.length) {
    const headSize = heads[nextHead].size;
    return { ok: false, index: stored, headSize, problem: `the tree head at size ${headSize} covers records up to ${headSize - 1}, but record ${stored} is missing` };
  }
  if (stored < size) return { ok: false, index: stored, problem: `record ${stored} is missing: the log holds ${size} records, storage ${stored}` };
  if (stored > size || store.storedCount() > size) {
    return { ok: false, index: size, problem: `storage holds records from ${size} on that the log never appended` };
  }
  if (!frontier.root().equals(root)) return { ok: false, problem: 'the stored records do not hash to the root of the running log' };
  return { ok: true, size: stored, signedSize: heads.length === 0 ? 0 : heads[heads.length - 1].size };
}
