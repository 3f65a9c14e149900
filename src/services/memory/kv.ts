// Key–value memory in one scope: put, get, delete and prefix listing. A key is
// stored blinded (a keyed hash) with the real key inside the sealed value, so a
// get is one lookup and a listing decrypts the scope's entries to filter and sort
// them (linear in the scope's key–value entries: fine for agent state, not for
// millions of keys). Values are any data msgpackr carries, living as long as the
// scope's retention.

import { MAX_KEY_BYTES, prefixEnd, Table, tablePrefix, tailKey } from './keys.js';
import type { MemoryScope } from './store.js';

interface KvPayload {
  key: string;
  value: unknown;
  at: number;
}

export interface KvEntry {
  key: string;
  value: unknown;
  /** When it was written (store clock, ms). */
  at: number;
  /** When retention removes it (0: never). */
  expiresAt: number;
}

export class KeyValue {
  private readonly prefix: Buffer;

  constructor(readonly scope: MemoryScope) {
    this.prefix = tablePrefix(scope.id, Table.kv);
  }

  private keyOf(key: string): Buffer {
    return tailKey(this.scope.id, Table.kv, this.scope.blind(key, 'key', MAX_KEY_BYTES));
  }

  async put(key: string, value: unknown): Promise<{ key: string; at: number; expiresAt: number }> {
    const k = this.keyOf(key);
    const at = this.scope.store.now();
    const expiresAt = this.scope.expiresAt();
    await this.scope.write((tx) => tx.put(k, { key, value, at } satisfies KvPayload, expiresAt));
    return { key, at, expiresAt };
  }

  get(key: string): KvEntry | undefined {
    const rec = this.scope.get<KvPayload>(this.keyOf(key));
    return rec && { key, value: rec.payload.value, at: rec.payload.at, expiresAt: rec.expiresAt };
  }

  delete(key: string): Promise<boolean> {
    const k = this.keyOf(key);
    return this.scope.write((tx) => tx.remove(k));
  }

  /** Live entries whose key starts with `prefix`, in key order (UTF-16 code units), after `after` if given. */
  list(options: { prefix?: string; after?: string; limit?: number } = {}): KvEntry[] {
    const out: KvEntry[] = [];
    for (const rec of this.scope.range<KvPayload>(this.prefix, prefixEnd(this.prefix))) {
      const { key, value, at } = rec.payload;
      if (options.prefix !== undefined && !key.startsWith(options.prefix)) continue;
      if (options.after !== undefined && key <= options.after) continue;
      out.push({ key, value, at, expiresAt: rec.expiresAt });
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out.slice(0, options.limit ?? 100);
  }
}
