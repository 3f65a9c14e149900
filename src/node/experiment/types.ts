// The contract between the experiment runner (`agentos experiment run <file> --seed N`)
// and a scenario. A scenario runs on a fresh node with a virtual clock and a seeded
// RNG, so the same file and seed give the same rows and summary on every machine.

import type { Rng } from '../../base/rng.js';
import type { VirtualClock } from '../../base/clock.js';
import type { AgentOsNode } from '../node.js';

/** One row of results (written as one JSONL line). Values are plain JSON data. */
export type ExperimentRow = Record<string, string | number | boolean | null>;

export interface ExperimentContext<P> {
  /** The seed of this run. */
  readonly seed: number;
  /** Seeded from `seed`: every random choice of the scenario comes from here. */
  readonly rng: Rng;
  /** The node's clock; advance it (`runAll`, `advance`) to move time. */
  readonly clock: VirtualClock;
  /** A fresh node on `clock` with its own data dir, no network. */
  readonly node: AgentOsNode;
  /** The experiment file's `params`, validated by the scenario's `params` schema. */
  readonly params: P;
  /** Append a result row (JSONL). */
  record(row: ExperimentRow): void;
}

export interface ExperimentScenario<P = Record<string, unknown>> {
  /** Name used by `scenario:` in an experiment file (built-ins: `marketplace`, `blackboard`). */
  readonly name: string;
  readonly description: string;
  /** Validates and defaults `params`; throw an AgentOsError naming the field for bad input. */
  parseParams(params: unknown): P;
  /** Runs once per seed; returns the summary metrics of the run (one row of the summary table). */
  run(ctx: ExperimentContext<P>): Promise<ExperimentRow>;
}

export function defineExperiment<P>(scenario: ExperimentScenario<P>): ExperimentScenario<P> {
  return scenario;
}
