// The board on disk: one LMDB sub-database (`blackboard`) in the node's
// environment, one record per (tenant, topic) holding the topic's latest entry.
// Keys are `<tenant>\x1f<topic>`: neither tenant names nor topics can hold the
// separator, so a tenant's topics are one contiguous key range and no key of one
// tenant can be read as another's. Writes are LMDB's async puts (issued in order,
// batched into one transaction per event-loop turn); `flushed` resolves once
// everything written so far is on disk.

import type { Database, RootDatabase } from 'lmdb';
import type { JsonValue } from '../../base/canonical.js';
import { BlackboardCodes, BlackboardError } from './errors.js';

export const BLACKBOARD_DB = 'blackboard';

/** The latest state of one topic. */
export interface BoardEntry<V = JsonValue> {
  topic: string;
  /** Per topic, from 1; each accepted write adds exactly 1. */
  version: number;
  value: V;
  /** Who wrote it: the actor id, or the owner's label for a host write. */
  by: string;
  /** Node clock time of the write. */
  at: number;
}

interface StoredEntry extends BoardEntry {
  v: 1;
  /** SHA-256 of the value's canonical JSON (what the audit log recorded). */
  hash: string;
}

const SEP = '\x1f';
const keyOf = (tenant: string, topic: string): string => `${tenant}${SEP}${topic}`;

export class BoardStore {
  private readonly db: Database<StoredEntry, string>;

  constructor(private readonly root: RootDatabase) {
    this.db = root.openDB<StoredEntry, string>({ name: BLACKBOARD_DB, encoding: 'json' });
  }

  /** Every stored entry of a tenant (a synchronous read), checked against its key. */
  load(tenant: string): BoardEntry[] {
    const out: BoardEntry[] = [];
    for (const { key, value } of this.db.getRange({ start: `${tenant}${SEP}`, end: `${tenant}\x20` })) {
      const topic = key.slice(tenant.length + 1);
      out.push(decode(value, tenant, topic));
    }
    return out;
  }

  /** Write a topic's new latest entry; resolves when committed. */
  put(tenant: string, entry: BoardEntry, hash: string): Promise<void> {
    const record: StoredEntry = { v: 1, topic: entry.topic, version: entry.version, value: entry.value, by: entry.by, at: entry.at, hash };
    return this.db.put(keyOf(tenant, entry.topic), record).then((ok) => {
      if (!ok) throw new Error('LMDB did not apply the put');
    });
  }

  /** Resolves when every write issued so far is committed and flushed to disk. */
  async flushed(): Promise<void> {
    await this.db.committed;
    await this.root.flushed;
  }
}

function decode(raw: unknown, tenant: string, topic: string): BoardEntry {
  const r = raw as Partial<StoredEntry> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    r.v === 1 &&
    r.topic === topic &&
    Number.isSafeInteger(r.version) &&
    (r.version as number) >= 1 &&
    typeof r.by === 'string' &&
    typeof r.at === 'number' &&
    'value' in r;
  if (!ok) {
    throw new BlackboardError(BlackboardCodes.corrupt, `stored blackboard entry of topic "${topic}" (tenant ${tenant}) does not decode as an entry of that topic`, {
      field: 'topic',
      details: { tenant, topic },
    });
  }
  return { topic, version: r.version!, value: r.value as JsonValue, by: r.by!, at: r.at! };
}
