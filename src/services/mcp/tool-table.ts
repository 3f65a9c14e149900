// The tools of one mount: by remote name and by registry name, each registered
// in the kernel's syscall table (or not, while refused or removed), with the
// ajv checks compiled from its approved schemas. Naming and registration
// conflicts are refused here with errors that name the tool.

import type { AgentOsError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallEntry } from '../../kernel/syscalls.js';
import { McpBridgeError, McpCodes } from './errors.js';
import type { Entry } from './mount-types.js';
import { registryName, type NamePolicy } from './names.js';
import type { PinnedTool } from './pin.js';
import { SchemaCompiler, type CompiledSchema } from './schema.js';

export class ToolTable {
  /** By remote name: what reconcile compares a listing with. */
  readonly byRemote = new Map<string, Entry>();
  private readonly byLocal = new Map<string, Entry>();
  private readonly compiler = new SchemaCompiler();

  constructor(
    private readonly kernel: Kernel,
    private readonly naming: { prefix: string; names: NamePolicy; rename: Record<string, string> },
    /** The syscall entry of a tool (its validate and handler). */
    private readonly syscall: (e: Entry) => SyscallEntry,
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
    this.release(e);
    this.byRemote.delete(e.remote);
    if (this.byLocal.get(e.local) === e) this.byLocal.delete(e.local);
  }

  register(e: Entry): void {
    if (e.registered) return;
    try {
      this.kernel.syscalls.register('tool', e.local, this.syscall(e));
    } catch (err) {
      if ((err as AgentOsError).code !== 'DUPLICATE_SYSCALL') throw err;
      throw new McpBridgeError(McpCodes.nameConflict, `MCP tool "${e.remote}" cannot be registered as "${e.local}": this node already has a tool of that name`, { field: `tools.${e.remote}`, cause: err });
    }
    e.registered = true;
  }

  unregister(e: Entry): void {
    if (!e.registered) return;
    this.kernel.syscalls.unregister('tool', e.local);
    e.registered = false;
  }

  /** The checks of a definition about to be approved; throws MCP_INVALID_SCHEMA and keeps nothing on failure. */
  compile(def: PinnedTool, local: string): { input: CompiledSchema; output?: CompiledSchema } {
    const input = this.compiler.compile(def.inputSchema, { tool: local, part: 'inputSchema' });
    if (def.outputSchema === undefined) return { input };
    try {
      return { input, output: this.compiler.compile(def.outputSchema, { tool: local, part: 'outputSchema' }) };
    } catch (err) {
      input.release();
      throw err;
    }
  }

  release(e: Entry): void {
    e.checks?.input.release();
    e.checks?.output?.release();
    e.checks = undefined;
  }

  /** Unregister and release everything (the mount closes). */
  clear(): void {
    for (const e of this.byRemote.values()) {
      this.unregister(e);
      this.release(e);
    }
  }
}
