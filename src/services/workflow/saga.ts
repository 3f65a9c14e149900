// SAGA compensation: when a step fails for good (or the run is cancelled), the
// steps that completed are undone in reverse completion order — an agent step by
// its `compensate` message to the same agent (with the step's key, input and
// output), a sub-workflow or loop by compensating its child runs. Each undo is
// recorded before the next, so a node that dies mid-compensation resumes it
// without undoing a step twice. An undo that fails is retried (3 attempts in all);
// one that still fails is recorded and audited, and the saga goes on.

import type { RunDriver } from './driver.js';
import { errorRecord } from './driver.js';
import type { DriverHost } from './host.js';

const ATTEMPTS = 3;

export async function compensate(host: DriverHost, driver: RunDriver): Promise<void> {
  const { run, def } = driver;
  for (const id of [...run.completed].reverse()) {
    if (run.compensated.includes(id)) continue;
    const step = driver.step(id);
    const rec = driver.record(id);
    let failure: unknown;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        if (step.type === 'agent' && step.compensate !== undefined) {
          await host.agents.ask(def, step, run.id, run.tenant, {
            type: step.compensate,
            input: rec.input as Record<string, unknown>,
            output: rec.output,
            key: rec.key,
            run: run.id,
            step: id,
            attempt,
          });
        } else if (step.type === 'workflow') {
          await host.compensateChild(rec.child!);
        } else if (step.type === 'loop') {
          for (let i = (rec.iteration ?? 1) - 1; i >= 0; i--) await host.compensateChild(`${run.id}.${id}.${i}`);
        } else {
          break; // nothing to undo: an approval, or an agent step without `compensate`
        }
        failure = undefined;
        break;
      } catch (err) {
        failure = err;
      }
    }
    run.compensated.push(id);
    if (failure === undefined) {
      if (step.type !== 'HITL_approval' && (step.type !== 'agent' || step.compensate !== undefined)) {
        rec.status = 'compensated';
        host.audit(run, 'step-compensated', {}, id);
      }
    } else {
      const error = errorRecord(failure, id);
      host.audit(run, 'compensation-failed', { code: error.code, message: error.message }, id);
      host.kernel.emit('@agentos.workflow.compensation-failed', { run: run.id, step: id, code: error.code });
    }
    await driver.save();
  }
}
