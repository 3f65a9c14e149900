// The errors a journaled call throws: in doubt, a journaled failure, a compensated call.
// Each carries plain data, and a replay throws the same class with the same data as
// the live call did, so an actor sees the same thing either way.

import { AgentOsError, EffectError } from '../../base/errors.js';
import { EffectCodes } from './codes.js';
import type { FailureData, InDoubtCall } from './types.js';

/** The call was dispatched but its outcome is unknown; it is not idempotent, so it is not run again. */
export class EffectInDoubt extends EffectError {
  constructor(
    readonly call: InDoubtCall,
    options: { cause?: unknown } = {},
  ) {
    super(
      EffectCodes.inDoubt,
      `effect ${call.key} is in doubt: dispatched at ${call.dispatchedAt} (attempt ${call.attempt}) with no journaled outcome, and it is not idempotent; compensate it or resolve it by hand`,
      { field: 'key', cause: options.cause, details: { ...call } },
    );
  }
}

/** The call failed. Thrown by the live call (cause: what it threw) and by every replay (no cause). */
export class EffectFailed extends EffectError {
  constructor(
    readonly key: string,
    readonly failure: FailureData,
    readonly replayed: boolean,
    options: { cause?: unknown } = {},
  ) {
    super(EffectCodes.failed, `effect ${key} failed: ${failure.name}${failure.code ? ` ${failure.code}` : ''}: ${failure.message}`, {
      field: 'key',
      cause: options.cause,
      details: { key, failure },
    });
  }
}

/** The call went in doubt and was compensated; it did not (or no longer does) take effect. */
export class EffectCompensated extends EffectError {
  constructor(
    readonly key: string,
    readonly attempt: number,
  ) {
    super(EffectCodes.compensated, `effect ${key} was in doubt and has been compensated (attempt ${attempt})`, {
      field: 'key',
      details: { key, attempt },
    });
  }
}

/** Plain data for anything thrown: AgentOsError fields as they are, other errors by name and message. */
export function failureData(thrown: unknown): FailureData {
  if (thrown instanceof AgentOsError) {
    const { name, code, message, field, details } = thrown.toJSON();
    return { name, code, message, ...(field === undefined ? {} : { field }), ...(details === undefined ? {} : { details }) };
  }
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    return { name: thrown.name, message: thrown.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'NonError', message: describe(thrown) };
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
