// A seeded marketplace experiment through the runner API: the contract net of
// examples/marketplace/market.experiment.yaml (20 bidders, 40 tasks, best value,
// failures re-announced, a budget) runs once per seed on a fresh node with a
// virtual clock, writes JSONL rows per seed and a summary table, and the first
// seed is run again to show the same seed gives the same bytes.
// Run: npx tsx examples/marketplace/run.ts [outDir]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExperiment, summaryMarkdown, type ExperimentResult } from '../../src/node/experiment/runner.js';

const file = fileURLToPath(new URL('./market.experiment.yaml', import.meta.url));

export async function main(dir = '.agentos/experiments/market-small'): Promise<{ result: ExperimentResult; reproducible: boolean }> {
  const result = await runExperiment(file, { out: join(dir, 'results'), log: (line) => console.log(line) });
  console.log(`\n${summaryMarkdown(result)}`);

  // The same file and seed again, into another directory: byte for byte the same rows.
  const seed = result.seeds[0]!;
  const again = await runExperiment(file, { out: join(dir, 'again'), seeds: [seed] });
  const reproducible = readFileSync(result.runs[0]!.file, 'utf8') === readFileSync(again.runs[0]!.file, 'utf8');
  console.log(`seed ${seed} run again: ${reproducible ? 'identical JSONL' : 'DIFFERENT JSONL'}`);
  return { result, reproducible };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main(process.argv[2]);
