// What a project's `agentos.config.ts` exports, as types, and `defineConfig`
// to write one with type checking. Type-only imports: the public API can
// re-export this without loading the CLI. Checked by config.ts.

import type { AgentDefinition } from '../actors/define.js';
import type { SpawnOptions } from '../kernel/kernel.js';
import type { AgentOsNode, NodeOptions } from '../node/node.js';
import type { AnyToolDefinition } from '../services/tools/tool.js';
import type { WorkflowDefinition } from '../services/workflow/types.js';

/** An actor to start when the node is up (skipped when one with its id already runs, e.g. a recovered persistent actor). */
export interface SpawnSpec {
  /** The agent: its name (one of `agents`) or its definition. */
  agent: string | AgentDefinition<any, any>;
  /** Default: the agent's name. */
  id?: string;
  input?: unknown;
  tenant?: string;
  restart?: SpawnOptions['restart'];
}

/** What `agentos.config.ts` exports. */
export interface AgentOsConfig {
  /** The node: its `name` and any createNode options except those given below (and `control`, which the command serves). */
  node: Omit<NodeOptions, 'agents' | 'tools' | 'workflows' | 'control'>;
  /** Agent definitions the node hosts (registered before recovery, so persistent actors come back). */
  agents?: AgentDefinition<any, any>[];
  /** Tools the node offers (what agents' contracts list in `capabilities`). */
  tools?: AnyToolDefinition[];
  /** Workflow definitions, or `*.workflow.yaml` paths relative to the config file. */
  workflows?: (WorkflowDefinition | string)[];
  /** Actors to start; default one per agent in `agents`, named after it. `[]` starts none. */
  spawn?: SpawnSpec[];
  /** Called once the node is up and `spawn` is done (register MCP mounts, start workflows, …). */
  setup?: (node: AgentOsNode) => unknown;
  /** Directories `agentos dev` watches, relative to the config file (default: `agents` and `tools`). */
  watch?: string[];
}

/** Typing help for config files: `export default defineConfig({ … })` (returns its argument). */
export function defineConfig(config: AgentOsConfig): AgentOsConfig {
  return config;
}
