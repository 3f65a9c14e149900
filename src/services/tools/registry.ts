// The node's tool registry: every tool is a kernel syscall (`tool:<name>`), so
// the kernel checks the caller's contract, asks for consent and audits before
// anything runs. The registry keeps each name's versions with their manifests
// (pinned by hash), validates and counts every call, runs worker tools in a
// sandbox, honours dry runs, and redacts results.
//
// API (stable; MCP interop builds on it):
//   register(def) → ToolManifest            a new name (DUPLICATE_SYSCALL if taken)
//   registerJsonSchemaTool(config)          = register(defineJsonSchemaTool(config))
//   registerAgent(agent, config)            an agent's service interface as a tool
//   replace(def, { suspend? })              a changed definition under a name: its next version
//   unregister(name)                        removes the syscall
//   pin(name, hashOrVersion) / unpin(name)  which version callers without a binding run
//   suspend(name, reason, { code? }) / resume(name)   refuse calls (TOOL_SUSPENDED or `code`) until resumed
//   get(name), has(name), list()            active definition; [{ name, description }]
//   manifest(name, version?), manifests(), versions(name), status(name)
//   bindingEntries()                        versions as binding registry entries (contracts pin via `prefer`)
//   call(actor, name, args, { dryRun?, onBehalfOf?, reason? })   through kernel.syscall
//   setDryRun(mode), intended()             simulation mode and the calls it did not make
//   stats()                                 calls, invalid inputs/outputs, pass rate, per tool; redactions
//   onChange(listener)                      registered | replaced | unregistered | pinned | unpinned | suspended | resumed
//   approved                                approved definitions by name (LMDB with `db`): MCP pins live here
//   secrets, redactor, close()
// Every call is an `agentos.tool` span under the kernel's syscall span, and counted
// in `agentos.tool.calls`, `agentos.tool.schema.invalid` and `agentos.redactions`.

import type { RootDatabase } from 'lmdb';
import type { z } from 'zod';
import type { Clock } from '../../base/clock.js';
import type { RegistryEntry } from '../../kernel/binding/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallEntry } from '../../kernel/syscalls.js';
import type { Telemetry } from '../../kernel/trace.js';
import { agentTool, type AgentToolConfig } from './agent-tool.js';
import { ToolCallPath, type ToolEntry } from './calls.js';
import { defineJsonSchemaTool, isToolDefinition, type AnyToolDefinition, type JsonSchemaToolConfig } from './define.js';
import { checkDryRunMode, IntendedCalls, withCallScope, type DryRunMode, type IntendedCall } from './dry-run.js';
import { ToolCodes, ToolError } from './errors.js';
import { compileTool, registryEntryOf, ToolVersions, type ToolManifest, type ToolVersion } from './manifest.js';
import { Redactor, type RedactionStats } from './redact.js';
import { WorkerSandbox } from './sandbox.js';
import { SecretStore } from './secrets.js';
import { approvedToolsIn, type ApprovedTools } from './approved-store.js';
import { ToolCounters, type ToolStats } from './stats.js';
import { telemetrySource, ToolMeters } from './telemetry.js';

export interface ToolRegistryOptions {
  /** The node's secret store (a new empty one by default). */
  secrets?: SecretStore;
  /** Default: scrubs `secrets` and the built-in credential patterns. */
  redactor?: Redactor;
  /** Redact tool results before the caller (and so a model prompt) sees them. Default true. */
  redactOutputs?: boolean;
  /** Simulation mode for the whole registry, some actors or some tools. Default false. */
  dryRun?: DryRunMode;
  /** Worker sandbox defaults. */
  sandbox?: { maxThreads?: number; idleTimeoutMs?: number; timeoutMs?: number; memoryMb?: number; execArgv?: readonly string[] };
  /** Clock of time limits and records (default: the kernel's). */
  clock?: Clock;
  /** How many intended (dry-run) calls to keep. Default 1000. */
  intendedLimit?: number;
  /** The node's LMDB: approved definitions (MCP pins) are kept there across restarts. Default: in memory. */
  db?: RootDatabase;
  /** Spans and counters (default: the kernel's `telemetry`, else none). */
  telemetry?: Telemetry;
}

export interface ToolStatus {
  name: string;
  /** What callers without a binding of their own run. */
  active: ToolManifest;
  latest: ToolManifest;
  pinned: string | undefined;
  suspended: string | undefined;
}

export interface RegistryStats extends ToolStats {
  tools: Record<string, ToolStats>;
  redactions: RedactionStats;
}

export type ToolChange =
  | { type: 'registered' | 'replaced'; name: string; manifest: ToolManifest }
  | { type: 'unregistered' | 'unpinned' | 'resumed'; name: string }
  | { type: 'pinned'; name: string; hash: string }
  | { type: 'suspended'; name: string; reason: string };

export interface CallOptions {
  /** Simulate this one call (or force a real one under a registry-wide dry run). */
  dryRun?: boolean;
  onBehalfOf?: string;
  reason?: string;
}

export class ToolRegistry {
  readonly secrets: SecretStore;
  readonly redactor: Redactor;
  /** Approved definitions by tool name (persistent when the registry was given the node's `db`). */
  readonly approved: ApprovedTools;
  private readonly entries = new Map<string, ToolEntry>();
  private readonly counters = new ToolCounters();
  private readonly intendedCalls: IntendedCalls;
  private readonly path: ToolCallPath;
  private readonly listeners = new Set<(change: ToolChange) => void>();
  private dryRunMode: DryRunMode;
  private workers: WorkerSandbox | undefined;
  private closed = false;

  constructor(
    private readonly kernel: Kernel,
    private readonly options: ToolRegistryOptions = {},
  ) {
    this.secrets = options.secrets ?? new SecretStore();
    this.redactor = options.redactor ?? new Redactor({ secrets: this.secrets });
    this.dryRunMode = checkDryRunMode(options.dryRun ?? false);
    this.intendedCalls = new IntendedCalls(options.intendedLimit ?? 1000);
    this.approved = approvedToolsIn(options.db);
    const clock = options.clock ?? kernel.clock;
    this.path = new ToolCallPath({
      kernel,
      clock,
      secrets: this.secrets,
      redactor: this.redactor,
      counters: this.counters,
      meters: new ToolMeters(telemetrySource(options.telemetry, kernel)),
      intended: this.intendedCalls,
      sandbox: () => {
        if (this.closed) throw new ToolError(ToolCodes.closed, 'the tool registry was closed', { field: 'sandbox' });
        return (this.workers ??= new WorkerSandbox({ clock, ...pick(options.sandbox, ['maxThreads', 'idleTimeoutMs', 'execArgv']) }));
      },
      redactOutputs: options.redactOutputs ?? true,
      dryRun: () => this.dryRunMode,
      owner: this,
      worker: { timeoutMs: options.sandbox?.timeoutMs ?? 30_000, memoryMb: options.sandbox?.memoryMb ?? 256 },
    });
  }

  // ── registration ────────────────────────────────────────────────────────

  /** Register a tool under a new name; it becomes the kernel syscall `tool:<name>`. */
  register(tool: AnyToolDefinition): ToolManifest {
    if (!isToolDefinition(tool)) throw new ToolError(ToolCodes.invalidTool, 'tools.register: expected a defineTool(...) definition', { field: 'tool' });
    const versions = new ToolVersions(tool.name);
    const { version } = versions.add(compileTool(tool));
    const entry: ToolEntry = { name: tool.name, versions, pinned: undefined, suspended: undefined };
    // Throws DUPLICATE_SYSCALL when the name is taken (a changed definition goes through `replace`).
    this.kernel.syscalls.register('tool', tool.name, this.syscallEntry(entry));
    this.entries.set(tool.name, entry);
    this.notify({ type: 'registered', name: tool.name, manifest: version.manifest });
    return version.manifest;
  }

  /** A tool described by JSON Schema only (e.g. imported from an MCP server), validated with ajv. */
  registerJsonSchemaTool(config: JsonSchemaToolConfig): ToolManifest {
    return this.register(defineJsonSchemaTool(config));
  }

  /** An agent's service interface as a tool: calling it asks the agent (see agent-tool.ts). */
  registerAgent<I extends z.ZodType, O extends z.ZodType>(agent: string | { id: string }, config: AgentToolConfig<I, O>): ToolManifest {
    return this.register(agentTool(this.kernel, agent, config));
  }

  /**
   * A changed definition under a registered name: it becomes the next version
   * (an unchanged one returns the manifest it already has). Callers pinned by
   * the registry or by their binding keep their version. `suspend` refuses
   * calls until `resume` (e.g. a changed MCP tool awaiting re-approval).
   */
  replace(tool: AnyToolDefinition, options: { suspend?: string } = {}): ToolManifest {
    if (!isToolDefinition(tool)) throw new ToolError(ToolCodes.invalidTool, 'tools.replace: expected a defineTool(...) definition', { field: 'tool' });
    const entry = this.entry(tool.name);
    const previous = entry.versions.latest()!.manifest;
    const { version, added } = entry.versions.add(compileTool(tool));
    if (added) {
      this.record('versioned', tool.name, { toolManifest: version.manifest.hash, previous: previous.hash }, `version ${previous.version} → ${version.manifest.version}`);
      this.notify({ type: 'replaced', name: tool.name, manifest: version.manifest });
    }
    if (options.suspend !== undefined) this.suspend(tool.name, options.suspend);
    return version.manifest;
  }

  unregister(name: string): boolean {
    if (!this.entries.delete(name)) return false;
    this.kernel.syscalls.unregister('tool', name);
    this.notify({ type: 'unregistered', name });
    return true;
  }

  /** Callers without a binding of their own run this version (`sha256:…` or a version like `2`). */
  pin(name: string, ref: string): ToolManifest {
    const entry = this.entry(name);
    const version = this.find(entry, ref);
    entry.pinned = version.manifest.hash;
    this.record('pinned', name, { toolManifest: version.manifest.hash }, `version ${version.manifest.version}`);
    this.notify({ type: 'pinned', name, hash: version.manifest.hash });
    return version.manifest;
  }

  unpin(name: string): void {
    const entry = this.entry(name);
    if (entry.pinned === undefined) return;
    entry.pinned = undefined;
    this.record('unpinned', name);
    this.notify({ type: 'unpinned', name });
  }

  /**
   * Refuse calls until `resume`: with TOOL_SUSPENDED, or the `code` (and `details`) given —
   * a mounted MCP tool is refused with MCP_TOOL_SUSPENDED. Suspending again updates the reason.
   */
  suspend(name: string, reason: string, options: { code?: string; details?: Record<string, unknown> } = {}): void {
    const entry = this.entry(name);
    entry.suspended = typeof reason === 'string' && reason.length > 0 ? reason : 'suspended';
    entry.refusal = typeof options.code === 'string' ? { code: options.code, ...(options.details === undefined ? {} : { details: options.details }) } : undefined;
    this.record('suspended', name, { toolManifest: entry.versions.latest()!.manifest.hash }, entry.suspended);
    this.notify({ type: 'suspended', name, reason: entry.suspended });
  }

  resume(name: string): void {
    const entry = this.entry(name);
    if (entry.suspended === undefined) return;
    entry.suspended = undefined;
    entry.refusal = undefined;
    this.record('resumed', name);
    this.notify({ type: 'resumed', name });
  }

  // ── what is registered ──────────────────────────────────────────────────

  /** The definition callers without a binding run. */
  get(name: string): AnyToolDefinition | undefined {
    const entry = this.entries.get(name);
    return entry ? this.path.defaultVersion(entry).compiled.def : undefined;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  list(): { name: string; description: string }[] {
    return [...this.entries.values()].map((e) => {
      const def = this.path.defaultVersion(e).compiled.def;
      return { name: def.name, description: def.description };
    });
  }

  /** A version's manifest: by version (`2`) or hash (`sha256:…`); the active one by default. */
  manifest(name: string, version?: string): ToolManifest | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    if (version === undefined) return this.path.defaultVersion(entry).manifest;
    return (version.startsWith('sha256:') ? entry.versions.byHash(version) : entry.versions.byVersion(version))?.manifest;
  }

  /** The active manifest of every tool, by name. */
  manifests(): ToolManifest[] {
    return [...this.entries.keys()].sort().map((n) => this.manifest(n)!);
  }

  /** Every version of a tool, oldest first. */
  versions(name: string): ToolManifest[] {
    return this.entry(name).versions.all().map((v) => v.manifest);
  }

  status(name: string): ToolStatus {
    const entry = this.entry(name);
    return { name, active: this.path.defaultVersion(entry).manifest, latest: entry.versions.latest()!.manifest, pinned: entry.pinned, suspended: entry.suspended };
  }

  /** Every version of every tool as a binding registry entry (kind `tool`): for `createNode({ registry })`. */
  bindingEntries(): RegistryEntry[] {
    return [...this.entries.values()].flatMap((e) => e.versions.all().map((v) => registryEntryOf(v.manifest)));
  }

  // ── calls ───────────────────────────────────────────────────────────────

  /** Call a tool as `actorId`, through the kernel (policy, consent, audit) — optionally as a dry run. */
  call(actorId: string, name: string, args: unknown, options: CallOptions = {}): Promise<unknown> {
    const request = {
      kind: 'tool' as const,
      name,
      args,
      ...(options.onBehalfOf === undefined ? {} : { onBehalfOf: options.onBehalfOf }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    };
    if (options.dryRun === undefined) return this.kernel.syscall(actorId, request);
    return withCallScope(this, actorId, name, options.dryRun === true, () => this.kernel.syscall(actorId, request));
  }

  setDryRun(mode: DryRunMode): void {
    this.dryRunMode = checkDryRunMode(mode);
  }

  /** The calls dry runs recorded instead of making, oldest first (arguments redacted). */
  intended(): IntendedCall[] {
    return this.intendedCalls.list();
  }

  stats(): RegistryStats {
    const tools: Record<string, ToolStats> = {};
    for (const name of this.counters.names()) tools[name] = this.counters.tool(name);
    return { ...this.counters.totals(), tools, redactions: this.redactor.stats() };
  }

  onChange(listener: (change: ToolChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Terminate the sandbox's worker threads (calls in flight fail with TOOL_SANDBOX_CLOSED). The node calls this on stop. */
  async close(): Promise<void> {
    this.closed = true;
    await this.workers?.close();
  }

  /** Live sandbox worker threads (for diagnostics). */
  get sandboxThreads(): number {
    return this.workers?.threads ?? 0;
  }

  // ── internals ───────────────────────────────────────────────────────────

  private syscallEntry(entry: ToolEntry): SyscallEntry {
    const path = this.path;
    return {
      // The kernel validates before policy asks anyone to consent to these arguments.
      validate: (args) => path.validate(entry, args),
      handler: (args, ctx) => path.invoke(entry, args, ctx),
      // Read when a call is journaled or found in doubt: the active version decides.
      get idempotent() {
        return path.defaultVersion(entry).compiled.def.idempotent;
      },
      get compensate() {
        return path.defaultVersion(entry).compiled.def.compensate as SyscallEntry['compensate'];
      },
    };
  }

  private entry(name: string): ToolEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new ToolError(ToolCodes.unknownTool, `no tool named "${name}" is registered`, { field: 'name' });
    return entry;
  }

  private find(entry: ToolEntry, ref: string): ToolVersion {
    const version = typeof ref === 'string' ? (ref.startsWith('sha256:') ? entry.versions.byHash(ref) : entry.versions.byVersion(ref)) : undefined;
    if (!version) {
      const known = entry.versions.all().map((v) => `${v.manifest.version} (${v.manifest.hash})`).join(', ');
      throw new ToolError(ToolCodes.unknownVersion, `tool "${entry.name}" has no version ${JSON.stringify(ref)}; it has ${known}`, { field: 'version' });
    }
    return version;
  }

  private record(decision: string, name: string, hashes?: Record<string, string>, reason?: string): void {
    this.kernel.governance.record({ kind: 'tool', decision, subject: name, ...(hashes ? { hashes } : {}), ...(reason === undefined ? {} : { reason }) });
  }

  private notify(change: ToolChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's bug must not undo a registration.
      }
    }
  }
}

function pick<T extends object, K extends keyof T>(from: T | undefined, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (from?.[k] !== undefined) out[k] = from[k];
  return out;
}
