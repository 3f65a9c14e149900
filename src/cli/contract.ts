// `agentos contract schema`: the Agent Contract JSON Schema, so editors can
// validate `*.agent.yaml` files as they are written.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AgentOsError } from '../base/errors.js';
import { contractJsonSchemaText } from '../kernel/contract/index.js';
import type { CliIo } from './exit.js';

export function registerContractCommands(program: Command, io: CliIo): void {
  const contract = program.command('contract').description('Agent Contract tools');
  contract
    .command('schema')
    .description('print the Agent Contract JSON Schema (draft 2020-12)')
    .option('--out <file>', 'write the schema to FILE instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ agentos contract schema --out agent-contract.schema.json
  then point your editor at it from a contract, e.g. with the YAML language server:
    # yaml-language-server: $schema=./agent-contract.schema.json`,
    )
    .action((opts: { out?: string }) => {
      const text = contractJsonSchemaText();
      if (opts.out === undefined) {
        io.out(text.trimEnd());
        return;
      }
      try {
        writeFileSync(opts.out, text);
      } catch (cause) {
        throw new AgentOsError('OUTPUT_WRITE_FAILED', `cannot write ${opts.out}: ${(cause as Error).message}`, { field: 'out', cause });
      }
      io.out(`wrote ${opts.out}`);
    });
}
