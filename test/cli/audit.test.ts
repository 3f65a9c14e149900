import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_DBS, KEY_FILE, verifyTreeHead, type SignedTreeHead } from '../../src/kernel/audit/index.js';
import { createNode } from '../../src/index.js';
import { counterAgent } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';
import { agentos } from './run.js';

const AGENTS = 3;
const tmp = tempDir('agentos-cli-audit-');
const dataDir = join(tmp.dir, 'data');
const node = ['--data-dir', dataDir, '--node', 'n1'];
const dataFile = join(dataDir, 'n1', 'lmdb', 'data.mdb');
const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A copy of the node's data dir, so a test can damage it without affecting the others. */
function copyOfData(name: string): string {
  const dir = join(tmp.dir, name);
  cpSync(dataDir, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  const n1 = await createNode({ name: 'n1', dataDir });
  for (let i = 0; i < AGENTS; i++) await n1.spawn(counterAgent(), { id: `c${i}` }); // one admission record each
  await n1.stop();
});
afterAll(tmp.cleanup);

describe('agentos audit on a stopped node', () => {
  it('verify reports ok with the record count, the signed size and the root', () => {
    const r = agentos('audit', 'verify', ...node);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^ok: ${AGENTS} records, signed head at size ${AGENTS}, root [0-9a-f]{64}$`));
  });

  it('verify --json gives the verdict and the root as data', () => {
    const r = agentos('audit', 'verify', ...node, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, size: AGENTS, signedSize: AGENTS, rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('head prints the signed tree head, which verifies with its key', () => {
    const r = agentos('audit', 'head', ...node);
    expect(r.status).toBe(0);
    const head = JSON.parse(r.stdout) as SignedTreeHead;
    expect(head.size).toBe(AGENTS);
    expect(verifyTreeHead(head)).toBe(true);
  });

  it('show prints records [from, to) as JSON lines, in order', () => {
    const r = agentos('audit', 'show', '1', '3', ...node);
    expect(r.status).toBe(0);
    const records = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(records).toEqual([
      expect.objectContaining({ seq: 1, kind: 'admission', decision: 'admitted', actor: 'c1', node: 'n1' }),
      expect.objectContaining({ seq: 2, kind: 'admission', decision: 'admitted', actor: 'c2', node: 'n1' }),
    ]);
  });

  it('show beyond the end of the log fails with the audit error code', () => {
    const r = agentos('audit', 'show', String(AGENTS), ...node);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^AUDIT_OUT_OF_RANGE: /);
  });

  it('verify, head and show leave the LMDB data file untouched', () => {
    const before = digest(dataFile);
    for (const args of [['verify'], ['head'], ['show', '0', String(AGENTS)]]) expect(agentos('audit', ...args, ...node).status).toBe(0);
    expect(digest(dataFile)).toBe(before);
  });

  it('a flipped byte in a stored leaf makes verify exit 1 naming that record', async () => {
    const dir = copyOfData('tampered');
    const db = open({ path: join(dir, 'n1', 'lmdb'), maxDbs: 32 });
    const leaves = db.openDB<Buffer, number>({ name: AUDIT_DBS.leaves, encoding: 'binary' });
    const leaf = leaves.get(1)!;
    leaf[10] ^= 0x01;
    leaves.putSync(1, leaf);
    await db.close();

    const r = agentos('audit', 'verify', '--data-dir', dir, '--node', 'n1');
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toMatch(/^TAMPERED at record 1: record 1 was altered/);
    const json = agentos('audit', 'verify', '--data-dir', dir, '--node', 'n1', '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, index: 1 });
  });

  it('a data dir that does not exist is a clear error, and nothing is created', () => {
    const missing = join(tmp.dir, 'nowhere');
    const r = agentos('audit', 'verify', '--data-dir', missing);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `NODE_DATA_MISSING: no data for node "demo": ${join(missing, 'demo')} does not exist; check --data-dir and --node (a node writes its data on first start)`,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('a missing node key is an error; no new key is created in its place', () => {
    const dir = copyOfData('keyless');
    const keyFile = join(dir, 'n1', KEY_FILE);
    rmSync(keyFile);
    const r = agentos('audit', 'verify', '--data-dir', dir, '--node', 'n1');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^NODE_DATA_MISSING: the node's audit key .*${KEY_FILE} is missing`));
    expect(existsSync(keyFile)).toBe(false);
  });
});
