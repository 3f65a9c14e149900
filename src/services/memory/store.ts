// The LMDB side of memory: two sub-databases of the node's environment — the
// records (every key starts with its scope id, every value is sealed for its
// tenant) and an expiry index (expiresAt | record key) that retention purges walk.
// A MemoryScope is the only way to read or write records, and it only ever builds
// keys under its own scope id; a key outside it is refused before LMDB is asked.
// Caller-chosen names (kv keys, streams, ids) appear in keys only as keyed hashes
// (`blind`), so not even the names of what a tenant stores are readable at rest.

import { createHmac } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import type { Clock } from '../../base/clock.js';
import { MemoryCodes, MemoryError } from './errors.js';
import type { Keyring } from './keyring.js';
import { checkScopeName, MAX_KEY_BYTES, prefixEnd, SCOPE_BYTES, scopeId, startsWith, Table, userBytes, type ScopeName } from './keys.js';
import { expiryOf, isExpired, openRecord, RECORD_HEADER_BYTES, sealingScope, sealRecord, type SealingScope } from './record.js';

export const MEMORY_DBS = { records: 'memory-records', expiry: 'memory-expiry' } as const;

const DAY_MS = 86_400_000;
export const BLIND_BYTES = 16;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

export interface MemoryStoreOptions {
  /** The node's LMDB environment (tests: their own `open()` in a temp dir). */
  db: RootDatabase;
  clock: Clock;
  keyring: Keyring;
  /** Largest sealed record, bytes (default 1 MiB). */
  maxValueBytes?: number;
}

export interface ScopeOptions extends ScopeName {
  /** Days a record written through this scope lives; undefined keeps it until deleted, 0 keeps nothing. */
  retentionDays?: number | undefined;
}

export interface StoredRecord<T> {
  key: Buffer;
  payload: T;
  expiresAt: number;
}

export class MemoryStore {
  readonly records: Database<Buffer, Buffer>;
  readonly expiry: Database<Buffer, Buffer>;
  readonly clock: Clock;
  readonly maxValueBytes: number;
  /** Per-scope state that lives beside the records (vector indexes), by `cacheKey`; a purge calls a cache's `prune(now)` if it has one. */
  readonly caches = new Map<string, unknown>();
  private closed = false;

  private constructor(private readonly options: MemoryStoreOptions) {
    const sub = (name: string): Database<Buffer, Buffer> => options.db.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
    this.records = sub(MEMORY_DBS.records);
    this.expiry = sub(MEMORY_DBS.expiry);
    this.clock = options.clock;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  static open(options: MemoryStoreOptions): MemoryStore {
    return new MemoryStore(options);
  }

  /** The records of one tenant's namespace. The tenant must come from the kernel (ctx.tenant), never from a caller's arguments. */
  scope(options: ScopeOptions): MemoryScope {
    this.live();
    checkScopeName(options);
    const r = options.retentionDays;
    if (r !== undefined && !(Number.isInteger(r) && r >= 0 && r <= 36_500)) throw new MemoryError(MemoryCodes.invalidArgs, 'memory: retentionDays must be an integer 0..36500', { field: 'retention_days' });
    const id = scopeId(options);
    return new MemoryScope(this, sealingScope(options, id, this.options.keyring.keyFor(options.tenant)), r);
  }

  /** Now, as an integer on the store's clock (expiries are whole milliseconds). */
  now(): number {
    return Math.floor(this.clock.now());
  }

  /**
   * Delete every record whose retention has run out (on the injected clock), with
   * its index entry, in transactions of at most `batch` records. Scopes' caches
   * are dropped so they reload without the purged records.
   */
  async purgeExpired(batch = 5_000): Promise<{ removed: number }> {
    this.live();
    const end = Buffer.alloc(8);
    end.writeBigUInt64BE(BigInt(this.now() + 1));
    let removed = 0;
    const touched = new Set<string>();
    for (;;) {
      const n = await this.records.transaction(() => {
        let count = 0;
        for (const key of [...this.expiry.getKeys({ start: Buffer.alloc(8), end, limit: batch })]) {
          const recordKey = Buffer.from(key.subarray(8));
          const raw = this.records.get(recordKey);
          // Only if the record still carries this expiry (a rewrite moved it on).
          if (raw !== undefined && expiryOf(raw) === Number(key.readBigUInt64BE(0))) {
            this.records.remove(recordKey);
            removed++;
            touched.add(cacheKey(recordKey));
          }
          this.expiry.remove(key);
          count++;
        }
        return count;
      });
      if (n < batch) break;
    }
    // Indexes of the scopes and tables that lost records forget what expired (or, if they cannot, reload on next use).
    const now = this.now();
    for (const k of touched) {
      const cache = this.caches.get(k) as { prune?: (now: number) => void } | undefined;
      if (typeof cache?.prune === 'function') cache.prune(now);
      else this.caches.delete(k);
    }
    return { removed };
  }

  /** Refuse further use (the node's environment is closed by the node, not here). */
  close(): void {
    this.closed = true;
    this.caches.clear();
  }

  live(): void {
    if (this.closed) throw new MemoryError(MemoryCodes.closed, 'memory: the store is closed', { field: 'memory' });
  }
}

/** Read and write access inside one LMDB write transaction of a scope. */
export interface ScopeTxn {
  get<T>(key: Buffer): StoredRecord<T> | undefined;
  put(key: Buffer, payload: unknown, expiresAt?: number): void;
  remove(key: Buffer): boolean;
  /** Keys only (no decryption) between start (inclusive) and end (exclusive). */
  keys(start: Buffer, end: Buffer, options?: { reverse?: boolean; limit?: number }): Buffer[];
}

export class MemoryScope {
  readonly id: Buffer;
  readonly name: ScopeName;
  readonly hex: string;

  constructor(
    readonly store: MemoryStore,
    readonly sealing: SealingScope,
    readonly retentionDays: number | undefined,
  ) {
    this.id = sealing.id;
    this.name = { tenant: sealing.tenant, namespace: sealing.namespace };
    this.hex = sealing.id.toString('hex');
  }

  /** A caller-chosen name as it appears in keys: 16 bytes of HMAC-SHA256 under the tenant key, bound to the scope. */
  blind(name: string, field: string, max = MAX_KEY_BYTES): Buffer {
    const bytes = userBytes(name, field, max);
    return createHmac('sha256', this.sealing.key.key).update('agentos.memory.blind/v1\0').update(this.id).update(bytes).digest().subarray(0, BLIND_BYTES);
  }

  /** When a record written now expires (0: never). */
  expiresAt(): number {
    // At least 1: 0 means "never", and retention 0 at time 0 must still expire.
    return this.retentionDays === undefined ? 0 : Math.max(1, this.store.now() + this.retentionDays * DAY_MS);
  }

  /** Belt and braces: every key this scope touches starts with its id. */
  own(key: Buffer): Buffer {
    if (!startsWith(key, this.id) || key.length <= this.id.length) {
      throw new MemoryError(MemoryCodes.crossTenant, 'memory: a key outside this tenant\'s namespace was refused', { field: 'key' });
    }
    return key;
  }

  /** A live (unexpired) record, opened; undefined if absent or expired. */
  get<T>(key: Buffer): StoredRecord<T> | undefined {
    this.store.live();
    return this.decode<T>(this.own(key), this.store.records.get(key));
  }

  /** Unexpired records between start and end (both under this scope), in key order. */
  *range<T>(start: Buffer, end: Buffer, options: { reverse?: boolean; limit?: number } = {}): Generator<StoredRecord<T>> {
    this.store.live();
    this.own(start);
    this.own(end);
    let left = options.limit ?? Infinity;
    if (left <= 0) return;
    for (const { key, value } of this.store.records.getRange(this.bounds(start, end, options.reverse))) {
      if (!within(key, start, end)) {
        if (options.reverse && key.compare(start) < 0) return;
        continue;
      }
      const rec = this.decode<T>(this.own(key), value);
      if (!rec) continue;
      yield rec;
      if (--left <= 0) return;
    }
  }

  /** Every record under a key prefix of this scope. */
  prefixed<T>(prefix: Buffer, options: { reverse?: boolean; limit?: number } = {}): Generator<StoredRecord<T>> {
    return this.range<T>(prefix, prefixEnd(prefix), options);
  }

  /** Run `fn` in one write transaction; resolves with its result once committed. If `fn` throws, nothing it wrote is kept. */
  write<T>(fn: (tx: ScopeTxn) => T): Promise<T> {
    this.store.live();
    const { records, expiry } = this.store;
    const tx: ScopeTxn = {
      get: <U>(key: Buffer) => this.decode<U>(this.own(key), records.get(key)),
      put: (key, payload, expiresAt = this.expiresAt()) => {
        this.own(key);
        const bytes = sealRecord(this.sealing, key, payload, expiresAt);
        if (bytes.length - RECORD_HEADER_BYTES > this.store.maxValueBytes) {
          throw new MemoryError(MemoryCodes.tooLarge, `memory: value is ${bytes.length - RECORD_HEADER_BYTES} bytes; at most ${this.store.maxValueBytes}`, { field: 'value' });
        }
        dropExpiry(expiry, key, records.get(key));
        records.put(key, bytes);
        if (expiresAt !== 0) expiry.put(expiryKey(expiresAt, key), EMPTY);
      },
      remove: (key) => {
        const old = records.get(this.own(key));
        if (old === undefined) return false;
        dropExpiry(expiry, key, old);
        records.remove(key);
        return true;
      },
      keys: (start, end, options = {}) => {
        this.own(start);
        this.own(end);
        const out: Buffer[] = [];
        const limit = options.limit ?? Infinity;
        for (const key of records.getKeys(this.bounds(start, end, options.reverse))) {
          if (out.length >= limit || (options.reverse && key.compare(start) < 0)) break;
          if (within(key, start, end)) out.push(key);
        }
        return out;
      },
    };
    // The child transaction is what makes a throw inside `fn` roll back its writes
    // (lmdb's async transaction commits whatever ran before a throw).
    return records.transaction(() => records.childTransaction(() => fn(tx))) as Promise<unknown> as Promise<T>;
  }

  /**
   * LMDB range options for [start, end). Forward ranges are exactly that; a reverse
   * range starts at `end` inclusive and runs down to the scope id (below every key
   * of the scope), so callers drop `end` itself and stop below `start`.
   */
  private bounds(start: Buffer, end: Buffer, reverse = false): { start: Buffer; end: Buffer; reverse: boolean } {
    return reverse ? { start: end, end: this.id, reverse } : { start, end, reverse };
  }

  private decode<T>(key: Buffer, raw: Buffer | undefined): StoredRecord<T> | undefined {
    if (raw === undefined) return undefined;
    const e = expiryOf(raw);
    if (e > 0 && isExpired(e, this.store.now())) return undefined;
    const { payload, expiresAt } = openRecord<T>(this.sealing, key, raw);
    return { key, payload, expiresAt };
  }
}

const EMPTY = Buffer.alloc(0);

/** start <= key < end, bytewise. */
function within(key: Buffer, start: Buffer, end: Buffer): boolean {
  return key.compare(start) >= 0 && key.compare(end) < 0;
}

/**
 * The cache slot of a record key's scope and table (`<scope hex>/<table byte>`; for
 * vector groups also the collection's table byte, which follows the u16 length).
 */
export function cacheKey(recordKey: Buffer): string {
  const table = recordKey[SCOPE_BYTES];
  const slot = `${recordKey.subarray(0, SCOPE_BYTES).toString('hex')}/${table}`;
  return table === Table.vectorGroups ? `${slot}/${recordKey[SCOPE_BYTES + 3]}` : slot;
}

function expiryKey(expiresAt: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + key.length);
  out.writeBigUInt64BE(BigInt(expiresAt), 0);
  key.copy(out, 8);
  return out;
}

function dropExpiry(expiry: Database<Buffer, Buffer>, key: Buffer, old: Buffer | undefined): void {
  if (old === undefined) return;
  const e = expiryOf(old);
  if (e > 0) expiry.remove(expiryKey(e, key));
}
