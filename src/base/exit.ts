// Exit reasons are data, as in OTP: a normal end, a requested shutdown, or an
// error. Shared by actors (which exit) and supervisors (which decide on exits).

export type ExitReason =
  | { kind: 'normal' }
  | { kind: 'shutdown' }
  | { kind: 'error'; error: unknown };

export const normalExit: ExitReason = { kind: 'normal' };
export const shutdownExit: ExitReason = { kind: 'shutdown' };
export const errorExit = (error: unknown): ExitReason => ({ kind: 'error', error });

/** A short printable form: `normal`, `shutdown`, or `error: <message>`. */
export function describeExit(reason: ExitReason): string {
  if (reason.kind !== 'error') return reason.kind;
  const e = reason.error;
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}
