// How a CLI run ends: exit codes (0 ok, 1 failure, 2 usage error) and the
// one-line `CODE: message` form of errors. Commands report through CliIo, so
// the verdict of a run is data, not a process.exit buried in a command.

import { CommanderError } from 'commander';
import { isAgentOsError } from '../base/errors.js';
import { PLAIN, type Paint } from './style.js';

export const ExitCodes = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** What a command may do besides throwing: print, and mark its verdict as negative. */
export interface CliIo {
  /** A line of the command's result (stdout). */
  out(line: string): void;
  /** A diagnostic line (stderr). */
  err(line: string): void;
  /** The command ran, but its verdict is negative (an invalid file, a tampered log): exit 1. */
  fail(): void;
  /** Colours for stdout and stderr (plain unless the stream is a terminal; see style.ts). */
  paint?: { out: Paint; err: Paint };
}

/** The colours for a command's stdout lines. */
export const outPaint = (io: CliIo): Paint => io.paint?.out ?? PLAIN;

/** Exit code for an error that ended the run. Commander's own errors are usage errors, except help and version. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
  return ExitCodes.failure;
}

/** The stderr line for an error, or undefined when commander has printed it already. */
export function describeError(err: unknown, p: Paint = PLAIN): string | undefined {
  if (err instanceof CommanderError) return undefined;
  if (isAgentOsError(err)) return `${p.red(err.code)}: ${err.message}`;
  return `${p.red('INTERNAL_ERROR')}: ${err instanceof Error ? err.message : String(err)}`;
}
