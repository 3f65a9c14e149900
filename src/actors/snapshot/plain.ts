// A snapshot carries plain data only. `toPlainData` deep-copies a value and
// refuses, naming the path, anything msgpackr would silently change on the way
// through (a function becomes undefined, a Map an object, a class instance
// loses its prototype, a cycle overflows the stack).

import { StorageError } from '../../base/errors.js';
import { SnapshotCodes } from './types.js';

/** Deep copy of `value`; throws `SNAPSHOT_UNCAPTURABLE` naming `path` on the first value a snapshot cannot carry. */
export function toPlainData(value: unknown, path: string): unknown {
  return copy(value, path, []);
}

function copy(value: unknown, path: string, ancestors: object[]): unknown {
  switch (typeof value) {
    case 'undefined':
    case 'boolean':
    case 'number':
    case 'string':
    case 'bigint':
      return value;
    case 'function':
      return refuse(path, 'a function');
    case 'symbol':
      return refuse(path, 'a symbol');
  }
  if (value === null) return null;
  const obj = value as object;
  if (ancestors.includes(obj)) return refuse(path, 'a cyclic reference');
  if (obj instanceof Date) return new Date(obj.getTime());
  if (obj instanceof Uint8Array) return new Uint8Array(obj);
  ancestors.push(obj);
  try {
    if (Array.isArray(obj)) return obj.map((item, i) => copy(item, `${path}[${i}]`, ancestors));
    if (obj instanceof Set) return new Set([...obj].map((item, i) => copy(item, `${path}{${i}}`, ancestors)));
    if (obj instanceof Map) return refuse(path, 'a Map (store an object or an array of entries)');
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj.constructor as { name?: string } | undefined)?.name ?? 'unknown';
      return refuse(path, `an instance of ${name} (only plain objects survive a snapshot)`);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      out[key] = copy((obj as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

function refuse(path: string, what: string): never {
  throw new StorageError(SnapshotCodes.uncapturable, `captureSnapshot: ${path} is ${what}, which a snapshot cannot carry`, {
    field: path,
  });
}
