// Vectors sealed in groups: every vector of a group (a RAG source's chunks) lives
// in one AES-256-GCM record (or a few, when a group outgrows half the largest
// record), so rebuilding an index opens one record per group instead of one per
// vector. A part is sealed like any record (tenant, namespace, key and expiry as
// associated data) and expires when its last entry does; each entry also keeps its
// own expiry, so a reader never returns an expired vector.
// Key: scope | G | u16 17 | collection table byte | blinded group (16) | u64 part.

import { prefixEnd, seqKey, Table, type TableByte } from './keys.js';
import { isExpired } from './record.js';
import type { MemoryScope, ScopeTxn, StoredRecord } from './store.js';

/** One sealed part of a group: ids, their vectors packed (Float32 LE), and per-entry expiry and write time. */
export interface GroupPart {
  ids: string[];
  v: Uint8Array;
  e: number[];
  at: number[];
  /** Metadata by entry index, for the entries that have any. */
  m?: Record<string, unknown>;
}

export interface GroupEntry {
  vector: Float32Array;
  expiresAt: number;
  at: number;
  metadata?: unknown;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Float32 little-endian bytes, whatever the host's byte order. */
export function vectorBytes(v: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  const out = new Uint8Array(v.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true);
  return out;
}

/** The Float32 values of little-endian bytes (a copy). */
export function bytesVector(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 2;
  if (LITTLE_ENDIAN) {
    const copy = new Uint8Array(n * 4);
    copy.set(bytes.subarray(0, n * 4));
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The key prefix of every group of one collection (`group` given: of that group). */
export function groupPrefix(scope: MemoryScope, table: TableByte, group?: string): Buffer {
  const head = seqKey(scope.id, Table.vectorGroups, groupId(scope, table, group), 0);
  return head.subarray(0, head.length - 8 - (group === undefined ? 16 : 0));
}

function groupId(scope: MemoryScope, table: TableByte, group: string | undefined): Buffer {
  const out = Buffer.alloc(17);
  out[0] = table;
  if (group !== undefined) scope.blind(group, 'id').copy(out, 1);
  return out;
}

/** Float32 values of little-endian bytes: a view where the host and alignment allow, else a copy. */
function floats(bytes: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  return bytesVector(bytes);
}

/** The live entries of a part, in order (expired entries left out); vectors may view the part's bytes. */
export function* partEntries(part: GroupPart, dimension: number, now: number): Generator<[string, GroupEntry]> {
  if (part.v.byteLength !== part.ids.length * dimension * 4) return; // written under another dimension
  const all = floats(part.v);
  for (let i = 0; i < part.ids.length; i++) {
    const expiresAt = part.e[i] ?? 0;
    if (isExpired(expiresAt, now)) continue;
    const m = part.m?.[String(i)];
    yield [part.ids[i]!, { vector: all.subarray(i * dimension, (i + 1) * dimension), expiresAt, at: part.at[i] ?? 0, ...(m === undefined ? {} : { metadata: m }) }];
  }
}

/** One entry of a group, read outside a transaction. */
export function readEntry(scope: MemoryScope, table: TableByte, group: string, id: string, dimension: number): GroupEntry | undefined {
  const now = scope.store.now();
  for (const rec of scope.prefixed<GroupPart>(groupPrefix(scope, table, group))) {
    if (!rec.payload.ids.includes(id)) continue;
    for (const [eid, entry] of partEntries(rec.payload, dimension, now)) if (eid === id) return { ...entry, vector: Float32Array.from(entry.vector) };
  }
  return undefined;
}

interface OpenGroup {
  prefix: Buffer;
  oldKeys: Buffer[];
  entries: Map<string, GroupEntry>;
}

/**
 * The groups a transaction changes: each is read once (its parts opened) when first
 * touched, changed in memory, and written back whole by `flush` — old parts
 * removed, the entries left sealed in as few parts as fit.
 */
export class GroupWriter {
  private readonly open = new Map<string, OpenGroup>();

  constructor(
    private readonly tx: ScopeTxn,
    private readonly scope: MemoryScope,
    private readonly table: TableByte,
    private readonly dimension: number,
  ) {}

  upsert(group: string, id: string, entry: GroupEntry): void {
    this.group(group).entries.set(id, entry);
  }

  remove(group: string, id: string): boolean {
    return this.group(group).entries.delete(id);
  }

  flush(): void {
    const budget = Math.max(1, Math.floor(this.scope.store.maxValueBytes / 2));
    for (const g of this.open.values()) {
      for (const key of g.oldKeys) this.tx.remove(key);
      let part: GroupPart | undefined;
      let bytes = 0;
      let n = 0;
      const rows: Float32Array[] = [];
      const seal = (): void => {
        if (!part) return;
        const packed = new Float32Array(rows.length * this.dimension);
        rows.forEach((r, i) => packed.set(r, i * this.dimension));
        part.v = vectorBytes(packed);
        const expiresAt = part.e.includes(0) ? 0 : Math.max(...part.e);
        this.tx.put(Buffer.concat([g.prefix, partNumber(n++)]), part, expiresAt);
        part = undefined;
        rows.length = 0;
        bytes = 0;
      };
      for (const [id, entry] of g.entries) {
        const size = this.dimension * 4 + Buffer.byteLength(id) + 32 + (entry.metadata === undefined ? 0 : metaBytes(entry.metadata));
        if (part && bytes + size > budget) seal();
        part ??= { ids: [], v: new Uint8Array(0), e: [], at: [] };
        if (entry.metadata !== undefined) (part.m ??= {})[String(part.ids.length)] = entry.metadata;
        part.ids.push(id);
        part.e.push(entry.expiresAt);
        part.at.push(entry.at);
        rows.push(entry.vector);
        bytes += size;
      }
      seal();
    }
    this.open.clear();
  }

  private group(group: string): OpenGroup {
    let g = this.open.get(group);
    if (!g) {
      const prefix = groupPrefix(this.scope, this.table, group);
      const oldKeys = this.tx.keys(prefix, prefixEnd(prefix));
      const entries = new Map<string, GroupEntry>();
      const now = this.scope.store.now();
      for (const key of oldKeys) {
        const rec: StoredRecord<GroupPart> | undefined = this.tx.get<GroupPart>(key);
        if (rec) for (const [id, entry] of partEntries(rec.payload, this.dimension, now)) entries.set(id, entry);
      }
      g = { prefix, oldKeys, entries };
      this.open.set(group, g);
    }
    return g;
  }
}

function partNumber(n: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(n));
  return out;
}

/** A generous estimate of packed metadata (parts are cut at half the largest record, so an estimate is enough). */
function metaBytes(metadata: unknown): number {
  try {
    return Math.ceil((JSON.stringify(metadata)?.length ?? 16) * 1.5) + 16;
  } catch {
    return 4096; // not JSON (a BigInt, a Map): msgpack still packs it
  }
}
