// The kernel's audit log: every decision becomes a leaf of an RFC 6962 Merkle tree
// stored in LMDB. Appends are O(log n) in memory with writes batched behind them;
// tree heads are signed lazily (on head(), on flushed(), every `signEvery` appends).

import type { RootDatabase } from 'lmdb';
import type { Clock } from '../../base/clock.js';
import { AuditError, ErrorCodes, StorageError } from '../../base/errors.js';
import { AuditCodes } from './codes.js';
import { treeHeadMessage, type NodeKeys, type SignedTreeHead } from './keys.js';
import {
  HASH_BYTES,
  MerkleFrontier,
  consistencyProof,
  frontierPositions,
  inclusionProof,
  leafHash,
  nodeHash,
  rangeHash,
  toHex,
  type SubtreeSource,
} from './merkle.js';
import { buildRecord, decodeRecord, encodeRecord, type AuditRecord, type AuditRecordInput } from './record.js';
import { AuditStore } from './store.js';
import { verifyStore, type VerifyResult } from './verify.js';

export interface AuditLogOptions {
  /** The node's LMDB environment; the log opens its own sub-databases in it. */
  db: RootDatabase;
  keys: NodeKeys;
  clock: Clock;
  nodeId: string;
  /** Keep a signed checkpoint head at least every this many appends (default 1024). */
  signEvery?: number;
}

/** Complete-subtree hashes read from storage, recomputed from leaves where an entry is absent. */
function storedSubtrees(store: AuditStore): SubtreeSource {
  const node: SubtreeSource = (level, index) => {
    const last = (index + 1) * 2 ** level - 1;
    const at = level * HASH_BYTES;
    const stored = store.hashes(last);
    if (stored !== undefined && stored.length >= at + HASH_BYTES) return stored.subarray(at, at + HASH_BYTES);
    if (level > 0) return nodeHash(node(level - 1, 2 * index), node(level - 1, 2 * index + 1));
    const leaf = store.leaf(last);
    if (leaf === undefined) throw new StorageError(AuditCodes.corrupt, `audit record ${last} is missing from storage`, { details: { index: last } });
    return leafHash(leaf);
  };
  return node;
}

function outOfRange(field: string, message: string): AuditError {
  return new AuditError(AuditCodes.outOfRange, message, { field });
}

function checkIndex(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw outOfRange(field, `${field} must be a non-negative integer, got ${value}`);
}

export class AuditLog {
  private latest: SignedTreeHead | undefined;
  /** Whether `latest` is a kept checkpoint; if not, the next signed head replaces it in storage. */
  private latestKept = true;
  private checkpointSize: number;
  private signQueued = false;
  private failure: unknown;

  private constructor(
    private readonly store: AuditStore,
    private readonly nodes: SubtreeSource,
    private readonly frontier: MerkleFrontier,
    private readonly keys: NodeKeys,
    private readonly clock: Clock,
    readonly nodeId: string,
    private readonly signEvery: number,
  ) {
    this.latest = store.lastHead();
    this.checkpointSize = this.latest?.size ?? 0;
  }

  /** Open (or create) the log in `db`, restoring its size and frontier from storage. */
  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    const { db, keys, clock, nodeId, signEvery = 1024 } = opts;
    if (typeof nodeId !== 'string' || nodeId.length === 0) {
      throw new AuditError(ErrorCodes.invalidOptions, 'nodeId must be a non-empty string', { field: 'nodeId' });
    }
    if (!Number.isSafeInteger(signEvery) || signEvery < 1) {
      throw new AuditError(ErrorCodes.invalidOptions, `signEvery must be a positive integer, got ${signEvery}`, { field: 'signEvery' });
    }
    const store = AuditStore.open(db);
    const nodes = storedSubtrees(store);
    const size = store.end;
    const frontier = new MerkleFrontier(
      size,
      frontierPositions(size).map(([level, index]) => Buffer.from(nodes(level, index))),
    );
    const log = new AuditLog(store, nodes, frontier, keys, clock, nodeId, signEvery);
    log.failure = log.disagreementWithLatestHead();
    return log;
  }

  /**
   * Storage that no longer extends the latest signed head must not be appended to: new heads
   * would paper over the damage. Reads, proofs and verify() keep working so it can be located.
   */
  private disagreementWithLatestHead(): StorageError | undefined {
    const head = this.latest;
    if (head === undefined) return undefined;
    const damaged = (what: string) =>
      new StorageError(AuditCodes.corrupt, `audit log storage ${what}; appends are refused, run verify() to locate the damage`, {
        details: { headSize: head.size, storedSize: this.size },
      });
    if (head.size > this.size) return damaged(`holds ${this.size} records but the latest signed head covers ${head.size}`);
    try {
      if (this.rootHash(head.size) !== head.rootHash) return damaged(`does not hash to the root signed at size ${head.size}`);
    } catch (cause) {
      return damaged(`cannot rebuild the root signed at size ${head.size} (${(cause as Error).message})`);
    }
    return undefined;
  }

  get size(): number {
    return this.frontier.size;
  }

  /** Record one decision. Synchronous and O(log n); durable once `flushed()` resolves. */
  append(input: AuditRecordInput): { index: number; leafHash: string } {
    this.throwIfFailed();
    const index = this.frontier.size;
    const leaf = encodeRecord(buildRecord(input, index, this.now(), this.nodeId));
    const hash = leafHash(leaf);
    try {
      this.store.append(index, leaf, this.frontier.append(hash));
    } catch (cause) {
      this.failure = cause; // the tree in memory is now ahead of storage: fail closed
      throw cause;
    }
    if (this.frontier.size - this.checkpointSize >= this.signEvery && !this.signQueued) {
      this.signQueued = true;
      queueMicrotask(() => this.signCheckpoint());
    }
    return { index, leafHash: hash.toString('hex') };
  }

  /** The signed head of the whole log, signing one now if the log grew since the last. */
  head(): SignedTreeHead {
    this.throwIfFailed();
    if (this.latest?.size !== this.frontier.size) this.sign(false);
    return { ...this.latest! };
  }

  /** Exact leaf bytes of records [from, to). */
  leaves(from: number, to: number): Uint8Array[] {
    checkIndex(from, 'from');
    checkIndex(to, 'to');
    if (from > to || to > this.size) throw outOfRange('to', `leaves(${from}, ${to}) is outside the log of ${this.size} records`);
    return this.store.leaves(from, to);
  }

  record(index: number): AuditRecord {
    checkIndex(index, 'index');
    if (index >= this.size) throw outOfRange('index', `record ${index} does not exist; the log holds ${this.size}`);
    const leaf = this.store.leaf(index);
    if (leaf === undefined) throw new StorageError(AuditCodes.corrupt, `audit record ${index} is missing from storage`, { details: { index } });
    return decodeRecord(leaf, index);
  }

  /** RFC 6962 MTH of the first `size` records, hex. */
  rootHash(size: number = this.size): string {
    checkIndex(size, 'size');
    if (size > this.size) throw outOfRange('size', `size ${size} exceeds the log's ${this.size} records`);
    return size === this.size ? this.frontier.root().toString('hex') : toHex(rangeHash(0, size, this.nodes));
  }

  /** RFC 6962 audit path for record `index` in the tree of `size` records, hex, deepest first. */
  proveInclusion(index: number, size: number = this.size): string[] {
    checkIndex(index, 'index');
    checkIndex(size, 'size');
    if (size > this.size) throw outOfRange('size', `size ${size} exceeds the log's ${this.size} records`);
    if (index >= size) throw outOfRange('index', `index ${index} is not below tree size ${size}`);
    return inclusionProof(index, size, this.nodes).map(toHex);
  }

  /** RFC 6962 consistency proof that the tree of `size1` records is a prefix of the tree of `size2`. */
  proveConsistency(size1: number, size2: number = this.size): string[] {
    checkIndex(size1, 'size1');
    checkIndex(size2, 'size2');
    if (size2 > this.size) throw outOfRange('size2', `size ${size2} exceeds the log's ${this.size} records`);
    if (size1 < 1 || size1 > size2) throw outOfRange('size1', `need 1 <= size1 <= size2, got ${size1} and ${size2}`);
    return consistencyProof(size1, size2, this.nodes).map(toHex);
  }

  /** Check every stored record, subtree hash and signed head; report the first problem and where it is. */
  verify(): VerifyResult {
    return verifyStore({ store: this.store, publicKeyHex: this.keys.publicKeyHex, size: this.size, root: this.frontier.root() });
  }

  /** Resolves when every record appended so far, and a head signed over them, is durable on disk. */
  async flushed(): Promise<void> {
    this.throwIfFailed();
    if (this.latest?.size !== this.frontier.size) this.sign(false);
    await this.store.flushed();
  }

  private signCheckpoint(): void {
    this.signQueued = false;
    if (this.failure !== undefined) return;
    try {
      this.sign(true);
    } catch (cause) {
      this.failure = cause;
    }
  }

  private sign(keep: boolean): void {
    const size = this.frontier.size;
    const root = this.frontier.root();
    const timestamp = Math.max(this.now(), this.latest?.timestamp ?? 0);
    const head: SignedTreeHead = {
      size,
      rootHash: root.toString('hex'),
      timestamp,
      signature: toHex(this.keys.sign(treeHeadMessage(size, timestamp, root))),
      publicKey: this.keys.publicKeyHex,
    };
    this.store.putHead(head, this.latestKept ? undefined : this.latest?.size);
    this.latest = head;
    this.latestKept = keep;
    if (keep) this.checkpointSize = size;
  }

  private now(): number {
    return Math.max(0, Math.floor(this.clock.now()));
  }

  private throwIfFailed(): void {
    if (this.failure === undefined) return;
    if (this.failure instanceof StorageError) throw this.failure;
    throw new StorageError(AuditCodes.writeFailed, 'the audit log failed to persist a record and refuses further appends', { cause: this.failure });
  }
}

/** Records of one tenant (null: node-level records) among [from, to), with their log indexes for proofs. */
export function tenantLeaves(log: AuditLog, tenant: string | null, from = 0, to = log.size): Array<{ index: number; leaf: Uint8Array }> {
  const out: Array<{ index: number; leaf: Uint8Array }> = [];
  log.leaves(from, to).forEach((leaf, i) => {
    if (decodeRecord(leaf, from + i).tenant === tenant) out.push({ index: from + i, leaf });
  });
  return out;
}
