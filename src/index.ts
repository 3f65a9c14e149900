// The public API of agentos. Everything not exported here is internal.

export { createNode, type AgentOsNode, type NodeOptions, type MessageOf } from './node/node.js';
export { defineAgent, type AgentConfig, type AgentDefinition, type PersistenceOptions, type RuntimeContractView } from './actors/define.js';
export { reply, replyHandle, respond, tell, type ReplyHandle, type ActionArgs } from './actors/reply.js';
export { SHUTDOWN_EVENT } from './actors/cell.js';
export { syscall, callTool, type SyscallInput } from './actors/syscall.js';
export {
  defineTool,
  defineJsonSchemaTool,
  SecretStore,
  Redactor,
  DEFAULT_RULES,
  ToolError,
  ToolCodes,
  ToolRegistry,
  toolRegistryEntries,
  type ToolDefinition,
  type ToolConfig,
  type ToolContext,
  type JsonSchemaToolConfig,
  type JsonSchemaToolDefinition,
  type AnyToolDefinition,
  type ToolManifest,
  type ToolRisk,
  type SandboxOption,
  type WorkerSandboxSpec,
  type AgentToolConfig,
  type DryRunMode,
  type DryRunReceipt,
  type IntendedCall,
  type RegistryStats,
  type ToolStats,
  type RedactionStats,
  type RedactionRule,
  type ToolChange,
  type CallOptions,
} from './services/tools/tool.js';
export { approvedToolsIn, type ApprovedTools } from './services/tools/tool.js';
export { loadContract, parseContract, contractHash, contractJsonSchema, mergeContractLayers, type Contract, type ContractOptions } from './kernel/contract/index.js';
export type { SignedTreeHead } from './kernel/audit/index.js';
export { verifyInclusion, verifyConsistency } from './kernel/audit/index.js';
export type { ApprovalsApi, AuditApi } from './node/apis.js';
export { BUILTIN_MODELS } from './node/node.js';
export type { Envelope, SendOptions } from './actors/envelope.js';
export { ActorRef, type AskOptions, type AnyMessage } from './kernel/ref.js';
export type { SpawnOptions, SystemEvent } from './kernel/kernel.js';
export type { DeadLetter } from './kernel/deadletters.js';
export { supervisor } from './node/supervisor.js';
export type { ChildSpec, SupervisorSpec, Strategy, RestartType, TreeNode } from './supervisors/types.js';
export type { ExitReason } from './base/exit.js';
export { RealClock, VirtualClock, type Clock } from './base/clock.js';
export { seededRng, type Rng } from './base/rng.js';
export {
  AgentOsError,
  ActorError,
  AdmissionError,
  AskTimeout,
  BudgetExceeded,
  ContractError,
  MailboxFull,
  NodeUnreachable,
  PolicyDenied,
  StorageError,
  SupervisorSpecError,
  ValidationError,
  ErrorCodes,
  isAgentOsError,
} from './base/errors.js';
export type { LatencyClass, OverflowPolicy } from './mailboxes/types.js';
export type { DurabilityApi } from './node/durability.js';
export type { RecoveryReport } from './kernel/durable/manager.js';
export { DurableCodes } from './kernel/durable/records.js';
export { EffectCodes, EffectCompensated, EffectFailed, EffectInDoubt, idempotencyKey, parseIdempotencyKey, type InDoubtCall, type Resolution } from './kernel/effects/index.js';
export { SnapshotCodes } from './actors/snapshot/index.js';
export {
  ModelGateway,
  ModelStream,
  ModelCatalog,
  LocalProvider,
  OpenAiCompatibleProvider,
  PiiRedactor,
  ContextWindow,
  ModelError,
  ModelCodes,
  route,
  rulesModel,
  scriptedModel,
  seededModel,
  echoModel,
  heuristicTokenizer,
  streamCompletion,
  type StreamCompletionInput,
  type StreamCompletionEvent,
  type ModelGatewayOptions,
  type ModelCall,
  type Completion,
  type CompletionRequest,
  type Message,
  type ToolSpec,
  type ToolCall,
  type ModelChunk,
  type ModelProvider,
  type ModelEntry,
  type PlacementMode,
  type RouteDecision,
  type ContextWindowState,
  type Tokenizer,
  type Redactor as ModelRedactor,
  type Rule,
} from './services/models/index.js';
export {
  mountMcpServer,
  serveMcp,
  mcpBindingEntries,
  APPROVE_TOOL_PERMISSION,
  type ApproveOptions,
  McpBridgeError,
  McpCodes,
  type McpMount,
  type McpMountStats,
  type McpToolStatus,
  type MountOptions,
  type RefreshReport,
  type McpServing,
  type ServeMcpOptions,
  type HttpServeOptions,
  type McpTransportSpec,
  type McpToolResult,
} from './services/mcp/index.js';
export {
  MemoryService,
  MemoryError,
  MemoryCodes,
  HashingEmbedder,
  providerEmbedder,
  DerivedKeyring,
  StaticKeyring,
  ivfIndex,
  evaluateRetrieval,
  chunkText,
  redactPii,
  groundAnswer,
  type Embedder,
  type Keyring,
  type Citation,
  type Passage,
  type RagAnswer,
  type IngestReport,
  type MemoryServiceOptions,
  type RedactMode,
} from './services/memory/index.js';
export { createTelemetry, type TelemetryOptions, type TelemetryExporter } from './services/telemetry/index.js';
export { ServiceActor, ServiceCodes, ServiceError } from './services/host/index.js';
export { startSpan, TraceSpan, type Telemetry } from './kernel/trace.js';
export { startControlServer, type ControlServer } from './node/control.js';
export type { PsRow, LaneFigures } from './kernel/ps-rows.js';
export { LANE_STRUCTURES, type LaneOutbound, type HrtLaneOptions } from './kernel/hrt/host.js';
export type { HrtTaskStats, HrtEvent, OverrunPolicy } from './kernel/hrt/index.js';
export { MsgpackRingCodec, RingConsumer, RingProducer, RingReceiver, RingSender, SpscRing } from './mailboxes/index.js';
// Workflows (typed DAGs with binding, SAGA and human approval gates).
export { parseWorkflow } from './services/workflow/parse.js';
export { loadWorkflow } from './services/workflow/load.js';
export { defineWorkflow } from './services/workflow/define.js';
export { validateWorkflow, workflowHash, type WorkflowOptions } from './services/workflow/validate.js';
export { parseCondition, formatCondition } from './services/workflow/condition.js';
export { workflowJsonSchema, workflowJsonSchemaText, WORKFLOW_JSON_SCHEMA_PATH } from './services/workflow/schema.js';
export type { WorkflowSpec, StepSpec, AgentStepSpec, ApprovalStepSpec, SubWorkflowStepSpec, LoopStepSpec, BodySpec, FieldsSpec, TypeSpec, RetrySpec } from './services/workflow/spec.js';
export type { WorkflowDefinition, Step, AgentStep, ApprovalStep, SubWorkflowStep, LoopStep, Condition, Source, BindMode } from './services/workflow/types.js';
export { WorkflowEngine, type StartOptions } from './services/workflow/engine.js';
export type { RunRecord, StepRecord, RunStatus, StepStatus } from './services/workflow/records.js';
export type { ReplayReport } from './services/workflow/replay.js';
export type { WorkflowStatsView } from './services/workflow/stats.js';
export { WorkflowCodes, WorkflowError } from './services/workflow/errors.js';
export { defineStepAgent, type StepAgentConfig, type StepHandler, type StepRequest } from './services/workflow/step-agent.js';
// A2A: agents talking to agents (FIPA-ACL performatives, conversations, delegation, the A2A protocol).
export {
  A2ABus, createA2ABus, a2aBusOf,
  A2AMessageSchema, PERFORMATIVES, a2aMessage, a2aReply, newConversationId, parseA2AMessage,
  a2aSend, a2aCall, delegatedInput,
  exposeA2A, mountA2AAgent,
  A2AError, A2ACodes,
  type A2ACode, type A2AMessage, type A2AMessageInput, type Performative, type ReplyOptions,
  type A2ABusOptions, type A2ABusStats, type A2AAskOptions, type A2ACallInput, type A2AEndpoint,
  type ConversationView, type ConversationStatus, type A2AInboundContent,
  type A2ACardInput, type ExposeA2AOptions, type A2AServing, type A2AMount, type MountA2AOptions,
} from './services/a2a/index.js';
// Blackboard: a shared, typed, versioned board per tenant, with a controller.
export {
  BlackboardService, BlackboardController, blackboard, controllerStrategies, BlackboardCodes, BlackboardError, boardActivateMessage, boardChangedMessage,
  type BlackboardOptions, type BlackboardStats, type BoardClient, type BoardEntry, type BoardView, type TopicSchema, type ActivationRecord, type ControllerOptions,
  type ControllerStats, type KnowledgeSource, type AgendaItem, type BoardChange, type ControllerStrategy, type ControllerStrategyName, type BlackboardRequest,
  type BoardActivateMessage, type BoardChangedMessage, type BlackboardCode,
} from './services/blackboard/index.js';
// Marketplace: the contract-net protocol (cfp → propose → award → inform | failure → re-announce).
export {
  contractNetManager, bidder, lowestPrice, bestValue, earliestEta, strategyByName,
  MarketError, MarketCodes, MarketService, outcomeMessage, managerMessages, bidderMessages,
  type ContractNetManagerOptions, type BidderOptions, type CallForProposals, type Award, type Bid,
  type Evaluation as BidEvaluation, type AwardStrategy, type AwardContext, type Proposal,
  type StrategyName as AwardStrategyName, type ValueWeights, type Outcome as MarketOutcome,
  type MarketStats, type MarketReason,
} from './services/market/index.js';
// Experiments: seeded, virtual-clock runs of a scenario, JSONL + summary across seeds.
export { runExperiment, runScenario, summaryMarkdown, summaryJson, type ExperimentResult, type RunExperimentOptions, type SeedRun, type MetricSummary } from './node/experiment/runner.js';
export { loadExperimentFile, parseExperiment, parseSeeds, type ExperimentSpec } from './node/experiment/file.js';
export { defineExperiment, type ExperimentScenario, type ExperimentContext, type ExperimentRow } from './node/experiment/types.js';
export { ExperimentClock, runUntil } from './node/experiment/drive.js';
export { ExperimentError, ExperimentCodes } from './node/experiment/errors.js';
export { builtinScenarios } from './node/experiment/registry.js';
// Cluster: authenticated links, membership and failure detection, actors across nodes.
export { ClusterNode, type ClusterOptions, type ClusterEvent, type ClusterChannel } from './cluster/cluster.js';
// Actor mobility: live migration, graceful hand-off, replicas and failover.
export type { MobilityOptions } from './cluster/migration/options.js';
export type { MigrateOptions } from './cluster/migration/migrate.js';
export type { MigrationResult } from './cluster/migration/protocol.js';
export type { HandOffReport } from './cluster/migration/leave.js';
export { ClusterError, ClusterCodes, type ClusterCode } from './cluster/errors.js';
export { ClusterTransport, CloseCodes } from './cluster/transport/index.js';
export type { ClusterTransportOptions, TlsOptions, TransportEvent, PeerInfo, LinkStats, FrameSocket } from './cluster/transport/index.js';
export { Membership, InMemoryNetwork, PhiAccrualDetector, detectionTimeMs, decideDowning, keepMajority, staticQuorum, MEMBERSHIP_DEFAULTS, DEFAULT_PHI_OPTIONS } from './cluster/membership/index.js';
export type { Member, MemberStatus, MembershipEvent, MembershipOptions, MembershipLink, PeerTarget, DowningStrategy, DowningDecision, PhiOptions } from './cluster/membership/index.js';
export { Directory, type DirectoryEntry, type DirectoryUpdate } from './cluster/directory/directory.js';
export type { RemoteActors, ClusterLinks } from './cluster/remote-actors.js';
// Project config for `agentos start` / `agentos dev`.
export { defineConfig, type AgentOsConfig, type SpawnSpec } from './cli/define-config.js';
// Lineage: per turn, the sensitive calls it made (agentos trace).
export { startLineage, lineageOf, LineageRecorder, type LineageApi, type LineageOptions } from './services/telemetry/lineage.js';
export { LineageError, LineageCodes, parseLineageId, type LineageTurn, type LineageCall, type Digest } from './services/telemetry/lineage-record.js';

// The inspector: a live web view of the node (and its cluster), and its wire protocol.
export type { InspectorOptions, InspectorHandle } from './node/inspector.js';
export { InspectorError, InspectorCodes, INSPECTOR_WS_PATH, STATELY_WS_PATH, type InspectorEvent, type NodeView, type ServerFrame, type ClientRequest } from './services/inspector/index.js';
