// The worked example in docs/audit-format.md is a spec others implement
// against: our encoder and Merkle code must reproduce its bytes and hashes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeRecord } from '../../src/kernel/audit/record.js';
import { leafHash, nodeHash } from '../../src/kernel/audit/merkle.js';

const doc = readFileSync(new URL('../../docs/audit-format.md', import.meta.url), 'utf8');
const example = doc.slice(doc.indexOf('Example (two records'));
const lines = example.split('```')[1]!.trim().split('\n');
const hashes = [...example.matchAll(/`([0-9a-f]{64})`/g)].map((m) => m[1]!);

describe('docs/audit-format.md worked example', () => {
  it('re-encodes each record to exactly the documented bytes', () => {
    for (const line of lines) expect(encodeRecord(JSON.parse(line)).toString('utf8')).toBe(line);
  });

  it('gives the documented leaf hashes and root', () => {
    const leaves = lines.map((l) => leafHash(Buffer.from(l, 'utf8')));
    expect(leaves.map((h) => h.toString('hex'))).toEqual(hashes.slice(0, 2));
    expect(nodeHash(leaves[0]!, leaves[1]!).toString('hex')).toBe(hashes[2]);
  });
});
