// The supervisor spec builder. Defaults live here and only here (as in OTP's
// supervisor.erl); every spec a Supervisor runs has passed through `supervisor()`,
// so the runtime never sees a missing field. Bad input throws SupervisorSpecError.

import { ErrorCodes, SupervisorSpecError } from '../base/errors.js';
import type { ChildSpec, DynamicChildArgs, RestartType, Strategy, SupervisorSpec } from './types.js';

/** OTP's defaults: one_for_one, at most 1 restart in 5 s, permanent children. */
export const SUPERVISOR_DEFAULTS = {
  strategy: 'one_for_one' as Strategy,
  intensity: 1,
  periodMs: 5000,
  restart: 'permanent' as RestartType,
  workerShutdownMs: 5000,
  supervisorShutdownMs: 'infinity' as const,
};

export const STRATEGIES: readonly Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'];
export const RESTART_TYPES: readonly RestartType[] = ['permanent', 'transient', 'temporary'];

/** A child spec after defaults: restart and shutdownMs are always set. */
export type NormalizedChildSpec<S = unknown> = ChildSpec<S> & {
  restart: RestartType;
  shutdownMs: number | 'infinity';
};

/** What a user writes: everything but `id` is optional. */
export interface SupervisorInput<S = unknown> {
  id: string;
  strategy?: Strategy;
  intensity?: number;
  periodMs?: number;
  children?: ChildSpec<S>[];
}

/** True for anything shaped like a supervisor spec (the `kind` tag decides). */
export function isSupervisorSpec<S = unknown>(x: unknown): x is SupervisorSpec<S> {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'supervisor';
}

/**
 * Validate and normalize a supervisor spec (idempotent). Nested supervisor
 * specs among the children are normalized too.
 */
export function supervisor<S = unknown>(input: SupervisorInput<S> | SupervisorSpec<S>): SupervisorSpec<S> {
  if (typeof input !== 'object' || input === null) {
    throw specError('supervisor: spec must be an object', 'spec', input);
  }
  const id: unknown = input.id;
  if (typeof id !== 'string' || id.length === 0 || id.includes('/')) {
    throw specError(`supervisor: id must be a non-empty string without "/" (got ${show(id)})`, 'id', id);
  }
  const where = `supervisor "${id}"`;

  const strategy: unknown = input.strategy ?? SUPERVISOR_DEFAULTS.strategy;
  if (!STRATEGIES.includes(strategy as Strategy)) {
    throw specError(`${where}: strategy must be one of ${STRATEGIES.join(', ')} (got ${show(strategy)})`, 'strategy', strategy);
  }
  const intensity: unknown = input.intensity ?? SUPERVISOR_DEFAULTS.intensity;
  if (typeof intensity !== 'number' || !Number.isInteger(intensity) || intensity < 0) {
    throw specError(`${where}: intensity must be a non-negative integer (got ${show(intensity)})`, 'intensity', intensity);
  }
  const periodMs: unknown = input.periodMs ?? SUPERVISOR_DEFAULTS.periodMs;
  if (typeof periodMs !== 'number' || !Number.isFinite(periodMs) || periodMs <= 0) {
    throw specError(`${where}: periodMs must be a positive finite number (got ${show(periodMs)})`, 'periodMs', periodMs);
  }
  const rawChildren: unknown = input.children ?? [];
  if (!Array.isArray(rawChildren)) {
    throw specError(`${where}: children must be an array (got ${show(rawChildren)})`, 'children', rawChildren);
  }
  if (strategy === 'simple_one_for_one' && rawChildren.length !== 1) {
    throw specError(
      `${where}: simple_one_for_one needs exactly one child template in children (got ${rawChildren.length})`,
      'children',
      rawChildren.length,
    );
  }

  const seen = new Map<string, number>();
  const children = rawChildren.map((child: unknown, i) => {
    const normalized = normalizeChild<S>(child, where, `children[${i}]`);
    const first = seen.get(normalized.id);
    if (first !== undefined) {
      throw specError(
        `${where}: children[${i}].id "${normalized.id}" duplicates children[${first}].id`,
        `children[${i}].id`,
        normalized.id,
      );
    }
    seen.set(normalized.id, i);
    return normalized;
  });

  return { kind: 'supervisor', id, strategy: strategy as Strategy, intensity, periodMs, children };
}

/**
 * Validate one child spec and fill its defaults. `where` names the supervisor and
 * `field` the child's place (`children[2]`) in error messages.
 */
export function normalizeChild<S = unknown>(child: unknown, where: string, field: string): NormalizedChildSpec<S> {
  if (typeof child !== 'object' || child === null) {
    throw specError(`${where}: ${field} must be a child spec object (got ${show(child)})`, field, child);
  }
  const c = child as Partial<ChildSpec<S>>;
  if (typeof c.id !== 'string' || c.id.length === 0 || c.id.includes('/')) {
    throw specError(`${where}: ${field}.id must be a non-empty string without "/" (got ${show(c.id)})`, `${field}.id`, c.id);
  }
  if (c.start === undefined || c.start === null) {
    throw specError(`${where}: ${field}.start is required (child "${c.id}")`, `${field}.start`, c.start);
  }
  const restart: unknown = c.restart ?? SUPERVISOR_DEFAULTS.restart;
  if (!RESTART_TYPES.includes(restart as RestartType)) {
    throw specError(
      `${where}: ${field}.restart must be one of ${RESTART_TYPES.join(', ')} (got ${show(restart)})`,
      `${field}.restart`,
      restart,
    );
  }
  const nested = isSupervisorSpec<S>(c.start);
  const shutdownMs: unknown =
    c.shutdownMs ?? (nested ? SUPERVISOR_DEFAULTS.supervisorShutdownMs : SUPERVISOR_DEFAULTS.workerShutdownMs);
  if (shutdownMs !== 'infinity' && (typeof shutdownMs !== 'number' || !Number.isFinite(shutdownMs) || shutdownMs < 0)) {
    throw specError(
      `${where}: ${field}.shutdownMs must be a non-negative finite number or 'infinity' (got ${show(shutdownMs)})`,
      `${field}.shutdownMs`,
      shutdownMs,
    );
  }
  if (c.node !== undefined && (typeof c.node !== 'string' || c.node.length === 0 || nested)) {
    const why = nested ? 'only a leaf child (an agent) can run on another node' : `must be a node id (got ${show(c.node)})`;
    throw specError(`${where}: ${field}.node ${why}`, `${field}.node`, c.node);
  }
  const start = nested ? supervisor<S>(c.start as SupervisorSpec<S>) : (c.start as S);
  return {
    ...c,
    id: c.id,
    start,
    restart: restart as RestartType,
    shutdownMs: shutdownMs as number | 'infinity',
  };
}

/**
 * A dynamic child of a simple_one_for_one supervisor: its template with `id` and
 * `args` filled in. Without an id, `nextId()` is called until it gives a free one.
 */
export function fromTemplate<S>(
  spec: SupervisorSpec<S>,
  input: DynamicChildArgs,
  taken: (id: string) => boolean,
  nextId: () => string,
): NormalizedChildSpec<S> {
  let id = input.id;
  if (id === undefined) {
    do id = nextId();
    while (taken(id));
  }
  return normalizeChild<S>({ ...spec.children[0]!, id, args: input.args }, `supervisor "${spec.id}"`, `startChild(${show(id)})`);
}

function specError(message: string, field: string, got: unknown): SupervisorSpecError {
  return new SupervisorSpecError(ErrorCodes.invalidSupervisorSpec, message, { field, details: { got: printable(got) } });
}

function printable(x: unknown): unknown {
  return x === null || ['string', 'number', 'boolean'].includes(typeof x) ? x : show(x);
}

function show(x: unknown): string {
  if (x === undefined) return 'undefined';
  if (typeof x === 'number') return String(x);
  try {
    const s = JSON.stringify(x);
    if (s !== undefined) return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    // circular or otherwise unprintable: fall through
  }
  return String(x);
}
