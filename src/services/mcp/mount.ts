// Mount an external MCP server's tools into this node: each becomes an entry of
// the node's tool registry, `<prefix>.<tool>` (a kernel `tool` syscall), so calls
// are governed like native tools — capability, consent, budgets, audit — and get
// the registry's schema checks (ajv), stats, redaction, versioned manifests, dry
// runs and spans. A tool whose listed definition moves away from its pin is
// suspended until `approve` (RBAC-checked, audited) re-pins it; pins are kept in
// the registry's store of approved definitions (the node's LMDB), so a re-mount
// after a restart compares with what was approved before.

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { TimerHandle } from '../../base/clock.js';
import { AgentOsError, PolicyDenied } from '../../base/errors.js';
import type { AuditRecordInput } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { ApprovedTools } from '../tools/approved-store.js';
import type { ToolContext } from '../tools/define.js';
import { ToolCodes } from '../tools/errors.js';
import { kernelOf, mountsChanged, mountsOf, registryOf, type KernelHost, type ToolDescriptor } from './catalog.js';
import { checkTransportSpec, connectMcp, describeServer, listAllTools } from './connect.js';
import { McpBridgeError, McpCodes } from './errors.js';
import { invokeTool, type McpToolResult } from './invoke.js';
import { applyChange } from './mount-apply.js';
import { approveTool, remember } from './mount-approve.js';
import { mountOptionsOf, type CheckedMountOptions, type MountOptions } from './mount-options.js';
import { startingEntry, storedPins } from './mount-start.js';
import { pinTool, type PinnedTool, type ToolPin } from './pin.js';
import { reconcile, type ListedTool } from './reconcile.js';
import { ToolTable } from './tool-table.js';
import {
  descriptorOf,
  pinHashes,
  pinnedOf,
  statusOf,
  type ApproveOptions,
  type Entry,
  type McpMount,
  type McpMountStats,
  type McpToolStatus,
  type RefreshReport,
} from './mount-types.js';

export type { MountOptions } from './mount-options.js';
export type { ApproveOptions, McpMount, McpMountStats, McpToolStatus, RefreshReport } from './mount-types.js';

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
  const mount = new Mount(kernel, registryOf(target, kernel), opts);
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
  readonly table: ToolTable;
  readonly store: ApprovedTools;
  private client: Client | undefined;
  private toolErrors = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private refreshWaiting = false;
  private probing = false;
  private timer: TimerHandle | undefined;

  constructor(
    readonly kernel: Kernel,
    registry: ToolTable['registry'],
    private readonly opts: CheckedMountOptions,
  ) {
    this.prefix = opts.prefix;
    this.server = describeServer(opts.transport);
    this.store = registry.approved;
    this.table = new ToolTable(registry, opts, (e) => (args, context) => this.call(e.local, args, context));
  }

  async start(): Promise<void> {
    await this.connect();
    const listed = await listAllTools(this.client!, this.what, this.opts.callTimeoutMs);
    const skip = this.opts.onInvalid === 'skip';
    const pins = this.opts.pins ?? storedPins(this.store.under(this.prefix));
    const trusted: Entry[] = [];
    for (const tool of listed) {
      if (this.table.byRemote.has(tool.name)) continue;
      const def = pinnedOf(tool);
      try {
        const local = this.table.nameFor(tool.name);
        const { entry, remember: keep } = startingEntry(tool.name, local, def, pinTool(def), pins, this.store.get(local));
        this.table.track(entry);
        this.table.register(entry);
        if (keep) trusted.push(entry);
      } catch (err) {
        if (!skip || !(err instanceof AgentOsError)) throw err;
        this.refuse(tool.name, def, err);
      }
    }
    // Kept once the whole mount stands: a mount that fails part way pins nothing.
    for (const e of trusted) remember(this, e, undefined, this.table.registry.manifest(e.local, e.version)?.hash);
    this.audit({ decision: 'mounted', subject: this.prefix, data: { server: this.server, ...this.counts(), pins: this.opts.pins !== undefined ? 'given' : pins !== undefined ? 'stored' : 'first-use' } });
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
    const out: McpMountStats = { calls: 0, invalidArgs: 0, toolErrors: this.toolErrors, failures: 0, suspendedRefusals: 0 };
    const all = this.table.registry.stats().tools;
    for (const e of this.table.all()) {
      const t = e.local === '' ? undefined : all[e.local];
      if (!t) continue;
      out.calls += t.calls;
      out.invalidArgs += t.invalidInputs;
      out.failures += t.failures + t.timeouts + t.invalidOutputs;
      out.suspendedRefusals += t.refused;
    }
    out.failures = Math.max(0, out.failures - this.toolErrors);
    return out;
  }

  refresh(): Promise<RefreshReport> {
    const run = this.queue.then(() => this.relist());
    this.queue = run.catch(() => {});
    return run;
  }

  approve(name: string, options: ApproveOptions): McpToolStatus {
    return approveTool(this, name, options);
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
    this.table.clear();
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

  /** What running a mounted tool does, after the registry checked the caller's arguments (and before it checks the result). */
  private async call(local: string, args: Record<string, unknown>, context: ToolContext): Promise<McpToolResult> {
    const e = this.usable(local, context.version);
    context.span?.set({ 'agentos.mcp.server': this.server, 'agentos.mcp.prefix': this.prefix, 'agentos.mcp.tool': e.remote });
    try {
      return await invokeTool(this.client!, e, args, { timeoutMs: this.opts.callTimeoutMs, signal: context.signal }, (what) => {
        if (what === 'toolErrors') this.toolErrors++;
      });
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

  /** The entry of a callable tool, or the typed refusal (gone, an older version, server unavailable). Suspension is the registry's to refuse. */
  private usable(local: string, version: string | undefined): Entry {
    const e = this.table.local(local);
    if (!e || e.state === 'removed' || e.state === 'refused') {
      throw new McpBridgeError(McpCodes.unavailable, `MCP tool "${local}" is no longer offered by ${this.what}`, { field: 'name' });
    }
    if (e.state !== 'active') {
      throw new McpBridgeError(McpCodes.toolSuspended, `MCP tool "${local}" is suspended`, { field: 'name', details: { tool: local, state: e.state, changed: e.changed } });
    }
    if (version !== undefined && version !== e.version) {
      // The server runs what it lists now: a caller bound to an earlier approved definition cannot have it.
      throw new PolicyDenied(ToolCodes.versionUnavailable, `MCP tool "${local}" version ${version} is no longer offered by ${this.what}; it offers version ${e.version ?? '?'} now`, {
        field: 'version',
        details: { tool: local, version, current: e.version },
      });
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
    for (const change of reconcile(this.table.byRemote, items)) applyChange(this, change, report);
    return report;
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
  refuse(remote: string, def: PinnedTool, err: AgentOsError | Error): void {
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

  audit(record: Omit<AuditRecordInput, 'kind'>): void {
    this.kernel.governance.record({ kind: 'mcp', ...record, data: { prefix: this.prefix, ...record.data } });
  }

  /** An `@agentos.mcp.*` event; serveMcp sessions hear that what is offered may have changed. */
  emit(what: string, data: Record<string, unknown>): void {
    this.kernel.emit(`@agentos.mcp.${what}`, { prefix: this.prefix, ...data });
    mountsChanged(this.kernel);
  }
}

