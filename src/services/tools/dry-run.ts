// Simulation mode. A dry run goes through the kernel like any call (capability,
// consent, budgets, audit) but, at the tool, runs `simulate` instead of `execute`,
// or — for a tool without one — only records the intended call and answers with
// a receipt. Dry runs are chosen per registry, per actor, per tool, or per call
// (`registry.call(actor, tool, args, { dryRun: true })`, carried to the handler in
// an AsyncLocalStorage scope bound to that actor and tool, so nothing the tool
// sets off elsewhere inherits it).

import { AsyncLocalStorage } from 'node:async_hooks';
import { ToolCodes, ToolError } from './errors.js';

/** `true`: every call; an object: calls by these actors or of these tools. */
export type DryRunMode = boolean | { actors?: readonly string[]; tools?: readonly string[] };

/** A call a dry run did not make. Arguments are redacted. */
export interface IntendedCall {
  id: number;
  tool: string;
  version: string;
  /** Manifest hash of the version that would have run. */
  hash: string;
  actor: string;
  tenant: string;
  args: unknown;
  /** Node clock time. */
  at: number;
  /** Whether `simulate` answered (else the caller got a DryRunReceipt). */
  simulated: boolean;
}

/** What a dry-run call of a tool without `simulate` returns. */
export interface DryRunReceipt {
  dryRun: true;
  tool: string;
  version: string;
  /** Id of the IntendedCall recorded. */
  recorded: number;
}

interface CallScope {
  owner: object;
  actor: string;
  tool: string;
  dryRun: boolean;
}

const scope = new AsyncLocalStorage<CallScope>();

/** Run `fn` (a kernel syscall) with a per-call dry-run choice for `actor` calling `tool`. */
export function withCallScope<T>(owner: object, actor: string, tool: string, dryRun: boolean, fn: () => T): T {
  return scope.run({ owner, actor, tool, dryRun }, fn);
}

export function checkDryRunMode(mode: unknown): DryRunMode {
  if (typeof mode === 'boolean') return mode;
  const m = mode as { actors?: unknown; tools?: unknown } | null;
  const list = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  if (typeof m !== 'object' || m === null || !list(m.actors) || !list(m.tools)) {
    throw new ToolError(ToolCodes.invalidTool, 'dryRun must be true, false or { actors?: string[], tools?: string[] }', { field: 'dryRun' });
  }
  return { ...(m.actors ? { actors: [...(m.actors as string[])] } : {}), ...(m.tools ? { tools: [...(m.tools as string[])] } : {}) };
}

/** The dry-run choice for one call: the per-call scope wins, then the registry's mode. */
export function isDryRun(owner: object, mode: DryRunMode, actor: string, tool: string): boolean {
  const s = scope.getStore();
  if (s !== undefined && s.owner === owner && s.actor === actor && s.tool === tool) return s.dryRun;
  if (typeof mode === 'boolean') return mode;
  return (mode.actors?.includes(actor) ?? false) || (mode.tools?.includes(tool) ?? false);
}

/** The most recent intended calls, oldest first. */
export class IntendedCalls {
  private readonly calls: IntendedCall[] = [];
  private seq = 0;

  constructor(private readonly limit: number) {}

  record(call: Omit<IntendedCall, 'id'>): IntendedCall {
    const entry = { id: ++this.seq, ...call };
    this.calls.push(entry);
    if (this.calls.length > this.limit) this.calls.splice(0, this.calls.length - this.limit);
    return entry;
  }

  list(): IntendedCall[] {
    return [...this.calls];
  }

  clear(): void {
    this.calls.length = 0;
  }
}
