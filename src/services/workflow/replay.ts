// Replay: re-run a run's recorded history against its definition and check that
// it follows — the same definition, each recorded step's inputs exactly what the
// recorded upstream outputs bind to, skips where `when` fails and only there, no
// step started before its `needs` completed. It runs nothing (no agent is asked);
// it is how you check a changed workflow file against runs already recorded, and
// that resume and retry kept the history consistent.
//
// Resume continues a run from its records; retry runs a failed step again with
// the same key; replay only reads.

import { bindInputs, digest, holds } from './data.js';
import type { RunRecord } from './records.js';
import type { WorkflowDefinition } from './types.js';

export interface ReplayReport {
  ok: boolean;
  run: string;
  stepsChecked: number;
  divergences: { step?: string; problem: string }[];
}

export function replayRun(recorded: WorkflowDefinition | undefined, current: WorkflowDefinition | undefined, run: RunRecord): ReplayReport {
  const divergences: ReplayReport['divergences'] = [];
  const def = current ?? recorded;
  if (!def) return { ok: false, run: run.id, stepsChecked: 0, divergences: [{ problem: `workflow "${run.workflow}" is not registered` }] };
  if (def.hash !== run.hash) divergences.push({ problem: `the registered definition (${def.hash.slice(0, 12)}…) is not the one the run started with (${run.hash.slice(0, 12)}…)` });
  let checked = 0;
  const order = new Map(run.completed.map((id, i) => [id, i]));
  for (const step of def.steps) {
    const rec = run.steps[step.id];
    if (!rec) {
      divergences.push({ step: step.id, problem: 'the run has no record of this step' });
      continue;
    }
    if (rec.status === 'pending') continue;
    checked++;
    for (const need of step.needs) {
      const n = run.steps[need];
      if (!n || (n.status !== 'completed' && n.status !== 'skipped' && n.status !== 'compensated')) {
        divergences.push({ step: step.id, problem: `ran while "${need}" was ${n?.status ?? 'missing'}` });
      } else if (order.has(step.id) && order.has(need) && order.get(need)! > order.get(step.id)!) {
        divergences.push({ step: step.id, problem: `completed before "${need}", which it needs` });
      }
    }
    const input = bindInputs(step.bind, run);
    if (rec.status === 'skipped') {
      if (!step.when || holds(step.when, input)) divergences.push({ step: step.id, problem: `was skipped, but ${step.when ? `"${step.when.text}" holds` : 'it has no condition'}` });
      continue;
    }
    if (step.when && !holds(step.when, input)) divergences.push({ step: step.id, problem: `ran, but "${step.when.text}" does not hold for its inputs` });
    if (rec.inputHash !== undefined && rec.inputHash !== digest(input)) {
      divergences.push({ step: step.id, problem: `its recorded input (${rec.inputHash.slice(0, 12)}…) is not what the recorded upstream outputs bind to (${digest(input).slice(0, 12)}…)` });
    }
  }
  return { ok: divergences.length === 0, run: run.id, stepsChecked: checked, divergences };
}
