// Structural limits checked before any schema sees the data: forbidden
// prototype keys, nesting depth (and so cycles), string length and node count.
// Iterative, so hostile input cannot overflow the stack.
import type { ContractIssue, IssuePath } from './issues.js';

/** Keys that could reach an object's prototype if data were ever merged naively. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface ContractLimits {
  /** Largest accepted YAML text, bytes. Default 256 KiB. */
  maxBytes: number;
  /** Longest accepted string (value or key), characters. Default 64 KiB. */
  maxStringLength: number;
  /** YAML alias expansion limit (yaml's `maxAliasCount`). Default 100. */
  maxAliasCount: number;
  /** Deepest accepted nesting of mappings and lists. Default 32. */
  maxDepth: number;
  /** Most values (mappings, lists, scalars) in one contract. Default 10,000 (real ones have hundreds). */
  maxNodes: number;
}

export const DEFAULT_LIMITS: ContractLimits = {
  maxBytes: 256 * 1024,
  maxStringLength: 64 * 1024,
  maxAliasCount: 100,
  maxDepth: 32,
  maxNodes: 10_000,
};

export interface GuardFinding {
  kind: 'forbidden' | 'limit' | 'type';
  issue: ContractIssue;
}

/**
 * Walks a parsed value and returns the first structural problem, if any.
 * Accepts only JSON-like data: plain objects, arrays, strings, finite or
 * non-finite numbers, booleans and null (the schema judges the rest).
 */
export function guardTree(root: unknown, limits: ContractLimits): GuardFinding | undefined {
  const stack: { value: unknown; path: IssuePath }[] = [{ value: root, path: [] }];
  let nodes = 1;
  // Children are counted before they are pushed, so a huge list is refused without being walked.
  const tooMany = (path: IssuePath, children: number): GuardFinding | undefined => {
    nodes += children;
    return nodes > limits.maxNodes ? { kind: 'limit', issue: { path, message: `has more than ${limits.maxNodes} values in all` } } : undefined;
  };
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: IssuePath };
    if (typeof value === 'string') {
      if (value.length > limits.maxStringLength) {
        return { kind: 'limit', issue: { path, message: `string of ${value.length} characters exceeds the limit of ${limits.maxStringLength}` } };
      }
      continue;
    }
    if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
      return { kind: 'type', issue: { path, message: `must be plain data, got a ${typeof value}` } };
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= limits.maxDepth) {
      return { kind: 'limit', issue: { path, message: `nesting is deeper than ${limits.maxDepth} levels (or cyclic)` } };
    }
    if (Array.isArray(value)) {
      const over = tooMany(path, value.length);
      if (over) return over;
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      return { kind: 'type', issue: { path, message: 'must be a plain mapping (not a class instance, Map or Date)' } };
    }
    const keys = Object.keys(value);
    const over = tooMany(path, keys.length);
    if (over) return over;
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      if (FORBIDDEN_KEYS.has(key)) {
        return { kind: 'forbidden', issue: { path: [...path, key], message: `key "${key}" is forbidden (prototype pollution)` } };
      }
      if (key.length > limits.maxStringLength) {
        return { kind: 'limit', issue: { path, message: `a key of ${key.length} characters exceeds the limit of ${limits.maxStringLength}` } };
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}
