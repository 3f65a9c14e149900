// Typed errors of the tool service, with their stable codes in one place. A tool
// call that goes wrong (bad arguments, a throw, a timeout, a sandbox limit,
// garbage output, a suspended or unavailable version) always ends in one of these.

import { AgentOsError } from '../../base/errors.js';

/** A tool definition, call or sandbox failed. `field` names the offending input or limit. */
export class ToolError extends AgentOsError {}

export const ToolCodes = {
  /** A definition (defineTool, defineJsonSchemaTool, registerAgent) is malformed. */
  invalidTool: 'INVALID_TOOL',
  /** Arguments failed the input schema (a ValidationError, refused before consent and before the tool runs). */
  invalidArgs: 'INVALID_TOOL_ARGS',
  /** The tool returned something its output schema refuses, or that is not JSON data. */
  invalidOutput: 'INVALID_TOOL_OUTPUT',
  /** The tool threw. The message is redacted; the original error is not attached. */
  failed: 'TOOL_FAILED',
  /** The call ran past its time limit (a worker tool's thread is terminated). */
  timeout: 'TOOL_TIMEOUT',
  /** A worker tool hit its sandbox's memory limit; the worker was discarded. */
  sandboxLimit: 'TOOL_SANDBOX_LIMIT',
  /** The worker could not load the tool's module or find its export. */
  sandboxLoad: 'TOOL_SANDBOX_LOAD',
  /** The worker died for another reason (e.g. the tool called process.exit). */
  crashed: 'TOOL_CRASHED',
  /** The registry was closed while the call was in flight or queued. */
  closed: 'TOOL_SANDBOX_CLOSED',
  /** The tool is suspended (e.g. its definition changed and awaits re-approval). */
  suspended: 'TOOL_SUSPENDED',
  /** The same name and version was registered with a different definition. */
  versionConflict: 'TOOL_VERSION_CONFLICT',
  /** A version or hash named by pin/manifest does not exist. */
  unknownVersion: 'UNKNOWN_TOOL_VERSION',
  /** The caller's binding pins a tool version this node does not have. */
  versionUnavailable: 'TOOL_VERSION_UNAVAILABLE',
  /** No tool of that name in this registry. */
  unknownTool: 'UNKNOWN_TOOL',
  /** An agent-as-tool was called by the agent itself (it would wait on its own turn). */
  selfCall: 'TOOL_SELF_CALL',
  /** A secret name or value is malformed, or a tool asked for a secret it did not declare. */
  invalidSecret: 'INVALID_SECRET',
  unknownSecret: 'UNKNOWN_SECRET',
} as const;

export type ToolCode = (typeof ToolCodes)[keyof typeof ToolCodes];
