// Tools: typed functions an agent may call through the kernel. The kernel checks
// the caller's contract first; the registry validates arguments against the
// tool's schema before it runs and its result against the output schema after,
// runs worker tools in a sandbox and redacts what comes back. This module is the
// folder's public face: definitions (define.ts), the registry (registry.ts),
// manifests (manifest.ts), secrets and redaction (secrets.ts, redact.ts).

export {
  defineJsonSchemaTool,
  defineTool,
  isToolDefinition,
  TOOL_RISKS,
  type AnyToolDefinition,
  type JsonSchemaToolConfig,
  type JsonSchemaToolDefinition,
  type ResolvedSandbox,
  type SandboxOption,
  type ToolConfig,
  type ToolContext,
  type ToolDefinition,
  type ToolRisk,
  type WorkerSandboxSpec,
} from './define.js';
export type { AgentToolConfig } from './agent-tool.js';
export { APPROVED_TOOLS_DB, approvedToolsIn, LmdbApprovedTools, MemoryApprovedTools, type ApprovedTool, type ApprovedTools } from './approved-store.js';
export type { DryRunMode, DryRunReceipt, IntendedCall } from './dry-run.js';
export { ToolCodes, ToolError, type ToolCode } from './errors.js';
export { registryEntryOf, toolRegistryEntries, type ManifestSandbox, type ToolManifest } from './manifest.js';
export { DEFAULT_RULES, Redactor, SENSITIVE_KEY, type RedactionRule, type RedactionStats, type RedactorOptions } from './redact.js';
export { ToolRegistry, type CallOptions, type RegistryStats, type ToolChange, type ToolRegistryOptions, type ToolStatus } from './registry.js';
export type { JsonSchema } from './schema.js';
export { MIN_SECRET_LENGTH, SecretStore, type SecretInfo } from './secrets.js';
export type { ToolStats } from './stats.js';
