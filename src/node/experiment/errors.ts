// Typed errors of the experiment runner: a malformed experiment file (with its
// file:line:col and field), a scenario that cannot be found, or a run that fails.

import { AgentOsError } from '../../base/errors.js';

export class ExperimentError extends AgentOsError {}

export const ExperimentCodes = {
  /** The experiment file cannot be read. */
  read: 'EXPERIMENT_READ',
  /** The file is not acceptable YAML (syntax, duplicate keys, several documents, binary data). */
  yaml: 'EXPERIMENT_YAML',
  /** A size, nesting or count limit was hit. */
  tooLarge: 'EXPERIMENT_TOO_LARGE',
  /** A field is missing or wrong, params included (the message is `file:line:col: field: why`). */
  invalid: 'EXPERIMENT_INVALID',
  /** `scenario:` names no built-in, or its module exports no scenario. */
  unknownScenario: 'EXPERIMENT_UNKNOWN_SCENARIO',
  /** A scenario run threw (the seed is in `details`, the error in `cause`). */
  runFailed: 'EXPERIMENT_RUN_FAILED',
  /** A scenario waits for something that cannot happen: no timer left to fire, or past its time horizon. */
  stalled: 'EXPERIMENT_STALLED',
  /** The results directory or a result file cannot be written. */
  write: 'EXPERIMENT_WRITE',
  /** A scenario recorded a row or returned a summary that is not flat JSON data. */
  badRow: 'EXPERIMENT_BAD_ROW',
} as const;
