import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contractJsonSchema, contractJsonSchemaText } from '../../src/kernel/contract/index.js';
import { tempDir } from '../support/tmp.js';
import { agentos } from './run.js';

describe('agentos contract schema', () => {
  const tmp = tempDir('agentos-cli-schema-');
  afterAll(tmp.cleanup);

  it('prints the Agent Contract JSON Schema on stdout', () => {
    const r = agentos('contract', 'schema');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(contractJsonSchema());
    expect(r.stdout).toBe(contractJsonSchemaText());
  });

  it('--out writes the schema, byte for byte as committed, to a file', () => {
    const out = join(tmp.dir, 'agent-contract.schema.json');
    const r = agentos('contract', 'schema', '--out', out);
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(contractJsonSchemaText());
  });

  it('--out into a directory that does not exist fails with a code and the path', () => {
    const out = join(tmp.dir, 'no', 'such', 'dir', 'schema.json');
    const r = agentos('contract', 'schema', '--out', out);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`OUTPUT_WRITE_FAILED: cannot write ${out}`);
  });
});
