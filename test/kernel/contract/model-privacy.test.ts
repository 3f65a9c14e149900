// modelPolicy.redact_pii and modelPolicy.deidentify: accepted values, typed
// errors naming the field for bad ones (from YAML, objects and at spawn), and
// the committed JSON Schema agreeing.
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { ContractError } from '../../../src/base/errors.js';
import { createNode, defineAgent, type AgentOsNode } from '../../../src/index.js';
import { contractJsonSchema, loadContract, parseContract } from '../../../src/kernel/contract/index.js';
import { tempDir } from '../../support/tmp.js';
import { expectContractError, minimalObject, withLine } from './helpers.js';

const withPolicy = (extra: Record<string, unknown>) => ({ ...minimalObject(), modelPolicy: { allow: ['local/*'], max_context_tokens: 4000, ...extra } });

describe('modelPolicy.redact_pii / deidentify', () => {
  it.each(['none', 'cloud', 'always'])('accepts deidentify: %s', (mode) => {
    expect(parseContract(withPolicy({ deidentify: mode })).modelPolicy).toMatchObject({ deidentify: mode });
  });

  it('accepts redact_pii true and false, and leaves both absent by default (so existing contract hashes do not change)', () => {
    expect(parseContract(withPolicy({ redact_pii: true })).modelPolicy?.redact_pii).toBe(true);
    expect(parseContract(withPolicy({ redact_pii: false })).modelPolicy?.redact_pii).toBe(false);
    const plain = parseContract(withPolicy({})).modelPolicy!;
    expect('redact_pii' in plain || 'deidentify' in plain).toBe(false);
  });

  it('a bad deidentify is CONTRACT_INVALID naming modelPolicy.deidentify and the allowed values', () => {
    const err = expectContractError(() => parseContract(withPolicy({ deidentify: 'sometimes' })), 'CONTRACT_INVALID', 'modelPolicy.deidentify');
    expect(err.field).toBe('modelPolicy.deidentify');
    expect(err.message).toMatch(/none.*cloud.*always/);
  });

  it('a bad redact_pii is CONTRACT_INVALID naming modelPolicy.redact_pii', () => {
    const err = expectContractError(() => parseContract(withPolicy({ redact_pii: 'yes' })), 'CONTRACT_INVALID', 'modelPolicy.redact_pii');
    expect(err.field).toBe('modelPolicy.redact_pii');
  });

  it('from YAML, the error points at the line', () => {
    const text = `${withLine(10, 'modelPolicy:')}  allow: [local/*]\n  max_context_tokens: 4000\n  deidentify: sometimes\n`;
    expectContractError(() => loadContract(text), 'CONTRACT_INVALID', '<inline>:13:3: modelPolicy.deidentify:');
  });

  it('the JSON Schema accepts the values agentos accepts and rejects the others', () => {
    const validate = new Ajv2020.default({ strict: false }).compile(contractJsonSchema());
    expect(validate(withPolicy({ deidentify: 'cloud', redact_pii: true }))).toBe(true);
    expect(validate(withPolicy({ deidentify: 'sometimes' }))).toBe(false);
    expect(validate(withPolicy({ redact_pii: 'yes' }))).toBe(false);
  });
});

describe('at spawn', () => {
  let node: AgentOsNode | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    await node?.stop();
    tmp?.cleanup();
  });

  it('an agent whose contract has a bad deidentify is refused with a ContractError naming the field, and nothing starts', async () => {
    tmp = tempDir();
    node = await createNode({ name: 'mp', dataDir: tmp.dir });
    const def = defineAgent({
      name: 'bad',
      machine: setup({}).createMachine({}),
      messages: z.object({ type: z.literal('x') }),
      contract: { modelPolicy: { allow: ['local/*'], max_context_tokens: 4000, deidentify: 'later' } } as never,
    });
    let caught: unknown;
    try {
      await node.spawn(def, { id: 'bad' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ContractError);
    expect(caught).toMatchObject({ field: 'modelPolicy.deidentify' });
    expect(node.lookup('bad')).toBeUndefined();
  });
});
