// What this node knows about the MCP tools mounted on it, per kernel: the
// prefixes in use (one mount per prefix) and each mounted tool's pinned
// definition, so `serveMcp` can offer mounted tools to its own clients with
// the schemas that were approved, not whatever the server says now.

import type { Kernel } from '../../kernel/kernel.js';
import { ToolRegistry } from '../tools/registry.js';
import { McpBridgeError, McpCodes } from './errors.js';

/** A tool as an MCP client sees it in tools/list. */
export interface ToolDescriptor {
  name: string;
  description: string;
  title?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  /** A mounted MCP tool already returns `{ content, structuredContent? }`. */
  mcpResult?: boolean;
}

export interface MountedSource {
  prefix: string;
  /** Descriptors of the tools callable now (active), by registry name. */
  describe(name: string): ToolDescriptor | undefined;
}

const byKernel = new WeakMap<Kernel, Map<string, MountedSource>>();
const watchers = new WeakMap<Kernel, Set<() => void>>();

/** Be told when a mount on `kernel` changes what it offers (mounted, suspended, approved, added, removed). Returns the unsubscribe. */
export function watchMounts(kernel: Kernel, listener: () => void): () => void {
  let set = watchers.get(kernel);
  if (!set) {
    set = new Set();
    watchers.set(kernel, set);
  }
  set.add(listener);
  return () => void set.delete(listener);
}

export function mountsChanged(kernel: Kernel): void {
  for (const listener of watchers.get(kernel) ?? []) {
    try {
      listener();
    } catch {
      // a watcher's bug is its own
    }
  }
}

export function mountsOf(kernel: Kernel): Map<string, MountedSource> {
  let mounts = byKernel.get(kernel);
  if (!mounts) {
    mounts = new Map();
    byKernel.set(kernel, mounts);
  }
  return mounts;
}

/** The mount that owns registry name `name`, if it is a mounted tool (active or not). */
export function mountOf(kernel: Kernel, name: string): MountedSource | undefined {
  for (const source of mountsOf(kernel).values()) {
    if (name.startsWith(`${source.prefix}.`)) return source;
  }
  return undefined;
}

/** A node (its kernel and tool registry), or a bare kernel. */
export type KernelHost = Kernel | { kernel: Kernel; tools?: unknown };

const ownRegistries = new WeakMap<Kernel, ToolRegistry>();

/**
 * The tool registry mounted tools join: the node's `tools`, or — for a bare kernel —
 * one registry of its own per kernel (its approvals kept in memory only).
 */
export function registryOf(target: KernelHost, kernel: Kernel): ToolRegistry {
  const tools = (target as { tools?: unknown }).tools;
  if (tools instanceof ToolRegistry) return tools;
  let own = ownRegistries.get(kernel);
  if (!own) ownRegistries.set(kernel, (own = new ToolRegistry(kernel)));
  return own;
}

export function kernelOf(target: KernelHost): Kernel {
  const kernel = (target as { kernel?: Kernel }).kernel ?? (target as Kernel);
  if (typeof kernel?.syscalls?.register !== 'function' || typeof kernel.governance?.record !== 'function') {
    throw new McpBridgeError(McpCodes.invalidOptions, 'expected a node or its kernel', { field: 'target' });
  }
  return kernel;
}
