import { createPublicKey, verify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditError, StorageError } from '../../../src/base/errors.js';
import { AuditCodes } from '../../../src/kernel/audit/codes.js';
import { KEY_FILE, generateNodeKeys, loadOrCreateNodeKeys, treeHeadMessage, verifyTreeHead, type SignedTreeHead } from '../../../src/kernel/audit/keys.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentos-keys-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Ed25519 SubjectPublicKeyInfo DER prefix (RFC 8410): an import path independent of the module's JWK one. */
const spkiOf = (raw: string) =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(raw, 'hex')]), format: 'der', type: 'spki' });

describe('node keys', () => {
  it('creates the key on first start under dataDir with mode 0600, and loads the same key after', () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const first = loadOrCreateNodeKeys(dataDir);
    const file = path.join(dataDir, KEY_FILE);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.publicKeyHex).toMatch(/^[0-9a-f]{64}$/);
    const again = loadOrCreateNodeKeys(dataDir);
    expect(again.publicKeyHex).toBe(first.publicKeyHex);
    const msg = Buffer.from('hello');
    expect(again.verify(msg, first.sign(msg))).toBe(true);
    expect(fs.readdirSync(dataDir)).toEqual([KEY_FILE]);
  });

  it('signs with the key whose raw public half it publishes', () => {
    const keys = generateNodeKeys();
    const msg = Buffer.from('tree head');
    const sig = keys.sign(msg);
    expect(sig).toHaveLength(64);
    expect(verify(null, msg, spkiOf(keys.publicKeyHex), sig)).toBe(true);
    expect(keys.verify(Buffer.from('other'), sig)).toBe(false);
  });

  it.skipIf(process.platform === 'win32')('refuses a key file other users can read', () => {
    const dataDir = tempDir();
    loadOrCreateNodeKeys(dataDir);
    fs.chmodSync(path.join(dataDir, KEY_FILE), 0o644);
    let err: unknown;
    try {
      loadOrCreateNodeKeys(dataDir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).code).toBe(AuditCodes.unsafeKey);
    expect((err as Error).message).toMatch(/chmod 600/);
  });

  it('reports an unreadable key file as a StorageError, and never overwrites it', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, KEY_FILE);
    fs.writeFileSync(file, 'not a key', { mode: 0o600 });
    expect(() => loadOrCreateNodeKeys(dataDir)).toThrow(StorageError);
    expect(fs.readFileSync(file, 'utf8')).toBe('not a key');
  });
});

describe('signed tree heads', () => {
  it("signs RFC 6962's TreeHeadSignature: v1, tree_hash, uint64 timestamp, uint64 size, root", () => {
    const root = Buffer.alloc(32, 0xab);
    const msg = treeHeadMessage(0x0102, 0x0a0b0c0d0e, root);
    expect(msg.toString('hex')).toBe('0001' + '0000000a0b0c0d0e' + '0000000000000102' + 'ab'.repeat(32));
  });

  it('verifies a head with its own key or a pinned one, and rejects any changed field', () => {
    const keys = generateNodeKeys();
    const root = Buffer.alloc(32, 7);
    const head: SignedTreeHead = {
      size: 5,
      timestamp: 42,
      rootHash: root.toString('hex'),
      signature: Buffer.from(keys.sign(treeHeadMessage(5, 42, root))).toString('hex'),
      publicKey: keys.publicKeyHex,
    };
    expect(verifyTreeHead(head)).toBe(true);
    expect(verify(null, treeHeadMessage(5, 42, root), spkiOf(head.publicKey), Buffer.from(head.signature, 'hex'))).toBe(true);
    expect(verifyTreeHead({ ...head, size: 6 })).toBe(false);
    expect(verifyTreeHead({ ...head, timestamp: 43 })).toBe(false);
    expect(verifyTreeHead({ ...head, rootHash: 'cd'.repeat(32) })).toBe(false);
    expect(verifyTreeHead({ ...head, signature: 'ee'.repeat(64) })).toBe(false);
    expect(verifyTreeHead({ ...head, signature: 'xyz' })).toBe(false);
    expect(verifyTreeHead(head, generateNodeKeys().publicKeyHex)).toBe(false);
  });
});
