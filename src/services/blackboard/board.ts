// The board's state and rules, apart from the actor that serialises access to it:
// per tenant, the latest entry of every topic, loaded from LMDB on the tenant's
// first use. A write is checked in full (topic, JSON value, size, topic schema,
// compare-and-set on the version, capacity) before anything changes; an accepted
// write bumps the topic's version by exactly 1, is visible at once to later
// requests in the actor's order, and is acknowledged (`durable`) only once LMDB
// has it — in write order, so an acknowledged write is never lost and a restart
// finds exactly what was acknowledged. Values are frozen: a caller holding an
// entry cannot change the board. Every write decision is audited: accepted writes
// with topic, version and value hash (never the value), refusals with the reason.

import type { JsonValue } from '../../base/canonical.js';
import type { AuditRecordInput } from '../../kernel/audit/index.js';
import { allows } from '../../kernel/policy/index.js';
import { readCapability } from './access.js';
import { BlackboardCodes, BlackboardError } from './errors.js';
import { checkPattern, checkTopic, topicMatches } from './names.js';
import type { TopicSchemas } from './schemas.js';
import type { BoardEntry, BoardStore } from './store.js';
import { normalizeValue } from './values.js';

export interface PostRequest {
  tenant: string;
  by: string;
  topic: string;
  value: unknown;
  /** Compare-and-set: the version the writer last saw (0: the topic must not exist yet). */
  expectedVersion?: number;
}

export interface BoardCoreOptions {
  store: BoardStore;
  schemas: TopicSchemas;
  now: () => number;
  audit: (record: AuditRecordInput) => void;
  maxValueBytes: number;
  maxTopicsPerTenant: number;
  /** `sync`: acknowledge once flushed to disk; `async`: once committed. */
  durability: 'sync' | 'async';
  /** A write became durable (called in write order): subscribers and controllers hear of it here. */
  committed?: (tenant: string, entry: BoardEntry) => void;
}

/** What reads see of one tenant's board (synchronous, for controller preconditions). */
export interface BoardView {
  read(topic: string): BoardEntry | null;
  query(pattern: string): BoardEntry[];
}

export interface BoardCounts {
  writes: number;
  stale: number;
  refused: number;
}

export class BoardCore {
  private readonly tenants = new Map<string, Map<string, BoardEntry>>();
  /** Settles when every write issued so far is durable (never rejects). */
  private tail: Promise<void> = Promise.resolve();
  private failure: BlackboardError | undefined;
  private pending = 0;
  readonly counts: BoardCounts = { writes: 0, stale: 0, refused: 0 };

  constructor(private readonly options: BoardCoreOptions) {}

  /** Apply a write (or throw a typed, audited refusal); `durable` resolves when it is on disk. */
  post(req: PostRequest): { entry: BoardEntry; durable: Promise<void> } {
    this.assertHealthy();
    let topic = String(req.topic);
    let entry: BoardEntry;
    let hash: string;
    let bytes: number;
    try {
      topic = checkTopic(req.topic);
      const entries = this.entries(req.tenant);
      const n = normalizeValue(req.value, this.options.maxValueBytes);
      this.options.schemas.check(topic, n.value);
      const current = entries.get(topic);
      const actual = current?.version ?? 0;
      if (req.expectedVersion !== undefined && req.expectedVersion !== actual) {
        throw new BlackboardError(
          BlackboardCodes.staleWrite,
          `stale write to topic "${topic}": expected version ${req.expectedVersion}, the topic is at version ${actual}`,
          { field: 'expectedVersion', details: { topic, expected: req.expectedVersion, actual } },
        );
      }
      if (!current && entries.size >= this.options.maxTopicsPerTenant) {
        throw new BlackboardError(BlackboardCodes.full, `tenant ${req.tenant} has ${entries.size} topics, the board's limit (maxTopicsPerTenant)`, { field: 'topic' });
      }
      entry = Object.freeze({ topic, version: actual + 1, value: deepFreeze(n.value), by: req.by, at: this.options.now() });
      hash = n.hash;
      bytes = n.bytes;
      entries.set(topic, entry);
    } catch (err) {
      this.refused(req, topic, err);
      throw err;
    }
    return { entry, durable: this.persist(req, entry, hash, bytes) };
  }

  read(tenant: string, topic: string): BoardEntry | null {
    this.assertHealthy();
    return this.entries(tenant).get(checkTopic(topic)) ?? null;
  }

  /**
   * Entries whose topic the glob selects, by topic name; with `only`, just those
   * the capability patterns in it cover as `blackboard.read.<topic>`.
   */
  query(tenant: string, pattern: string, options: { only?: readonly string[]; limit?: number } = {}): BoardEntry[] {
    this.assertHealthy();
    checkPattern(pattern);
    const out: BoardEntry[] = [];
    for (const entry of this.entries(tenant).values()) {
      if (!topicMatches(pattern, entry.topic)) continue;
      if (options.only && !allows(options.only, readCapability(entry.topic))) continue;
      out.push(entry);
    }
    out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    return options.limit === undefined ? out : out.slice(0, options.limit);
  }

  view(tenant: string): BoardView {
    return { read: (topic) => this.read(tenant, topic), query: (pattern) => this.query(tenant, pattern) };
  }

  /** Resolves once every write so far is durable; rejects if the board has failed. */
  async settled(): Promise<void> {
    await this.tail;
    this.assertHealthy();
  }

  get pendingWrites(): number {
    return this.pending;
  }

  get failed(): BlackboardError | undefined {
    return this.failure;
  }

  /** Tenants loaded, and their topics. */
  size(): { tenants: number; topics: number } {
    let topics = 0;
    for (const m of this.tenants.values()) topics += m.size;
    return { tenants: this.tenants.size, topics };
  }

  private entries(tenant: string): Map<string, BoardEntry> {
    let m = this.tenants.get(tenant);
    if (!m) {
      m = new Map();
      for (const e of this.options.store.load(tenant)) m.set(e.topic, Object.freeze({ ...e, value: deepFreeze(e.value) }));
      this.tenants.set(tenant, m);
    }
    return m;
  }

  private persist(req: PostRequest, entry: BoardEntry, hash: string, bytes: number): Promise<void> {
    this.pending++;
    const { store, durability } = this.options;
    const written = store.put(req.tenant, entry, hash).then(() => (durability === 'sync' ? store.flushed() : undefined));
    const durable = Promise.all([this.tail, written])
      .then(
        () => {
          if (this.failure) throw this.failure;
          this.counts.writes++;
          this.audit({
            kind: 'blackboard',
            decision: 'written',
            actor: req.by,
            tenant: req.tenant,
            subject: entry.topic,
            hashes: { value: hash },
            data: { version: entry.version, bytes, ...(req.expectedVersion === undefined ? {} : { expectedVersion: req.expectedVersion }) },
          });
          try {
            this.options.committed?.(req.tenant, entry);
          } catch {
            // A listener's bug must not turn a durable write into a failed one.
          }
        },
        (err: unknown) => {
          throw this.fail(err);
        },
      )
      .finally(() => this.pending--);
    this.tail = durable.then(
      () => undefined,
      () => undefined,
    );
    return durable;
  }

  private refused(req: PostRequest, topic: string, err: unknown): void {
    const stale = err instanceof BlackboardError && err.code === BlackboardCodes.staleWrite;
    if (stale) this.counts.stale++;
    else this.counts.refused++;
    const e = err instanceof BlackboardError ? err : undefined;
    this.audit({
      kind: 'blackboard',
      decision: stale ? 'stale-write' : 'refused',
      actor: req.by,
      tenant: req.tenant,
      subject: topic.slice(0, 256),
      reason: (err as Error).message.slice(0, 500),
      data: { code: e?.code ?? 'ERROR', ...(e?.field === undefined ? {} : { field: e.field }), ...(stale ? { expected: e!.details!.expected, actual: e!.details!.actual } : {}) },
    });
  }

  private fail(err: unknown): BlackboardError {
    if (!this.failure) {
      this.failure = new BlackboardError(BlackboardCodes.storageFailed, `the blackboard's LMDB refused a write: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      this.audit({ kind: 'blackboard', decision: 'storage-failed', reason: this.failure.message.slice(0, 500) });
    }
    return this.failure;
  }

  private assertHealthy(): void {
    if (this.failure) throw this.failure;
  }

  private audit(record: AuditRecordInput): void {
    try {
      this.options.audit(record);
    } catch {
      // The audit log refusing a record (the node stopping) must not turn a decided write into an unknown one.
    }
  }
}

function deepFreeze<T extends JsonValue>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v as JsonValue);
    Object.freeze(value);
  }
  return value;
}
