// Workflow errors: loading and validation (before a run starts) and running.

import { AgentOsError } from '../../base/errors.js';

export class WorkflowError extends AgentOsError {}

export const WorkflowCodes = {
  // ── load and validation ──
  /** The workflow text or object is malformed (YAML syntax, a missing or mistyped field). */
  invalid: 'WORKFLOW_INVALID',
  /** A step names an agent the node does not know. */
  unknownAgent: 'WORKFLOW_UNKNOWN_AGENT',
  /** A gate's `consent_for` or a step names a tool the node does not know. */
  unknownTool: 'WORKFLOW_UNKNOWN_TOOL',
  /** A step id is used twice, or `needs`/`from` names a step that does not exist (or is not upstream). */
  unknownStep: 'WORKFLOW_UNKNOWN_STEP',
  duplicateStep: 'WORKFLOW_DUPLICATE_STEP',
  /** The DAG has a cycle (the message names it). */
  cycle: 'WORKFLOW_CYCLE',
  /** A step's `in` field is bound to a source whose type does not fit. */
  typeMismatch: 'WORKFLOW_TYPE_MISMATCH',
  /** A step's `in` field has no source: no upstream step's `out` nor the workflow input has it. */
  unboundInput: 'WORKFLOW_UNBOUND_INPUT',
  /** A step's latency class cannot be served as a workflow step, or the critical path exceeds the deadline. */
  unschedulable: 'WORKFLOW_UNSCHEDULABLE',
  /** A type name used in `in`/`out` is not defined. */
  unknownType: 'WORKFLOW_UNKNOWN_TYPE',
  /** A sub-workflow step names a workflow that is not registered (or includes itself). */
  unknownWorkflow: 'WORKFLOW_UNKNOWN_WORKFLOW',
  // ── running ──
  /** No run with that id. */
  runNotFound: 'WORKFLOW_RUN_NOT_FOUND',
  /** The run's input (or a step's input at run time) fails its schema. */
  badInput: 'WORKFLOW_BAD_INPUT',
  /** A step's agent answered with something its `out` schema refuses. */
  badOutput: 'WORKFLOW_BAD_OUTPUT',
  /** A step failed permanently (after its retries); the run compensates. */
  stepFailed: 'WORKFLOW_STEP_FAILED',
  /** A step was in flight when the node died and is neither idempotent nor compensable: a person resolves it. */
  inDoubt: 'WORKFLOW_IN_DOUBT',
  /** An approval gate was rejected. */
  rejected: 'WORKFLOW_APPROVAL_REJECTED',
  /** An approval gate timed out (after its escalation, if any). */
  expired: 'WORKFLOW_APPROVAL_EXPIRED',
  /** What a gated step would do differs from what was approved. */
  consentMismatch: 'WORKFLOW_CONSENT_MISMATCH',
  /** The operation does not fit the run's state (retry a step that did not fail, resolve one not in doubt, …). */
  badState: 'WORKFLOW_BAD_STATE',
  /** Replay found the recorded history does not follow from the definition (the message names the step). */
  divergent: 'WORKFLOW_DIVERGENT',
  /** The run was cancelled. */
  cancelled: 'WORKFLOW_CANCELLED',
} as const;

export type WorkflowCode = (typeof WorkflowCodes)[keyof typeof WorkflowCodes];
