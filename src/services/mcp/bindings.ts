// The versions of mounted MCP tools a contract may bind to (`prefer: { files:
// 'files.read_file_v2' }`): the approved definitions kept in the store, as the
// binding registry entries the tool registry will give them when they are
// mounted again. For `createNode({ registry })`, so a binding made before a
// restart still names a version (and manifest hash) the node has after it.

import type { RegistryEntry } from '../../kernel/binding/index.js';
import type { ApprovedTools } from '../tools/approved-store.js';
import { compileTool, registryEntryOf, sealManifest } from '../tools/manifest.js';
import type { PinnedTool } from './pin.js';
import { mcpToolDefinition } from './tool-definition.js';

const unreachable = (): never => {
  throw new Error('a binding entry is never called');
};

/** One entry per approved MCP tool definition in `approved` (records without a definition or version are skipped). */
export function mcpBindingEntries(approved: ApprovedTools): RegistryEntry[] {
  const out: RegistryEntry[] = [];
  for (const record of approved.all()) {
    if (record.definition === undefined || record.version === undefined) continue;
    try {
      const def = mcpToolDefinition(record.name, record.definition as unknown as PinnedTool, unreachable, record.version);
      out.push(registryEntryOf(sealManifest(compileTool(def), record.version)));
    } catch {
      // A kept definition this node cannot compile any more is not offered for binding; mounting it refuses it.
    }
  }
  return out;
}
