// MemoryService: memory and RAG as kernel syscalls (kind 'memory'). Every handler
// works in the caller's scope — the tenant the kernel admitted the actor under
// (`ctx.tenant`) and its contract's `memory.namespace` — never in one named by the
// arguments; a `tenant`/`namespace` argument or a citation ref naming another scope
// is refused as MEMORY_CROSS_TENANT and audited. Retention comes from the contract,
// redaction of PII on ingest where the contract asks, grounding from `memory.rag`.

import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Contract } from '../../kernel/contract/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallContext, SyscallEntry } from '../../kernel/syscalls.js';
import type { TreeNode } from '../../supervisors/types.js';
import { MemoryCodes, MemoryError } from './errors.js';
import { HANDLERS, type Call, type Handler } from './handlers.js';
import type { Keyring } from './keyring.js';
import { Memory, type MemoryOptions, type TenantMemory } from './memory.js';
import type { OnUngrounded } from './rag.js';
import { redactValue, type PiiKind } from './redact.js';
import { MEMORY_SYSCALLS, parseArgs, type ArgsOf, type MemorySyscall } from './schemas.js';

/** When stored text is redacted: as the contract asks (see `redactsPii`), always, or never. */
export type RedactMode = 'contract' | 'always' | 'never';

export interface MemoryServiceOptions extends Omit<MemoryOptions, 'keyring' | 'clock'> {
  clock: Clock;
  keyring: Keyring;
  redact?: RedactMode;
  /** What a query or answer without support gets when the contract requires grounding (default 'refuse'). */
  onUngrounded?: OnUngrounded;
  /** Purge expired records this often on the clock (default hourly; false: only on `purgeExpired()`). */
  purgeEveryMs?: number | false;
  /** Audit ingests, queries and every refused or failed call (default true). */
  audit?: boolean;
}

/**
 * Whether a contract asks for PII redaction: `memory.redact_pii` where the contract
 * schema carries it, else a data class of `pii` or `phi` (modelPolicy.privacy or
 * must.privacy) — what such an agent stores is minimised.
 */
export function redactsPii(contract: Contract): boolean {
  const explicit = (contract.memory as { redact_pii?: unknown } | undefined)?.redact_pii;
  if (typeof explicit === 'boolean') return explicit;
  const sensitive = (p: string | undefined): boolean => p === 'pii' || p === 'phi';
  return sensitive(contract.modelPolicy?.privacy) || sensitive(contract.must?.privacy);
}

const ZERO = (): Record<PiiKind, number> => ({ email: 0, phone: 0, ssn: 0 });

export class MemoryService {
  readonly memory: Memory;
  private readonly scopes = new Map<string, TenantMemory>();
  private readonly redactionCounts = new Map<string, Record<PiiKind, number>>();
  private timer: TimerHandle | undefined;
  private purging: Promise<unknown> | undefined;
  private readonly warming = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: MemoryServiceOptions) {
    this.memory = Memory.open(options);
  }

  /** Register the memory syscalls on a kernel (the retention purge timer starts with the first scope that has a retention). */
  register(kernel: Kernel): void {
    for (const name of MEMORY_SYSCALLS) kernel.syscalls.register('memory', name, this.entry(name));
  }

  unregister(kernel: Kernel): void {
    for (const name of MEMORY_SYSCALLS) kernel.syscalls.unregister('memory', name);
  }

  /** PII redactions made so far for a tenant, per kind. */
  redactions(tenant: string): Record<PiiKind, number> & { total: number } {
    const c = this.redactionCounts.get(tenant) ?? ZERO();
    return { ...c, total: c.email + c.phone + c.ssn };
  }

  purgeExpired(): Promise<{ removed: number }> {
    return this.memory.purgeExpired();
  }

  /**
   * Load a scope's vector indexes in the background, in slices that yield to the
   * event loop, so the first query after a restart waits only for what is not
   * loaded yet. Never rejects (a closed store or a tenant without a key just stops it).
   */
  warm(scope: { tenant: string; namespace: string; retentionDays?: number | undefined }): Promise<void> {
    if (this.closed) return Promise.resolve();
    let p: Promise<void>;
    try {
      p = this.memory.scope(scope).warm();
    } catch {
      return Promise.resolve();
    }
    const tracked = p.catch(() => undefined).finally(() => this.warming.delete(tracked));
    this.warming.add(tracked);
    return tracked;
  }

  /** Warm the memory scope of every admitted actor on the kernel whose contract has one (e.g. after recovery). */
  warmActors(kernel: Kernel): Promise<void> {
    const all: Promise<void>[] = [];
    const visit = (node: TreeNode): void => {
      if (node.kind === 'worker') all.push(this.warmActor(kernel, node.id));
      for (const child of node.children ?? []) visit(child);
    };
    visit(kernel.tree());
    return Promise.all(all).then(() => undefined);
  }

  /** Warm the memory scope of one admitted actor, if its contract has one (a scope already warm costs nothing). */
  warmActor(kernel: Kernel, id: string): Promise<void> {
    const admitted = kernel.governance.admittedActor(id);
    const mem = admitted?.contract.memory;
    if (!admitted || !mem) return Promise.resolve();
    return this.warm({ tenant: admitted.tenant, namespace: mem.namespace, retentionDays: mem.retention_days });
  }

  /** Resolves when no timed purge or background warm-up is running. */
  async idle(): Promise<void> {
    while (this.purging || this.warming.size > 0) {
      if (this.purging) await this.purging;
      await Promise.all(this.warming);
    }
  }

  /**
   * Stop the purge timer, let a running purge finish, and refuse further calls.
   * Call it before the node closes its LMDB environment (which stays the node's).
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    while (this.purging) await this.purging;
    // A warm-up stops at its next slice once the store is closed; wait for that, not for it to finish.
    this.memory.close();
    await Promise.all(this.warming);
  }

  private schedulePurge(): void {
    const every = this.options.purgeEveryMs ?? 3_600_000;
    if (every === false || this.timer !== undefined || this.closed) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.schedulePurge(); // re-armed at once, so the period does not drift with the purge's duration
      if (this.purging) return;
      this.purging = this.memory
        .purgeExpired()
        .catch(() => undefined) // a closed store or environment: the next tick (if any) tries again
        .finally(() => (this.purging = undefined));
    }, every);
  }

  private entry<N extends MemorySyscall>(name: N): SyscallEntry {
    const handler = HANDLERS[name] as Handler<N>;
    return {
      validate: (args) => parseArgs(name, args),
      // Reads, puts, deletes and ingests (same source, same text: unchanged) may run again; appends dedupe on the key.
      idempotent: name === 'memory.append' ? 'key' : true,
      handler: async (args, ctx) => {
        const kernel = ctx.kernel as Kernel;
        try {
          return await handler(args as ArgsOf<N>, this.callFor(kernel, ctx, name, args as ArgsOf<N>));
        } catch (err) {
          // Every refusal is on the record: a cross-tenant attempt as denied, damage as failed, bad input as refused.
          const code = (err as { code?: unknown }).code;
          const decision = code === MemoryCodes.crossTenant ? 'denied' : code === MemoryCodes.corrupt || !(err instanceof MemoryError) ? 'failed' : 'refused';
          this.audit(kernel, ctx, name, decision, { reason: (err as Error).message, data: { code: typeof code === 'string' ? code : 'ERROR' } });
          throw err;
        }
      },
    };
  }

  private callFor(kernel: Kernel, ctx: SyscallContext, name: MemorySyscall, args: { tenant?: string | undefined; namespace?: string | undefined }): Call {
    const contract = kernel.governance.admittedActor(ctx.actor)?.contract;
    const mem = contract?.memory;
    if (!contract || !mem) {
      throw new MemoryError(MemoryCodes.notConfigured, `memory: actor "${ctx.actor}" has no memory section in its contract (memory.namespace, retention_days)`, { field: 'memory' });
    }
    if (args.tenant !== undefined && args.tenant !== ctx.tenant) {
      throw new MemoryError(MemoryCodes.crossTenant, `memory: actor "${ctx.actor}" may only use its own tenant's memory`, { field: 'tenant' });
    }
    if (args.namespace !== undefined && args.namespace !== mem.namespace) {
      throw new MemoryError(MemoryCodes.crossTenant, `memory: actor "${ctx.actor}" may only use its contract's namespace "${mem.namespace}"`, { field: 'namespace' });
    }
    const id = JSON.stringify([ctx.tenant, mem.namespace, mem.retention_days]);
    let memory = this.scopes.get(id);
    if (!memory) {
      memory = this.memory.scope({ tenant: ctx.tenant, namespace: mem.namespace, retentionDays: mem.retention_days });
      if (mem.retention_days !== undefined) this.schedulePurge();
      this.scopes.set(id, memory);
      // The scope's first call of any kind starts loading its indexes, so a later query finds them warm.
      void this.warm({ tenant: ctx.tenant, namespace: mem.namespace, retentionDays: mem.retention_days });
    }
    const mode = this.options.redact ?? 'contract';
    const redact = mode === 'always' || (mode === 'contract' && redactsPii(contract));
    const count = (counts: Record<PiiKind, number>): void => {
      const c = this.redactionCounts.get(ctx.tenant) ?? ZERO();
      for (const k of Object.keys(c) as PiiKind[]) c[k] += counts[k];
      this.redactionCounts.set(ctx.tenant, c);
    };
    return {
      ctx,
      memory,
      contract,
      redact,
      onUngrounded: this.options.onUngrounded ?? 'refuse',
      scrub: <T>(value: T): T => {
        if (!redact) return value;
        const out = redactValue(value);
        count(out.counts);
        return out.value as T;
      },
      count,
      audit: (decision, extra = {}) => this.audit(kernel, ctx, name, decision, extra),
    };
  }

  private audit(kernel: Kernel, ctx: SyscallContext, name: string, decision: string, extra: { reason?: string; hashes?: Record<string, string>; data?: Record<string, unknown> }): void {
    if (this.options.audit === false) return;
    kernel.governance.record({ kind: 'memory', decision, actor: ctx.actor, tenant: ctx.tenant, subject: name, ...extra });
  }
}
