// The contract's JSON Schema, generated from the zod schema so editors can
// validate `*.agent.yaml` files. The committed schemas/agent-contract.v0.2.json
// is checked against this output by a test, so the two cannot drift.
import { z } from 'zod';
import { API_VERSION, ContractSchema } from './schema.js';

/** Where the generated schema is committed, relative to the repository root. */
export const CONTRACT_JSON_SCHEMA_PATH = 'schemas/agent-contract.v0.2.json';

/**
 * JSON Schema (draft 2020-12) of what users may write: defaults are optional,
 * cross-field rules (wcet <= deadline <= period…) are checked by agentos only.
 */
export function contractJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ContractSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: `agentos Agent Contract (${API_VERSION})`,
    description: 'An agent declares its latency class, capabilities, resources, model policy, memory, security, budgets and binding rules. See DESIGN.md.',
    ...rest,
  };
}

/** The schema as committed: two-space JSON with a trailing newline. */
export function contractJsonSchemaText(): string {
  return `${JSON.stringify(contractJsonSchema(), null, 2)}\n`;
}
