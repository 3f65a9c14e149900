// The node's Ed25519 signing key and signed tree heads. The key is generated on
// first start and kept under dataDir in a file only its owner may read (0600); a
// head signs exactly RFC 6962's 50-byte TreeHeadSignature struct (see treeHeadMessage).

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AuditError, StorageError } from '../../base/errors.js';
import { AuditCodes } from './codes.js';
import { HASH_BYTES, fromHex } from './merkle.js';

export interface NodeKeys {
  /** Raw 32-byte Ed25519 public key, lowercase hex. */
  readonly publicKeyHex: string;
  sign(message: Uint8Array): Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A tree head as published: all byte strings in lowercase hex. */
export interface SignedTreeHead {
  size: number;
  /** RFC 6962 MTH of the first `size` leaves. */
  rootHash: string;
  /** Integer milliseconds from the node's clock when the head was signed. */
  timestamp: number;
  /** Ed25519 signature (64 bytes) over treeHeadMessage(size, timestamp, rootHash). */
  signature: string;
  /** Raw 32-byte Ed25519 public key of the signing node. */
  publicKey: string;
}

export const KEY_FILE = 'audit-ed25519.pem';

/**
 * The signed bytes: RFC 6962 §3.5 TreeHeadSignature, big-endian, 50 bytes:
 * version v1 (0x00) | signature_type tree_hash (0x01) | uint64 timestamp | uint64 tree_size | 32-byte root.
 */
export function treeHeadMessage(size: number, timestamp: number, rootHash: Uint8Array): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`tree size must be a non-negative integer, got ${size}`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`timestamp must be a non-negative integer, got ${timestamp}`);
  if (rootHash.length !== HASH_BYTES) throw new RangeError(`root hash must be ${HASH_BYTES} bytes, got ${rootHash.length}`);
  const out = Buffer.alloc(2 + 8 + 8 + HASH_BYTES);
  out[0] = 0;
  out[1] = 1;
  out.writeBigUInt64BE(BigInt(timestamp), 2);
  out.writeBigUInt64BE(BigInt(size), 10);
  out.set(rootHash, 18);
  return out;
}

function keysOf(privateKey: KeyObject): NodeKeys {
  const publicKey = createPublicKey(privateKey);
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new StorageError(AuditCodes.corrupt, 'audit key is not an Ed25519 key');
  const publicKeyHex = Buffer.from(x, 'base64url').toString('hex');
  return {
    publicKeyHex,
    sign: (message) => sign(null, message, privateKey),
    verify: (message, signature) => verify(null, message, publicKey, signature),
  };
}

/** Fresh keys that live only in memory (tests, ephemeral nodes). */
export function generateNodeKeys(): NodeKeys {
  return keysOf(generateKeyPairSync('ed25519').privateKey);
}

function readKey(file: string): NodeKeys {
  if (process.platform !== 'win32') {
    const mode = fs.statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new AuditError(
        AuditCodes.unsafeKey,
        `audit key ${file} has mode ${mode.toString(8)}; other users may read it. Run chmod 600 on it.`,
        { field: 'dataDir', details: { file, mode } },
      );
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(fs.readFileSync(file));
  } catch (cause) {
    throw new StorageError(AuditCodes.corrupt, `audit key ${file} is not a readable private key`, { cause, details: { file } });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new StorageError(AuditCodes.corrupt, `audit key ${file} is a ${key.asymmetricKeyType} key, not Ed25519`, { details: { file } });
  }
  return keysOf(key);
}

/** Load the node key from dataDir, or create it (mode 0600, written atomically) on first start. */
export function loadOrCreateNodeKeys(dataDir: string): NodeKeys {
  const file = path.join(dataDir, KEY_FILE);
  if (fs.existsSync(file)) return readKey(file);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pem = Buffer.from(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, pem);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file); // atomic and never overwrites: a concurrent first start keeps one key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return readKey(file);
}

function publicKeyFromHex(hex: string): KeyObject | undefined {
  const raw = fromHex(hex);
  if (raw?.length !== 32) return undefined;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * Check a head's signature with the key it names (or with `publicKeyHex`, to pin the node's key).
 * Never throws: malformed heads fail.
 */
export function verifyTreeHead(head: SignedTreeHead, publicKeyHex: string = head.publicKey): boolean {
  const key = publicKeyFromHex(publicKeyHex);
  const root = fromHex(head.rootHash);
  const signature = fromHex(head.signature);
  if (key === undefined || root?.length !== HASH_BYTES || signature?.length !== 64) return false;
  try {
    return verify(null, treeHeadMessage(head.size, head.timestamp, root), key, signature);
  } catch {
    return false;
  }
}
