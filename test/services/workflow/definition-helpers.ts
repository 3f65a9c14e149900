// Shared by the workflow loader tests: stub agent/tool lookups, a YAML builder
// and an assertion that a call fails with a WorkflowError of a given code.
import { expect } from 'vitest';
import { WorkflowError } from '../../../src/services/workflow/errors.js';
import type { AgentInfo } from '../../../src/services/workflow/kinds.js';
import type { WorkflowOptions } from '../../../src/services/workflow/validate.js';

export const AGENTS: Record<string, AgentInfo> = {
  planner: {},
  browser: {},
  summariser: { contract: { class: { latency: 'SRT', slo: { onset_ms: 500, turn_ms: 5000 } } } },
  mailer: {},
  worker: {},
  batch: { contract: { class: { latency: 'DT', slo: { completion_sla_ms: 120_000 } } } },
  robot: { contract: { class: { latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 2 } } } },
  // An agent contract given as YAML text, as defineAgent allows.
  yamlrobot: { contract: 'class:\n  latency: HRT\n  slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 2 }\n' },
};

export const TOOLS = new Set(['email.send', 'web.fetch']);

export const options = (extra: Partial<WorkflowOptions> = {}): WorkflowOptions => ({
  agents: (name) => AGENTS[name],
  tools: (name) => TOOLS.has(name),
  ...extra,
});

export const HEADER = ['apiVersion: agentos/v0.2', 'kind: Workflow', 'name: wf'];

/** A workflow document: the three header lines, then `lines`; line n of the file is lines[n - 4]. */
export const doc = (...lines: string[]): string => `${[...HEADER, ...lines].join('\n')}\n`;

/** Runs `fn`, asserts a WorkflowError with `code` whose message holds every fragment; returns it. */
export function expectWorkflowError(fn: () => unknown, code: string, ...fragments: string[]): WorkflowError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a WorkflowError').toBeInstanceOf(WorkflowError);
  const err = caught as WorkflowError;
  expect(err.code, err.message).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

/** The codes of every issue an error reports. */
export const codesOf = (err: WorkflowError): string[] => (err.details?.issues as { code: string }[]).map((i) => i.code);
