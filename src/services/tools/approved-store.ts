// Approved tool definitions, by registry name: what a person (or a trusted first
// mount) approved, as the hash its source pins, the definition itself and the
// registry version it was registered as. Kept in the node's LMDB when the registry
// has one, so a tool re-mounted after a restart is compared with what was approved
// before it; in memory otherwise. One interface, two stores.

import type { Database, RootDatabase } from 'lmdb';
import { StorageError } from '../../base/errors.js';

export const APPROVED_TOOLS_DB = 'tools-approved';

export interface ApprovedTool {
  /** Registry name (`files.read_file`). */
  name: string;
  /** Hash of the approved definition as its source pins it (for MCP: description, title, annotations and schemas). */
  hash: string;
  /** Hashes of the definition's parts, to say which part moved. */
  parts?: Record<string, string>;
  /** The approved definition (JSON), for review and to register it again as the same version. */
  definition?: Record<string, unknown>;
  /** The registry version it was registered as. */
  version?: string;
  /** Its manifest hash in the registry. */
  manifest?: string;
  /** Where it came from (an MCP server's command or URL). */
  source?: string;
  /** Who approved it (absent for a definition trusted when first mounted). */
  by?: string;
  /** Node clock, ms. */
  at: number;
}

export interface ApprovedTools {
  /** True when records outlive the process (LMDB). */
  readonly persistent: boolean;
  get(name: string): ApprovedTool | undefined;
  /** Every record named `prefix.<something>`, by name. */
  under(prefix: string): ApprovedTool[];
  /** Every record, by name. */
  all(): ApprovedTool[];
  put(record: ApprovedTool): void;
  delete(name: string): boolean;
}

export class MemoryApprovedTools implements ApprovedTools {
  readonly persistent = false;
  private readonly records = new Map<string, ApprovedTool>();

  get(name: string): ApprovedTool | undefined {
    return this.records.get(name);
  }

  under(prefix: string): ApprovedTool[] {
    return [...this.records.values()].filter((r) => r.name.startsWith(`${prefix}.`)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  all(): ApprovedTool[] {
    return [...this.records.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  put(record: ApprovedTool): void {
    this.records.set(record.name, structuredClone(record));
  }

  delete(name: string): boolean {
    return this.records.delete(name);
  }
}

export class LmdbApprovedTools implements ApprovedTools {
  readonly persistent = true;
  private readonly db: Database<ApprovedTool, string>;

  constructor(root: RootDatabase) {
    this.db = root.openDB<ApprovedTool, string>({ name: APPROVED_TOOLS_DB, encoding: 'json' });
  }

  get(name: string): ApprovedTool | undefined {
    return wellFormed(this.db.get(name));
  }

  under(prefix: string): ApprovedTool[] {
    // '/' sorts right after '.': the range is exactly the names `prefix.…`.
    return this.range({ start: `${prefix}.`, end: `${prefix}/` });
  }

  all(): ApprovedTool[] {
    return this.range({});
  }

  put(record: ApprovedTool): void {
    try {
      // Synchronous: an approval is on disk before `approve` returns.
      this.db.putSync(record.name, record);
    } catch (err) {
      throw new StorageError('STORAGE_WRITE_FAILED', `cannot record the approval of tool "${record.name}": ${(err as Error).message}`, { field: 'name', cause: err });
    }
  }

  delete(name: string): boolean {
    return this.db.removeSync(name);
  }

  private range(options: { start?: string; end?: string }): ApprovedTool[] {
    const out: ApprovedTool[] = [];
    for (const { value } of this.db.getRange(options)) {
      const record = wellFormed(value);
      if (record) out.push(record);
    }
    return out;
  }
}

/** The node's store when it has an LMDB, else one in memory. */
export function approvedToolsIn(db: RootDatabase | undefined): ApprovedTools {
  return db ? new LmdbApprovedTools(db) : new MemoryApprovedTools();
}

/** A record as stored, or undefined when it is not one (it then counts as never approved: the tool waits for approval). */
function wellFormed(value: unknown): ApprovedTool | undefined {
  const r = value as Partial<ApprovedTool> | undefined;
  if (typeof r !== 'object' || r === null || typeof r.name !== 'string' || typeof r.hash !== 'string' || typeof r.at !== 'number') return undefined;
  return r as ApprovedTool;
}
