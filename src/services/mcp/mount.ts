// Mount an external MCP server's tools into this node: each becomes a kernel
// `tool` syscall `<prefix>.<tool>`, so calls are governed like native tools
// (capability, consent, budgets, audit). Arguments are checked against the
// pinned input schema before anyone is asked to consent; a tool whose listed
// definition moves away from its pin is suspended until `approve` re-pins it.

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { TimerHandle } from '../../base/clock.js';
import { AgentOsError } from '../../base/errors.js';
import type { AuditRecordInput } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallContext } from '../../kernel/syscalls.js';
import { kernelOf, mountsChanged, mountsOf, type KernelHost, type ToolDescriptor } from './catalog.js';
import { checkTransportSpec, connectMcp, describeServer, listAllTools } from './connect.js';
import { McpBridgeError, McpCodes } from './errors.js';
import { checkArgs, invokeTool, type McpToolResult } from './invoke.js';
import { mountOptionsOf, type CheckedMountOptions, type MountOptions } from './mount-options.js';
import { pinTool, type PinnedTool, type ToolPin } from './pin.js';
import { reconcile, type Change, type ListedTool } from './reconcile.js';
import { ToolTable } from './tool-table.js';
import { descriptorOf, pinHashes, pinnedOf, statusOf, type Entry, type McpMount, type McpMountStats, type McpToolStatus, type RefreshReport } from './mount-types.js';

export type { MountOptions } from './mount-options.js';
export type { McpMount, McpMountStats, McpToolStatus, RefreshReport } from './mount-types.js';

/** How long a liveness ping may take after a transport error. */
const PROBE_TIMEOUT_MS = 5000;

/** Connect to the server, pin and register its tools; resolves once every tool is registered. */
export async function mountMcpServer(target: KernelHost, options: MountOptions): Promise<McpMount> {
  const kernel = kernelOf(target);
  const opts = mountOptionsOf(options);
  checkTransportSpec(opts.transport);
  const mounts = mountsOf(kernel);
  for (const other of mounts.keys()) {
    if (other === opts.prefix || other.startsWith(`${opts.prefix}.`) || opts.prefix.startsWith(`${other}.`)) {
      throw new McpBridgeError(McpCodes.nameConflict, `prefix "${opts.prefix}" overlaps the MCP mount "${other}" on this node`, { field: 'prefix' });
    }
  }
  const mount = new Mount(kernel, opts);
  mounts.set(opts.prefix, mount); // reserved while connecting, so a concurrent mount of the prefix is refused
  try {
    await mount.start();
  } catch (err) {
    await mount.close();
    throw err;
  }
  return mount;
}

class Mount implements McpMount {
  readonly prefix: string;
  readonly server: string;
  status: 'connected' | 'unavailable' | 'closed' = 'unavailable';
  private client: Client | undefined;
  private readonly table: ToolTable;
  private readonly counters: McpMountStats = { calls: 0, invalidArgs: 0, toolErrors: 0, failures: 0, suspendedRefusals: 0 };
  private queue: Promise<unknown> = Promise.resolve();
  private refreshWaiting = false;
  private probing = false;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly kernel: Kernel,
    private readonly opts: CheckedMountOptions,
  ) {
    this.prefix = opts.prefix;
    this.server = describeServer(opts.transport);
    this.table = new ToolTable(kernel, opts, (e) => ({
      validate: (args) => this.admit(e.local, args),
      handler: (args, ctx) => this.call(e.local, args, ctx),
    }));
  }

  async start(): Promise<void> {
    await this.connect();
    const listed = await listAllTools(this.client!, this.what, this.opts.callTimeoutMs);
    const skip = this.opts.onInvalid === 'skip';
    for (const tool of listed) {
      if (this.table.byRemote.has(tool.name)) continue;
      const def = pinnedOf(tool);
      try {
        const local = this.table.nameFor(tool.name);
        const pin = pinTool(def);
        const expected = this.opts.pins?.[local] ?? this.opts.pins?.[tool.name];
        const entry: Entry = { remote: tool.name, local, state: 'pending', seen: pin, listed: def, registered: false };
        if (this.opts.pins === undefined || expected === pin.hash) {
          entry.checks = this.table.compile(def, local);
          Object.assign(entry, { state: 'active', approved: pin, approvedDef: def });
        } else if (expected !== undefined) {
          Object.assign(entry, { state: 'suspended', approved: { hash: expected }, changed: [], reason: `its definition ${pin.hash.slice(0, 12)}… differs from the pinned ${expected.slice(0, 12)}…` });
        }
        this.table.track(entry);
        this.table.register(entry);
      } catch (err) {
        if (!skip || !(err instanceof AgentOsError)) throw err;
        this.refuse(tool.name, def, err);
      }
    }
    this.audit({ decision: 'mounted', subject: this.prefix, data: { server: this.server, ...this.counts() } });
    for (const e of this.table.all()) {
      if (e.state === 'refused') continue;
      this.audit({ decision: e.state === 'active' ? 'pinned' : e.state, subject: e.local, hashes: pinHashes(e.seen as ToolPin), data: { remote: e.remote } });
    }
    this.emit('mounted', { server: this.server, tools: this.table.registryNames() });
    this.schedule();
  }

  get what(): string {
    return `MCP server "${this.prefix}" (${this.server})`;
  }

  tools(): McpToolStatus[] {
    return this.table.all().map((e) => statusOf(e));
  }

  tool(name: string): McpToolStatus | undefined {
    const e = this.table.local(name) ?? this.table.byRemote.get(name);
    return e && statusOf(e);
  }

  pins(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.table.all()) if (e.approved) out[e.local] = e.approved.hash;
    return out;
  }

  stats(): McpMountStats {
    return { ...this.counters };
  }

  refresh(): Promise<RefreshReport> {
    const run = this.queue.then(() => this.relist());
    this.queue = run.catch(() => {});
    return run;
  }

  approve(name: string, options: { by?: string; hash?: string } = {}): McpToolStatus {
    const e = this.table.local(name) ?? this.table.byRemote.get(name);
    const refuse = (why: string): never => {
      throw new McpBridgeError(McpCodes.approvalMismatch, `approve "${name}" on ${this.what}: ${why}`, { field: 'name' });
    };
    if (!e) return refuse('no such tool on this mount');
    if (e.state !== 'suspended' && e.state !== 'pending') return refuse(`the tool is ${e.state}; only a suspended or pending tool awaits approval`);
    if (options.hash !== undefined && options.hash !== e.seen?.hash) {
      return refuse(`the listed definition is ${e.seen?.hash.slice(0, 12)}…, not the reviewed ${options.hash.slice(0, 12)}…; review it again`);
    }
    const checks = this.table.compile(e.listed!, e.local);
    this.table.release(e);
    const previous = e.approved?.hash;
    Object.assign(e, { checks, state: 'active', approved: e.seen, approvedDef: e.listed, changed: undefined, reason: undefined });
    this.audit({
      decision: 'approved',
      subject: e.local,
      ...(options.by === undefined ? {} : { actor: options.by }),
      hashes: { ...pinHashes(e.seen as ToolPin), ...(previous === undefined ? {} : { previous }) },
      data: { remote: e.remote },
    });
    this.emit('tool.approved', { tool: e.local, remote: e.remote, hash: e.seen!.hash, by: options.by });
    return statusOf(e);
  }

  async reconnect(): Promise<RefreshReport> {
    if (this.status === 'closed') throw this.closedError();
    const old = this.client;
    this.client = undefined;
    await old?.close().catch(() => {});
    await this.connect();
    this.audit({ decision: 'reconnected', subject: this.prefix, data: { server: this.server } });
    return this.refresh();
  }

  async close(): Promise<void> {
    if (this.status === 'closed') return;
    const wasMounted = this.table.byRemote.size > 0 || this.client !== undefined;
    this.status = 'closed';
    if (this.timer !== undefined) this.kernel.clock.clearTimeout(this.timer);
    for (const e of this.table.all()) {
      this.table.unregister(e);
      this.table.release(e);
    }
    if (mountsOf(this.kernel).get(this.prefix) === this) mountsOf(this.kernel).delete(this.prefix);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => {});
    if (wasMounted) {
      this.audit({ decision: 'unmounted', subject: this.prefix, data: { server: this.server } });
      this.emit('unmounted', { server: this.server });
    }
  }

  /** The pinned descriptor of an active tool (for serveMcp). */
  describe(name: string): ToolDescriptor | undefined {
    const e = this.table.local(name);
    return e && descriptorOf(e);
  }

  // ---- calls ----

  /** The kernel's validate step: runs after the capability precheck, before consent. */
  private admit(local: string, args: unknown): Record<string, unknown> {
    const e = this.usable(local);
    try {
      return checkArgs(e, args);
    } catch (err) {
      this.counters.invalidArgs++;
      throw err;
    }
  }

  private async call(local: string, args: unknown, ctx: SyscallContext): Promise<McpToolResult> {
    const e = this.usable(local); // suspended while waiting for consent: refused still
    this.counters.calls++;
    // The kernel passes the caller's signal where it has one (a stopped caller, a barge-in).
    const signal = (ctx as { signal?: AbortSignal }).signal;
    try {
      return await invokeTool(this.client!, e, args as Record<string, unknown>, { timeoutMs: this.opts.callTimeoutMs, signal }, (what) => this.counters[what]++);
    } catch (err) {
      if ((err as AgentOsError).code === McpCodes.unavailable) this.probe();
      throw err;
    }
  }

  /**
   * Is the server still there? Over HTTP a server that dies mid-call leaves the
   * request waiting for its timeout (the SDK waits for the stream to resume); a
   * failed ping closes the client, which fails every call in flight at once.
   */
  private probe(): void {
    const client = this.client;
    if (this.probing || this.status !== 'connected' || !client) return;
    this.probing = true;
    client
      .ping({ timeout: Math.min(this.opts.callTimeoutMs, PROBE_TIMEOUT_MS) })
      .then(
        () => {},
        () => {
          if (this.client !== client) return;
          this.lost();
          void client.close().catch(() => {});
        },
      )
      .finally(() => (this.probing = false));
  }

  /** The entry of a callable tool, or the typed refusal (suspended, pending, server unavailable). */
  private usable(local: string): Entry {
    const e = this.table.local(local);
    if (!e || e.state === 'removed' || e.state === 'refused') {
      throw new McpBridgeError(McpCodes.unavailable, `MCP tool "${local}" is no longer offered by ${this.what}`, { field: 'name' });
    }
    if (e.state !== 'active') {
      this.counters.suspendedRefusals++;
      const why = e.state === 'pending' ? 'it is new since the server was mounted' : `its ${e.changed?.length ? e.changed.join(', ') : 'definition'} changed since it was approved`;
      const reason = `MCP tool "${local}" is suspended: ${why}; a person must review it and call approve("${local}")`;
      this.audit({ decision: 'refused', subject: local, reason, hashes: { ...(e.approved ? { approved: e.approved.hash } : {}), ...(e.seen ? { listed: e.seen.hash } : {}) } });
      throw new McpBridgeError(McpCodes.toolSuspended, reason, { field: 'name', details: { tool: local, state: e.state, changed: e.changed } });
    }
    if (this.status !== 'connected' || !this.client) {
      throw new McpBridgeError(McpCodes.unavailable, `MCP tool "${local}": ${this.what} is ${this.status === 'closed' ? 'unmounted' : 'unavailable (its connection closed; reconnect() to try again)'}`, { field: 'server' });
    }
    return e;
  }

  // ---- listing and reconciling ----

  private async relist(): Promise<RefreshReport> {
    this.refreshWaiting = false;
    if (this.status === 'closed') throw this.closedError();
    if (this.status !== 'connected' || !this.client) throw new McpBridgeError(McpCodes.unavailable, `${this.what} is unavailable; reconnect() first`, { field: 'server' });
    let listed: Tool[];
    try {
      listed = await listAllTools(this.client, this.what, this.opts.callTimeoutMs);
    } catch (err) {
      this.emit('refresh.failed', { reason: (err as Error).message });
      throw err;
    }
    const items: ListedTool[] = listed.map((t) => {
      const def = pinnedOf(t);
      try {
        return { def, pin: pinTool(def) };
      } catch (err) {
        return { def, pin: err as Error };
      }
    });
    const report: RefreshReport = { added: [], suspended: [], restored: [], removed: [], refused: [] };
    for (const change of reconcile(this.table.byRemote, items)) this.apply(change, report);
    return report;
  }

  private apply(change: Change, report: RefreshReport): void {
    const e = this.table.byRemote.get(change.remote);
    switch (change.kind) {
      case 'added': {
        const { def } = change.tool;
        if (e) this.table.forget(e); // a refused name listed again: try afresh
        let entry: Entry;
        try {
          entry = { remote: change.remote, local: this.table.nameFor(change.remote), state: 'pending', seen: change.tool.pin, listed: def, registered: false };
          this.table.track(entry);
          this.table.register(entry);
        } catch (err) {
          if (!(err instanceof AgentOsError)) throw err;
          this.refuse(change.remote, def, err);
          report.refused.push(change.remote);
          return;
        }
        report.added.push(entry.local);
        this.audit({ decision: 'pending', subject: entry.local, reason: 'a new tool awaits approval', hashes: pinHashes(change.tool.pin), data: { remote: entry.remote } });
        this.emit('tool.pending', { tool: entry.local, remote: entry.remote, hash: change.tool.pin.hash });
        return;
      }
      case 'changed':
      case 'unpinnable': {
        if (!e) return;
        if (change.kind === 'unpinnable' && e.approved === undefined) {
          this.table.unregister(e);
          this.refuse(change.remote, change.tool.def, change.error);
          report.refused.push(e.local);
          return;
        }
        Object.assign(e, {
          state: 'suspended',
          listed: change.tool.def,
          ...(change.kind === 'changed' ? { seen: change.tool.pin, changed: change.parts, reason: undefined } : { seen: undefined, changed: [], reason: change.error.message }),
        });
        if (!e.registered) this.table.register(e);
        report.suspended.push(e.local);
        const parts = change.kind === 'changed' ? change.parts : [];
        const reason = `${this.what} changed the ${parts.length ? parts.join(', ') : 'definition'} of tool "${e.remote}" since it was approved${change.kind === 'changed' && change.already ? ' (again, while suspended)' : ''}`;
        this.audit({ decision: 'suspended', subject: e.local, reason, hashes: { approved: e.approved!.hash, ...(e.seen ? { listed: e.seen.hash } : {}) }, data: { remote: e.remote, changed: parts } });
        this.emit('tool.suspended', { tool: e.local, remote: e.remote, changed: parts, approved: e.approved!.hash, listed: e.seen?.hash });
        return;
      }
      case 'restored':
      case 'revised': {
        if (!e) return;
        Object.assign(e, { seen: change.tool.pin, listed: change.tool.def, changed: undefined, reason: undefined, state: change.kind === 'restored' ? 'active' : 'pending' });
        if (!e.registered) this.table.register(e);
        if (change.kind === 'restored') report.restored.push(e.local);
        this.audit({ decision: change.kind, subject: e.local, hashes: pinHashes(change.tool.pin), data: { remote: e.remote } });
        this.emit(`tool.${change.kind}`, { tool: e.local, remote: e.remote, hash: change.tool.pin.hash });
        return;
      }
      case 'removed': {
        if (!e) return;
        this.table.unregister(e);
        if (change.forget || e.state === 'refused') this.table.forget(e);
        else e.state = 'removed';
        if (e.state === 'refused') return;
        report.removed.push(e.local);
        this.audit({ decision: 'removed', subject: e.local, data: { remote: e.remote } });
        this.emit('tool.removed', { tool: e.local, remote: e.remote });
      }
    }
  }

  // ---- bookkeeping ----

  private async connect(): Promise<void> {
    this.client = await connectMcp(this.opts.transport, {
      timeoutMs: this.opts.connectTimeoutMs,
      onListChanged: () => {
        if (this.refreshWaiting || this.status !== 'connected') return;
        this.refreshWaiting = true;
        this.refresh().catch(() => {}); // failures are emitted as refresh.failed
      },
      onClosed: () => this.lost(),
      onError: () => this.probe(),
    });
    this.status = 'connected';
  }

  private lost(): void {
    if (this.status !== 'connected') return;
    this.status = 'unavailable';
    this.audit({ decision: 'unavailable', subject: this.prefix, reason: `${this.what} closed the connection`, data: { server: this.server } });
    this.emit('unavailable', { server: this.server });
  }

  /** Track a tool that cannot be mounted (not registered), and say why. */
  private refuse(remote: string, def: PinnedTool, err: AgentOsError | Error): void {
    const known = this.table.byRemote.get(remote);
    if (known) this.table.forget(known);
    const entry: Entry = { remote, local: '', state: 'refused', listed: def, registered: false, reason: err.message };
    this.table.track(entry);
    this.audit({ decision: 'refused', subject: `${this.prefix}:${remote.slice(0, 120)}`, reason: err.message, data: { code: (err as AgentOsError).code ?? 'ERROR' } });
    this.emit('tool.refused', { remote, reason: err.message });
  }

  private schedule(): void {
    const every = this.opts.refreshEveryMs;
    if (every === undefined || this.status === 'closed') return;
    this.timer = this.kernel.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.status !== 'connected') return this.schedule();
      this.refresh()
        .catch(() => {})
        .finally(() => this.schedule());
    }, every);
  }

  private counts(): Record<string, number> {
    const out: Record<string, number> = { active: 0, suspended: 0, pending: 0, refused: 0 };
    for (const e of this.table.all()) if (e.state in out) out[e.state]!++;
    return out;
  }

  private closedError(): McpBridgeError {
    return new McpBridgeError(McpCodes.unavailable, `${this.what} is unmounted`, { field: 'server' });
  }

  private audit(record: Omit<AuditRecordInput, 'kind'>): void {
    this.kernel.governance.record({ kind: 'mcp', ...record, data: { prefix: this.prefix, ...record.data } });
  }

  /** An `@agentos.mcp.*` event; serveMcp sessions hear that what is offered may have changed. */
  private emit(what: string, data: Record<string, unknown>): void {
    this.kernel.emit(`@agentos.mcp.${what}`, { prefix: this.prefix, ...data });
    mountsChanged(this.kernel);
  }
}

