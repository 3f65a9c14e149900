// Per-tenant encryption keys for memory at rest. A Keyring hands out one AES-256
// key per tenant: derived with HKDF-SHA256 from a node master key (kept in a 0600
// file under the node directory), or given by the caller. A tenant never sees
// another's key, and the key is bound to the tenant's name by derivation, so a
// ciphertext moved to another tenant cannot be opened there.

import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { invalidArg, MemoryCodes, MemoryError } from './errors.js';
import { lengthPrefixed } from './keys.js';

export const KEY_BYTES = 32;
export const MASTER_KEY_FILE = 'memory-master.key';

/** One tenant's key. */
export interface TenantKey {
  readonly tenant: string;
  /** 32 bytes for AES-256-GCM. */
  readonly key: Buffer;
}

export interface Keyring {
  /** The tenant's key; throws MEMORY_NO_KEY when the keyring has none. */
  keyFor(tenant: string): TenantKey;
}

/** Keys derived from one master key: HKDF-SHA256(master, salt, info = length-prefixed tenant). */
export class DerivedKeyring implements Keyring {
  private readonly master: Buffer;
  private readonly cache = new Map<string, TenantKey>();

  constructor(master: Uint8Array) {
    if (!(master instanceof Uint8Array) || master.length !== KEY_BYTES) throw invalidArg('masterKey', `must be ${KEY_BYTES} bytes`);
    this.master = Buffer.from(master);
  }

  keyFor(tenant: string): TenantKey {
    let k = this.cache.get(tenant);
    if (!k) {
      const key = Buffer.from(hkdfSync('sha256', this.master, 'agentos.memory.keyring/v1', lengthPrefixed(tenant), KEY_BYTES));
      k = Object.freeze({ tenant, key });
      this.cache.set(tenant, k);
    }
    return k;
  }
}

/** Keys the caller holds (a KMS, a vault): exactly the tenants listed, nobody else. */
export class StaticKeyring implements Keyring {
  private readonly keys = new Map<string, TenantKey>();

  constructor(keys: Record<string, Uint8Array> | Map<string, Uint8Array>) {
    const entries = keys instanceof Map ? [...keys] : Object.entries(keys);
    for (const [tenant, key] of entries) {
      if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw invalidArg(`keys.${tenant}`, `must be ${KEY_BYTES} bytes`);
      this.keys.set(tenant, Object.freeze({ tenant, key: Buffer.from(key) }));
    }
  }

  keyFor(tenant: string): TenantKey {
    const k = this.keys.get(tenant);
    if (!k) throw new MemoryError(MemoryCodes.noKey, `memory: the keyring has no key for tenant "${tenant}"`, { field: 'tenant' });
    return k;
  }
}

/**
 * A short tag naming (tenant key, scope) without revealing either: stored in the
 * clear in each record, so a record sealed for another tenant or namespace is
 * recognised as such (MEMORY_CROSS_TENANT) rather than reported as damage.
 */
export function keyTag(key: TenantKey, scope: Buffer): Buffer {
  return createHmac('sha256', key.key).update('agentos.memory.keytag/v1\0').update(scope).digest().subarray(0, 8);
}

function refuseUnsafe(file: string): void {
  if (process.platform === 'win32') return;
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new MemoryError(MemoryCodes.unsafeKey, `memory master key ${file} has mode ${mode.toString(8)}; other users may read it. Run chmod 600 on it.`, {
      field: 'dataDir',
      details: { file, mode },
    });
  }
}

function readMaster(file: string): Buffer {
  refuseUnsafe(file);
  const bytes = fs.readFileSync(file);
  if (bytes.length !== KEY_BYTES) throw new MemoryError(MemoryCodes.unsafeKey, `memory master key ${file} is ${bytes.length} bytes, not ${KEY_BYTES}`, { field: 'dataDir', details: { file } });
  return bytes;
}

/** The node's memory master key under `dir` (mode 0600), created atomically on first use. */
export function loadOrCreateMasterKey(dir: string): Buffer {
  const file = path.join(dir, MASTER_KEY_FILE);
  if (fs.existsSync(file)) return readMaster(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, randomBytes(KEY_BYTES));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file); // never overwrites: two first starts keep one key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return readMaster(file);
}

/** A keyring derived from the master key kept under the node directory. */
export function nodeKeyring(nodeDir: string): DerivedKeyring {
  return new DerivedKeyring(loadOrCreateMasterKey(nodeDir));
}
