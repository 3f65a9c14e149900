// What this node knows about the MCP tools mounted on it, per kernel: the
// prefixes in use (one mount per prefix) and each mounted tool's pinned
// definition, so `serveMcp` can offer mounted tools to its own clients with
// the schemas that were approved, not whatever the server says now.

import type { Kernel } from '../../kernel/kernel.js';
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

/** A node, or anything carrying its kernel. */
export type KernelHost = Kernel | { kernel: Kernel };

export function kernelOf(target: KernelHost): Kernel {
  const kernel = (target as { kernel?: Kernel }).kernel ?? (target as Kernel);
  if (typeof kernel?.syscalls?.register !== 'function' || typeof kernel.governance?.record !== 'function') {
    throw new McpBridgeError(McpCodes.invalidOptions, 'expected a node or its kernel', { field: 'target' });
  }
  return kernel;
}
