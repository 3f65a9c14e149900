// The committed JSON Schema equals the generated one (so it cannot drift), and
// it agrees with agentos on the example contracts. Regenerate with
// AGENTOS_WRITE_SCHEMAS=1 npx vitest run test/kernel/contract/json-schema.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONTRACT_JSON_SCHEMA_PATH, contractJsonSchema, contractJsonSchemaText } from '../../../src/kernel/contract/index.js';
import { FIXTURES } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const committedPath = join(ROOT, CONTRACT_JSON_SCHEMA_PATH);

describe('contract JSON Schema', () => {
  it(`${CONTRACT_JSON_SCHEMA_PATH} is exactly what contractJsonSchema() generates`, () => {
    if (process.env.AGENTOS_WRITE_SCHEMAS === '1') writeFileSync(committedPath, contractJsonSchemaText());
    const committed = readFileSync(committedPath, 'utf8');
    expect(committed, `stale schema: run AGENTOS_WRITE_SCHEMAS=1 npx vitest run ${'test/kernel/contract/json-schema.test.ts'}`).toBe(contractJsonSchemaText());
  });

  it('is draft 2020-12, closed (no unknown fields) and lists the latency classes', () => {
    const schema = contractJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema)).toContain('"const":"HRT"');
    expect(schema.required).toEqual(['apiVersion', 'kind', 'name', 'class']);
  });

  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  const validate = ajv.compile(contractJsonSchema());

  it.each(['guard', 'copilot', 'indexer'])('accepts the %s example, as an editor would', (name) => {
    const doc = parse(readFileSync(join(FIXTURES, `${name}.agent.yaml`), 'utf8')) as unknown;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown latency class', { class: { latency: 'RT', slo: {} } }],
    ['a zero period', { class: { latency: 'HRT', slo: { period_ms: 0, deadline_ms: 1, wcet_ms: 1 } } }],
    ['an illegal capability', { capabilities: ['Web.Fetch'] }],
    ['an unknown field', { capabilites: [] }],
    ['a bad memory quantity', { compute: { cpu: '1', mem: '2 lots' } }],
  ])('rejects %s, as agentos does', (_what, patch) => {
    const base = { apiVersion: 'agentos/v0.2', kind: 'AgentContract', name: 'x', class: { latency: 'DT' } };
    expect(validate(base)).toBe(true);
    expect(validate({ ...base, ...patch })).toBe(false);
  });
});
