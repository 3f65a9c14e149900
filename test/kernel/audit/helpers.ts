// Shared fixtures for the audit tests: a real LMDB in a fresh temp dir, the
// published RFC 6962 vectors (read by path; missing data fails loudly), and an
// independent reference MTH written straight from RFC 6962 §2.1.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type RootDatabase } from 'lmdb';

export interface TempLmdb {
  dir: string;
  db: RootDatabase;
  reopen(): Promise<RootDatabase>;
  close(): Promise<void>;
}

export function tempLmdb(prefix = 'agentos-audit-'): TempLmdb {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const t: TempLmdb = {
    dir,
    db: open({ path: path.join(dir, 'db') }),
    async reopen() {
      await t.db.close();
      t.db = open({ path: path.join(dir, 'db') });
      return t.db;
    },
    async close() {
      await t.db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

export interface Vectors {
  leaves: string[];
  leafHashes: string[];
  nodeHashes: string[][];
  roots: Record<string, string>;
  inclusion: Array<{ size: number; index: number; leafHash: string; proof: string[]; root: string; expected: boolean; desc: string; origin: string }>;
  consistency: Array<{ size1: number; size2: number; root1: string; root2: string; proof: string[]; expected: boolean; desc: string; origin: string }>;
}

const VECTORS = new URL('../../../../shared/testdata/rfc6962/rfc6962-vectors.json', import.meta.url);

export function loadVectors(): Vectors {
  const file = fileURLToPath(VECTORS);
  if (!fs.existsSync(file)) {
    throw new Error(`RFC 6962 test vectors not found at ${file}: the audit log cannot be checked against the published vectors`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Vectors;
}

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 §2.1 MTH, recursive, as written in the RFC: an oracle independent of merkle.ts. */
export function referenceRoot(leaves: readonly Uint8Array[]): Buffer {
  const n = leaves.length;
  if (n === 0) return sha();
  if (n === 1) return sha(Buffer.from([0]), leaves[0]);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return sha(Buffer.from([1]), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

export function referenceLeafHash(leaf: Uint8Array): string {
  return sha(Buffer.from([0]), leaf).toString('hex');
}
