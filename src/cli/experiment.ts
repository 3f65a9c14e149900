// `agentos experiment run <file> [--seed N|a..b]… [--out DIR] [--json]`: runs a
// seeded, reproducible experiment (a built-in scenario such as `marketplace`, or
// a module's) once per seed on a fresh node with a virtual clock, and writes the
// rows as JSONL per seed plus a summary table across seeds. Exit 0 ok, 1 an
// invalid file or a failed run, 2 usage.

import { InvalidArgumentError, type Command } from 'commander';
import type { CliIo } from './exit.js';

interface RunOpts {
  seed: (number | string)[];
  out?: string;
  json?: boolean;
}

/** A `--seed` value: an integer, or a range a..b; repeatable (collected in order). */
function seedValue(value: string, previous: (number | string)[]): (number | string)[] {
  if (!/^\s*\d+\s*(\.\.\s*\d+\s*)?$/.test(value)) throw new InvalidArgumentError('expected a seed (a non-negative integer) or a range a..b.');
  return [...previous, value];
}

export function registerExperimentCommands(program: Command, io: CliIo): void {
  const experiment = program.command('experiment').description('seeded, reproducible experiments on a virtual clock');
  experiment
    .command('run')
    .description('run an experiment file once per seed; write JSONL rows per seed and a summary table across seeds')
    .argument('<file>', 'experiment file (YAML, kind: Experiment)')
    .option('--seed <n|a..b>', "a seed or a range; repeatable; replaces the file's seeds", seedValue, [])
    .option('--out <dir>', "results directory (default: the file's out, relative to the file)")
    .option('--json', 'print the summary as JSON instead of a table')
    .addHelpText(
      'after',
      `
The file names a scenario (built-in: marketplace, blackboard; or { module: ./x.js }),
its params, seeds and an output directory:

  apiVersion: agentos/v0.2
  kind: Experiment
  name: market-100
  scenario: marketplace
  params: { bidders: 100, tasks: 50, strategy: lowest-price, failureRate: 0.1 }
  seeds: [1, 2, 3]
  out: results/market-100

Writes <out>/<name>.seed-<N>.jsonl (the same file and seed give the same bytes),
<out>/summary.md and <out>/summary.json (each metric per seed, mean, stdev).
Exit status: 0 ok, 1 an invalid file or a failed run, 2 a usage error.

Examples:
  $ agentos experiment run examples/marketplace/market.experiment.yaml
  $ agentos experiment run market.yaml --seed 1..10 --out /tmp/market
  $ agentos experiment run market.yaml --seed 7 --json`,
    )
    .action(async (file: string, opts: RunOpts) => {
      // Loaded on use: the runner pulls in the whole runtime.
      const { parseSeeds } = await import('../node/experiment/file.js');
      const { runExperiment, summaryJson, summaryMarkdown } = await import('../node/experiment/runner.js');
      const result = await runExperiment(file, {
        ...(opts.seed.length > 0 ? { seeds: parseSeeds(opts.seed) } : {}),
        ...(opts.out === undefined ? {} : { out: opts.out }),
        log: (line) => io.err(line),
      });
      if (opts.json) {
        io.out(JSON.stringify({ ...summaryJson(result), out: result.out }, null, 2));
        return;
      }
      io.out(summaryMarkdown(result).trimEnd());
      io.out('');
      io.out(`wrote ${result.files.jsonl.length} JSONL file(s), ${result.files.markdown} and ${result.files.json}`);
    });
}
