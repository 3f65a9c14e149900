#!/usr/bin/env node
// The `agentos` command line. `agentos demo` (what `npm start` runs) starts a
// node with a small supervision tree, shows a crash and restart, prints the tree.

import { Command } from 'commander';
import { isAgentOsError } from '../base/errors.js';
import { runDemo } from './demo.js';

const program = new Command();
program.name('agentos').description('An operating system for LLM agents').version('0.1.0');

program
  .command('demo', { isDefault: true })
  .description('run the showcase on embedded defaults (no network) and exit')
  .option('--data-dir <dir>', 'where the node keeps its data', '.agentos')
  .action(async (opts: { dataDir: string }) => {
    await runDemo(console.log, opts.dataDir);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isAgentOsError(err)) {
    console.error(`${err.code}: ${err.message}`);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
