// The tools of one mount: by remote name and by registry name, each an entry of
// the node's tool registry (or not, while refused or removed) — so calls get the
// registry's schema checks, stats, redaction, versioned manifests, dry runs and
// spans. The registry holds the approved definitions as versions; a tool that is
// not approved (changed, new) is registered suspended, refused with
// MCP_TOOL_SUSPENDED. Naming and registration conflicts are refused here.

import { AgentOsError } from '../../base/errors.js';
import type { ToolManifest } from '../tools/manifest.js';
import type { ToolRegistry } from '../tools/registry.js';
import { McpBridgeError, McpCodes } from './errors.js';
import { refusalReason, type Entry } from './mount-types.js';
import { registryName, type NamePolicy } from './names.js';
import type { PinnedTool } from './pin.js';
import { asSchemaError, mcpToolDefinition, type McpRun } from './tool-definition.js';

export class ToolTable {
  /** By remote name: what reconcile compares a listing with. */
  readonly byRemote = new Map<string, Entry>();
  private readonly byLocal = new Map<string, Entry>();

  constructor(
    readonly registry: ToolRegistry,
    private readonly naming: { prefix: string; names: NamePolicy; rename: Record<string, string> },
    /** What calling an entry's tool does. */
    private readonly run: (e: Entry) => McpRun,
  ) {}

  /** By registry name, or else by remote name. */
  find(name: string): Entry | undefined {
    return this.byLocal.get(name) ?? this.byRemote.get(name);
  }

  local(name: string): Entry | undefined {
    return this.byLocal.get(name);
  }

  all(): Entry[] {
    return [...this.byRemote.values()];
  }

  registryNames(): string[] {
    return [...this.byLocal.keys()];
  }

  /** The registry name of a remote tool; refuses one that maps onto another tool's name. */
  nameFor(remote: string): string {
    const local = registryName(this.naming.prefix, remote, this.naming.names, this.naming.rename[remote]);
    const clash = this.byLocal.get(local);
    if (clash && clash.remote !== remote) {
      throw new McpBridgeError(McpCodes.invalidToolName, `MCP tools "${clash.remote}" and "${remote}" would both be registered as "${local}"; give one of them another name with the rename option`, {
        field: `tools.${remote}`,
        details: { remote, local, clash: clash.remote },
      });
    }
    return local;
  }

  track(e: Entry): void {
    this.byRemote.set(e.remote, e);
    if (e.local !== '') this.byLocal.set(e.local, e);
  }

  forget(e: Entry): void {
    this.unregister(e);
    this.byRemote.delete(e.remote);
    if (this.byLocal.get(e.local) === e) this.byLocal.delete(e.local);
  }

  /**
   * Put the entry in the registry: its approved definition as the version it was
   * approved as (so its manifest hash is the one a binding pinned), else the
   * listed one; suspended unless active.
   */
  register(e: Entry): void {
    if (e.registered) return this.sync(e);
    const def = e.approvedDef ?? e.listed!;
    const manifest = this.put(e, () => this.registry.register(mcpToolDefinition(e.local, def, this.run(e), e.approvedDef ? e.version : undefined)));
    if (e.approvedDef) e.version = manifest.version;
    this.sync(e);
  }

  /**
   * Make `def` the tool's current version (a changed definition is the next one). Throws
   * MCP_INVALID_SCHEMA, changing nothing, when its schemas do not compile. The caller
   * marks the entry active and calls `sync`.
   */
  approve(e: Entry, def: PinnedTool): ToolManifest {
    const tool = mcpToolDefinition(e.local, def, this.run(e));
    return this.put(e, () => (e.registered ? this.registry.replace(tool) : this.registry.register(tool)));
  }

  /** Bring the registry's suspension in line with the entry's state. */
  sync(e: Entry): void {
    if (!e.registered) return;
    if (e.state === 'active') {
      this.registry.resume(e.local);
      return;
    }
    this.registry.suspend(e.local, refusalReason(e), { code: McpCodes.toolSuspended, details: { tool: e.local, state: e.state, changed: [...(e.changed ?? [])] } });
  }

  unregister(e: Entry): void {
    if (!e.registered) return;
    this.registry.unregister(e.local);
    e.registered = false;
  }

  /** Unregister everything (the mount closes). */
  clear(): void {
    for (const e of this.byRemote.values()) this.unregister(e);
  }

  private put(e: Entry, fn: () => ToolManifest): ToolManifest {
    let manifest: ToolManifest;
    try {
      manifest = fn();
    } catch (err) {
      if (err instanceof AgentOsError && err.code === 'DUPLICATE_SYSCALL') {
        throw new McpBridgeError(McpCodes.nameConflict, `MCP tool "${e.remote}" cannot be registered as "${e.local}": this node already has a tool of that name`, { field: `tools.${e.remote}`, cause: err });
      }
      throw asSchemaError(e.local, err);
    }
    e.registered = true;
    return manifest;
  }
}
