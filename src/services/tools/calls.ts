// The path of one tool call after the kernel's policy check: choose the version
// (the caller's binding, else the registry's pin, else the latest), run it — in
// process, in a worker sandbox, or as a dry run — check the result against the
// output schema and redact it. Arguments were checked (and counted) in `validate`,
// which the kernel runs before anyone is asked to consent. Every failure is a
// typed error with a redacted message, counted, audited and emitted.

import type { Clock } from '../../base/clock.js';
import { AgentOsError, PolicyDenied, ValidationError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallContext } from '../../kernel/syscalls.js';
import type { ToolContext } from './define.js';
import { isDryRun, type DryRunMode, type DryRunReceipt, type IntendedCalls } from './dry-run.js';
import { ToolCodes, ToolError } from './errors.js';
import type { ToolVersion, ToolVersions } from './manifest.js';
import type { Redactor } from './redact.js';
import type { WorkerSandbox } from './sandbox.js';
import type { SecretStore } from './secrets.js';
import type { ToolCounters } from './stats.js';

/** One tool name in the registry: its versions, a pin, a suspension. */
export interface ToolEntry {
  name: string;
  versions: ToolVersions;
  /** Manifest hash every caller without a binding of its own runs. */
  pinned: string | undefined;
  /** Why calls are refused, while suspended. */
  suspended: string | undefined;
}

export interface CallPathDeps {
  kernel: Kernel;
  clock: Clock;
  secrets: SecretStore;
  redactor: Redactor;
  counters: ToolCounters;
  intended: IntendedCalls;
  sandbox: () => WorkerSandbox;
  redactOutputs: boolean;
  dryRun: () => DryRunMode;
  /** The registry (owner of per-call dry-run scopes). */
  owner: object;
  /** Defaults for worker tools. */
  worker: { timeoutMs: number; memoryMb: number };
}

export class ToolCallPath {
  constructor(private readonly d: CallPathDeps) {}

  /** The version callers without a binding of their own run: the pinned one, else the latest. */
  defaultVersion(e: ToolEntry): ToolVersion {
    return (e.pinned !== undefined ? e.versions.byHash(e.pinned) : undefined) ?? e.versions.latest()!;
  }

  /** The kernel's `validate`: refuse a suspended tool or bad arguments before consent is asked. Counted. */
  validate(e: ToolEntry, args: unknown): unknown {
    if (e.suspended !== undefined) throw this.suspended(e);
    this.d.counters.add(e.name, 'calls');
    const version = this.defaultVersion(e);
    return this.checkArgs(e, version, args);
  }

  async invoke(e: ToolEntry, args: unknown, ctx: SyscallContext): Promise<unknown> {
    if (e.suspended !== undefined) throw this.suspended(e, ctx);
    const version = this.versionFor(e, ctx);
    // A caller bound to another version: its arguments must fit that version's schema too.
    const input = version === this.defaultVersion(e) ? args : this.checkArgs(e, version, args);
    if (isDryRun(this.d.owner, this.d.dryRun(), ctx.actor, e.name)) return this.dryRun(version, input, ctx);
    let result: unknown;
    try {
      result = await this.execute(version, input, ctx);
    } catch (err) {
      throw this.failure(version, ctx, err);
    }
    return this.checkOutput(version, ctx, result);
  }

  private checkArgs(e: ToolEntry, version: ToolVersion, args: unknown): unknown {
    const r = version.compiled.input.check(args, 'arguments');
    if (r.ok) return r.value;
    this.d.counters.add(e.name, 'invalidInputs');
    const summary = this.d.redactor.redactString(r.summary);
    this.d.kernel.emit('@agentos.tool.invalid', { tool: e.name, version: version.manifest.version, what: 'arguments', field: r.field, reason: summary });
    throw new ValidationError(ToolCodes.invalidArgs, `tool "${e.name}" arguments invalid: ${summary}`, { field: r.field });
  }

  private checkOutput(version: ToolVersion, ctx: SyscallContext, result: unknown): unknown {
    const schema = version.compiled.output;
    let out = result;
    if (schema) {
      const r = schema.check(result, 'output');
      if (!r.ok) {
        const err = new ValidationError(ToolCodes.invalidOutput, `tool "${version.manifest.name}" output invalid: ${this.d.redactor.redactString(r.summary)}`, { field: r.field });
        throw this.failure(version, ctx, err);
      }
      out = r.value;
    }
    return this.d.redactOutputs ? this.d.redactor.redact(out) : out;
  }

  /** The caller's binding (sealed at admission from its contract's `prefer`) decides first, then the pin, then the latest. */
  private versionFor(e: ToolEntry, ctx: SyscallContext): ToolVersion {
    const selections = this.d.kernel.governance.admittedActor(ctx.actor)?.manifest?.body.selections ?? [];
    const bound = selections.find((s) => s.name === e.name && s.kind !== 'model');
    if (bound === undefined) return this.defaultVersion(e);
    const version = e.versions.byHash(bound.hash);
    if (version) return version;
    this.d.counters.add(e.name, 'refused');
    const err = new PolicyDenied(ToolCodes.versionUnavailable, `"${ctx.actor}" is bound to tool "${e.name}" version ${bound.version} (${bound.hash}), which this node's tool registry does not have`, {
      field: `prefer.${bound.slot}`,
    });
    this.audit(ctx, e.name, 'refused', err, bound.hash);
    throw err;
  }

  /** In `validate` the caller is not known yet: the refusal is counted and emitted; in the handler it is audited too. */
  private suspended(e: ToolEntry, ctx?: SyscallContext): PolicyDenied {
    this.d.counters.add(e.name, 'refused');
    const err = new PolicyDenied(ToolCodes.suspended, `tool "${e.name}" is suspended: ${e.suspended}`, { field: 'name' });
    if (ctx) this.audit(ctx, e.name, 'refused', err, this.defaultVersion(e).manifest.hash);
    else this.d.kernel.emit('@agentos.tool.refused', { tool: e.name, code: err.code, reason: err.message });
    return err;
  }

  private async execute(version: ToolVersion, args: unknown, ctx: SyscallContext): Promise<unknown> {
    const def = version.compiled.def;
    const timeoutMs = def.timeoutMs ?? (def.sandbox ? this.d.worker.timeoutMs : undefined);
    if (def.sandbox) {
      const secrets: Record<string, string> = {};
      for (const name of def.secrets) if (this.d.secrets.has(name)) secrets[name] = this.d.secrets.reveal(name);
      return this.d.sandbox().run(
        {
          tool: def.name,
          module: def.sandbox.module,
          export: def.sandbox.export,
          args,
          context: { actor: ctx.actor, tenant: ctx.tenant, version: version.manifest.version, ...(ctx.key === undefined ? {} : { key: ctx.key }), ...(ctx.attempt === undefined ? {} : { attempt: ctx.attempt }) },
          secrets,
        },
        {
          timeoutMs: timeoutMs!,
          memoryMb: def.sandbox.memoryMb ?? this.d.worker.memoryMb,
          ...(def.sandbox.youngMb === undefined ? {} : { youngMb: def.sandbox.youngMb }),
          ...(def.sandbox.stackMb === undefined ? {} : { stackMb: def.sandbox.stackMb }),
        },
      );
    }
    const abort = new AbortController();
    const context = this.context(version, ctx, abort.signal, false);
    if (timeoutMs === undefined) return def.execute(args, context);
    let timer: unknown;
    const late = new Promise<never>((_, reject) => {
      timer = this.d.clock.setTimeout(() => {
        abort.abort();
        reject(new ToolError(ToolCodes.timeout, `tool "${def.name}" ran past its time limit of ${timeoutMs} ms`, { field: 'timeoutMs' }));
      }, timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => def.execute(args, context)), late]);
    } finally {
      this.d.clock.clearTimeout(timer);
    }
  }

  private async dryRun(version: ToolVersion, args: unknown, ctx: SyscallContext): Promise<unknown> {
    const def = version.compiled.def;
    const m = version.manifest;
    this.d.counters.add(m.name, 'dryRuns');
    const call = this.d.intended.record({
      tool: m.name,
      version: m.version,
      hash: m.hash,
      actor: ctx.actor,
      tenant: ctx.tenant,
      args: this.d.redactor.redact(args),
      at: this.d.clock.now(),
      simulated: def.simulate !== undefined,
    });
    this.d.kernel.emit('@agentos.tool.dryrun', { tool: m.name, version: m.version, actor: ctx.actor, recorded: call.id, simulated: call.simulated });
    if (!def.simulate) return { dryRun: true, tool: m.name, version: m.version, recorded: call.id } satisfies DryRunReceipt;
    let result: unknown;
    try {
      result = await def.simulate(args, this.context(version, ctx, new AbortController().signal, true));
    } catch (err) {
      throw this.failure(version, ctx, err);
    }
    return this.checkOutput(version, ctx, result);
  }

  private context(version: ToolVersion, ctx: SyscallContext, signal: AbortSignal, dryRun: boolean): ToolContext {
    const def = version.compiled.def;
    return {
      actor: ctx.actor,
      tenant: ctx.tenant,
      ...(ctx.key === undefined ? {} : { key: ctx.key }),
      ...(ctx.attempt === undefined ? {} : { attempt: ctx.attempt }),
      signal,
      dryRun,
      version: version.manifest.version,
      secret: (name) => {
        if (!def.secrets.includes(name)) {
          throw new ToolError(ToolCodes.unknownSecret, `tool "${def.name}" did not declare the secret "${name}" (add it to the tool's secrets)`, { field: 'secret' });
        }
        return this.d.secrets.reveal(name);
      },
    };
  }

  /** Classify, count, redact, audit and emit a failed call; returns the error to throw. */
  private failure(version: ToolVersion, ctx: SyscallContext, err: unknown): AgentOsError {
    const name = version.manifest.name;
    let out: AgentOsError;
    if (err instanceof AgentOsError) {
      out = err;
      out.message = this.d.redactor.redactString(out.message);
    } else {
      const e = err as { name?: unknown; message?: unknown } | null;
      const kind = typeof e?.name === 'string' ? e.name : 'Error';
      const message = this.d.redactor.redactString(typeof e?.message === 'string' ? e.message : String(err));
      // The original is not attached as `cause`: its message may carry what was just redacted.
      out = new ToolError(ToolCodes.failed, `tool "${name}" failed: ${kind}: ${message}`, { field: 'execute', details: { error: kind } });
    }
    const key = out.code === ToolCodes.timeout ? 'timeouts'
      : out.code === ToolCodes.sandboxLimit || out.code === ToolCodes.crashed || out.code === ToolCodes.sandboxLoad ? 'sandboxFailures'
      : out.code === ToolCodes.invalidOutput ? 'invalidOutputs'
      : 'failures';
    this.d.counters.add(name, key);
    this.audit(ctx, name, 'failed', out, version.manifest.hash);
    return out;
  }

  private audit(ctx: SyscallContext, tool: string, decision: string, err: AgentOsError, hash: string): void {
    this.d.kernel.emit('@agentos.tool.' + decision, { tool, actor: ctx.actor, code: err.code, reason: err.message });
    try {
      this.d.kernel.governance.record({
        kind: 'tool',
        decision,
        actor: ctx.actor,
        tenant: ctx.tenant,
        subject: tool,
        reason: err.message,
        hashes: { toolManifest: hash },
        data: { code: err.code, ...(err.field === undefined ? {} : { field: err.field }) },
      });
    } catch {
      // The audit log refusing a record (e.g. the node stopping) must not hide the tool's own error.
    }
  }
}
