// The path of one tool call after the kernel's policy check: choose the version
// (the caller's binding, else the registry's pin, else the latest), run it — in
// process, in a worker sandbox, or as a dry run — check the result against the
// output schema and redact it. Arguments were checked (and counted) in `validate`,
// which the kernel runs before anyone is asked to consent. Every failure is a
// typed error with a redacted message, counted, audited and emitted. Each call
// is an `agentos.tool` span under the kernel's syscall span, and is counted in
// the OpenTelemetry counters of telemetry.ts.

import type { Clock } from '../../base/clock.js';
import { AgentOsError, PolicyDenied, ValidationError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallContext } from '../../kernel/syscalls.js';
import type { TraceSpan } from '../../kernel/trace.js';
import type { ToolContext } from './define.js';
import { isDryRun, type DryRunMode, type DryRunReceipt, type IntendedCalls } from './dry-run.js';
import { ToolCodes, ToolError } from './errors.js';
import type { ToolVersion, ToolVersions } from './manifest.js';
import type { Redactor } from './redact.js';
import type { WorkerSandbox } from './sandbox.js';
import type { SecretStore } from './secrets.js';
import type { ToolCounters } from './stats.js';
import { outcomeOf, type ToolMeters } from './telemetry.js';

/** One tool name in the registry: its versions, a pin, a suspension. */
export interface ToolEntry {
  name: string;
  versions: ToolVersions;
  /** Manifest hash every caller without a binding of its own runs. */
  pinned: string | undefined;
  /** Why calls are refused, while suspended. */
  suspended: string | undefined;
  /** The refusal's code and details while suspended (default TOOL_SUSPENDED). */
  refusal?: { code: string; details?: Record<string, unknown> } | undefined;
}

/** One call in flight: its span and how many redactions it caused. */
interface Call {
  tool: string;
  span: TraceSpan | undefined;
  redactions: number;
}

export interface CallPathDeps {
  kernel: Kernel;
  clock: Clock;
  secrets: SecretStore;
  redactor: Redactor;
  counters: ToolCounters;
  meters: ToolMeters;
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
    const call: Call = { tool: e.name, span: undefined, redactions: 0 };
    try {
      if (e.suspended !== undefined) throw this.suspended(e);
      this.d.counters.add(e.name, 'calls');
      return this.checkArgs(call, e, this.defaultVersion(e), args);
    } catch (err) {
      this.d.meters.call(e.name, outcomeOf(err));
      throw err;
    }
  }

  async invoke(e: ToolEntry, args: unknown, ctx: SyscallContext): Promise<unknown> {
    const call: Call = { tool: e.name, span: ctx.span?.child('agentos.tool', { 'agentos.tool.name': e.name }), redactions: 0 };
    let dryRun = false;
    try {
      if (e.suspended !== undefined) throw this.suspended(e, ctx);
      const version = this.versionFor(e, ctx);
      dryRun = isDryRun(this.d.owner, this.d.dryRun(), ctx.actor, e.name);
      call.span?.set({
        'agentos.tool.version': version.manifest.version,
        'agentos.tool.hash': version.manifest.hash,
        'agentos.tool.sandbox': version.manifest.sandbox.kind,
        'agentos.tool.dry_run': dryRun,
      });
      // A caller bound to another version: its arguments must fit that version's schema too.
      const input = version === this.defaultVersion(e) ? args : this.checkArgs(call, e, version, args);
      const out = dryRun ? await this.dryRun(call, version, input, ctx) : await this.run(call, version, input, ctx);
      this.d.meters.call(e.name, dryRun ? 'dry_run' : 'ok');
      this.endSpan(call);
      return out;
    } catch (err) {
      this.d.meters.call(e.name, outcomeOf(err));
      this.endSpan(call, err);
      throw err;
    }
  }

  private async run(call: Call, version: ToolVersion, input: unknown, ctx: SyscallContext): Promise<unknown> {
    let result: unknown;
    try {
      result = await this.execute(call, version, input, ctx);
    } catch (err) {
      throw this.failure(call, version, ctx, err);
    }
    return this.checkOutput(call, version, ctx, result);
  }

  private endSpan(call: Call, err?: unknown): void {
    if (!call.span) return;
    call.span.set({ 'agentos.tool.redactions': call.redactions });
    call.span.end(err);
  }

  /** Scrub with the redactor, counting what this call's redactions were. */
  private scrub<T>(call: Call, fn: (r: Redactor) => T): T {
    const before = this.d.redactor.events;
    const out = fn(this.d.redactor);
    const n = this.d.redactor.events - before;
    if (n > 0) {
      call.redactions += n;
      this.d.meters.redacted(call.tool, n);
    }
    return out;
  }

  private checkArgs(call: Call, e: ToolEntry, version: ToolVersion, args: unknown): unknown {
    const r = version.compiled.input.check(args, 'arguments');
    if (r.ok) return r.value;
    this.d.counters.add(e.name, 'invalidInputs');
    this.d.meters.schemaInvalid(e.name, 'arguments');
    const summary = this.scrub(call, (x) => x.redactString(r.summary));
    this.d.kernel.emit('@agentos.tool.invalid', { tool: e.name, version: version.manifest.version, what: 'arguments', field: r.field, reason: summary });
    throw new ValidationError(ToolCodes.invalidArgs, `tool "${e.name}" arguments invalid: ${summary}`, { field: r.field });
  }

  private checkOutput(call: Call, version: ToolVersion, ctx: SyscallContext, result: unknown): unknown {
    const schema = version.compiled.output;
    let out = result;
    if (schema) {
      const r = schema.check(result, 'output');
      if (!r.ok) {
        this.d.meters.schemaInvalid(version.manifest.name, 'output');
        const summary = this.scrub(call, (x) => x.redactString(r.summary));
        throw this.failure(call, version, ctx, new ValidationError(ToolCodes.invalidOutput, `tool "${version.manifest.name}" output invalid: ${summary}`, { field: r.field }));
      }
      out = r.value;
    }
    return this.d.redactOutputs ? this.scrub(call, (x) => x.redact(out)) : out;
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
    const err = new PolicyDenied(e.refusal?.code ?? ToolCodes.suspended, `tool "${e.name}" is suspended: ${e.suspended}`, {
      field: 'name',
      ...(e.refusal?.details === undefined ? {} : { details: e.refusal.details }),
    });
    if (ctx) this.audit(ctx, e.name, 'refused', err, this.defaultVersion(e).manifest.hash);
    else this.d.kernel.emit('@agentos.tool.refused', { tool: e.name, code: err.code, reason: err.message });
    return err;
  }

  private async execute(call: Call, version: ToolVersion, args: unknown, ctx: SyscallContext): Promise<unknown> {
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
    // The tool's signal aborts at its time limit, and when the caller gives up (a stopped caller, a barge-in).
    const abort = new AbortController();
    const withdrawn = (): void => abort.abort(ctx.signal?.reason);
    if (ctx.signal?.aborted) withdrawn();
    else ctx.signal?.addEventListener('abort', withdrawn, { once: true });
    const context = this.context(version, ctx, abort.signal, false, call.span);
    let timer: unknown;
    try {
      if (timeoutMs === undefined) return await def.execute(args, context);
      const late = new Promise<never>((_, reject) => {
        timer = this.d.clock.setTimeout(() => {
          abort.abort();
          reject(new ToolError(ToolCodes.timeout, `tool "${def.name}" ran past its time limit of ${timeoutMs} ms`, { field: 'timeoutMs' }));
        }, timeoutMs);
      });
      return await Promise.race([Promise.resolve().then(() => def.execute(args, context)), late]);
    } finally {
      if (timer !== undefined) this.d.clock.clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', withdrawn);
    }
  }

  private async dryRun(call: Call, version: ToolVersion, args: unknown, ctx: SyscallContext): Promise<unknown> {
    const def = version.compiled.def;
    const m = version.manifest;
    this.d.counters.add(m.name, 'dryRuns');
    const intended = this.d.intended.record({
      tool: m.name,
      version: m.version,
      hash: m.hash,
      actor: ctx.actor,
      tenant: ctx.tenant,
      args: this.scrub(call, (x) => x.redact(args)),
      at: this.d.clock.now(),
      simulated: def.simulate !== undefined,
    });
    this.d.kernel.emit('@agentos.tool.dryrun', { tool: m.name, version: m.version, actor: ctx.actor, recorded: intended.id, simulated: intended.simulated });
    if (!def.simulate) return { dryRun: true, tool: m.name, version: m.version, recorded: intended.id } satisfies DryRunReceipt;
    let result: unknown;
    try {
      result = await def.simulate(args, this.context(version, ctx, ctx.signal ?? new AbortController().signal, true, call.span));
    } catch (err) {
      throw this.failure(call, version, ctx, err);
    }
    return this.checkOutput(call, version, ctx, result);
  }

  private context(version: ToolVersion, ctx: SyscallContext, signal: AbortSignal, dryRun: boolean, span: TraceSpan | undefined): ToolContext {
    const def = version.compiled.def;
    return {
      actor: ctx.actor,
      tenant: ctx.tenant,
      ...(ctx.key === undefined ? {} : { key: ctx.key }),
      ...(ctx.attempt === undefined ? {} : { attempt: ctx.attempt }),
      signal,
      dryRun,
      version: version.manifest.version,
      ...(span === undefined ? {} : { span }),
      secret: (name) => {
        if (!def.secrets.includes(name)) {
          throw new ToolError(ToolCodes.unknownSecret, `tool "${def.name}" did not declare the secret "${name}" (add it to the tool's secrets)`, { field: 'secret' });
        }
        return this.d.secrets.reveal(name);
      },
    };
  }

  /** Classify, count, redact, audit and emit a failed call; returns the error to throw. */
  private failure(call: Call, version: ToolVersion, ctx: SyscallContext, err: unknown): AgentOsError {
    const name = version.manifest.name;
    let out: AgentOsError;
    if (err instanceof AgentOsError) {
      out = err;
      out.message = this.scrub(call, (x) => x.redactString(out.message));
    } else {
      const e = err as { name?: unknown; message?: unknown } | null;
      const kind = typeof e?.name === 'string' ? e.name : 'Error';
      const message = this.scrub(call, (x) => x.redactString(typeof e?.message === 'string' ? e.message : String(err)));
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
