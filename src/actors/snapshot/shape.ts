// Structural check of a decoded (or migrated, or hand-built) snapshot, so a
// body that passed its checksum but is not what a writer of this format
// produces is refused by name instead of being handed to XState.

import { StorageError } from '../../base/errors.js';
import { SNAPSHOT_FORMAT, type ActorSnapshot } from './types.js';

type Check = (ok: boolean, field: string, why: string) => asserts ok;

/** Throws `StorageError(code)` naming the first malformed field. */
export function assertSnapshotShape(value: unknown, code: string, context: string): asserts value is ActorSnapshot {
  const check: Check = (ok, field, why) => {
    if (!ok) throw new StorageError(code, `${context}: snapshot field ${field} ${why}`, { field });
  };
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isStr = (v: unknown): v is string => typeof v === 'string';
  const isPath = (v: unknown): boolean => Array.isArray(v) && v.every(isStr);

  check(isObj(value), 'snapshot', 'must be an object');
  const s = value as Record<string, unknown>;
  check(s.format === SNAPSHOT_FORMAT, 'format', `must be ${SNAPSHOT_FORMAT} (got ${String(s.format)})`);
  check(isObj(s.definition) && isStr(s.definition.name) && isStr(s.definition.version), 'definition', 'must be { name, version }');
  check(typeof s.capturedAt === 'number' && Number.isFinite(s.capturedAt), 'capturedAt', 'must be a finite number');
  check(isObj(s.actor) && isStr(s.actor.id), 'actor', 'must be { id, systemId? }');
  check(s.actor.systemId === undefined || isStr(s.actor.systemId), 'actor.systemId', 'must be a string');
  check(isObj(s.xstate) && isStr(s.xstate.status) && isObj(s.xstate.children), 'xstate', 'must be a persisted machine snapshot');
  check(isObj(s.extra), 'extra', 'must be an object');

  check(Array.isArray(s.timers), 'timers', 'must be an array');
  (s.timers as unknown[]).forEach((t, i) => {
    const f = `timers[${i}]`;
    check(isObj(t) && isPath(t.source) && isPath(t.target) && isStr(t.id), f, 'must have source, target paths and an id');
    check(isObj(t.event) && isStr(t.event.type), `${f}.event`, 'must be an event object');
    check(Number.isFinite(t.dueAt) && Number.isFinite(t.seq), f, 'must have numeric dueAt and seq');
  });
  check(Array.isArray(s.inFlight), 'inFlight', 'must be an array');
  (s.inFlight as unknown[]).forEach((f, i) => {
    check(isObj(f) && isPath(f.path) && isStr(f.src), `inFlight[${i}]`, 'must have a path and a src');
  });
  check(Array.isArray(s.children), 'children', 'must be an array');
  (s.children as unknown[]).forEach((c, i) => {
    check(isObj(c) && isPath(c.path) && isStr(c.src) && isStr(c.kind) && isStr(c.status), `children[${i}]`, 'must have path, src, kind and status');
  });
  checkChildren(s.xstate.children as Record<string, unknown>, 'xstate.children', check, isObj);
}

function checkChildren(
  children: Record<string, unknown>,
  field: string,
  check: Check,
  isObj: (v: unknown) => v is Record<string, unknown>,
): void {
  for (const [id, entry] of Object.entries(children)) {
    const f = `${field}.${id}`;
    check(isObj(entry) && typeof entry.src === 'string' && isObj(entry.snapshot), f, 'must be { snapshot, src: string }');
    const nested = (entry.snapshot as Record<string, unknown>).children;
    if (isObj(nested)) checkChildren(nested, `${f}.snapshot.children`, check, isObj);
  }
}
