// The model gateway's public surface: providers, catalog, routing, context window, redaction, metrics.

export { ModelGateway, type ModelCall, type ModelGatewayOptions, type ModelSyscallArgs } from './gateway.js';
export { ModelStream, type Completion } from './run.js';
export { streamCompletion, type StreamCompletionInput, type StreamCompletionEvent } from './stream-logic.js';
export { ModelError, ModelCodes, type ModelCode } from './errors.js';
export type { CompletionRequest, Message, ModelChunk, ModelProvider, ProviderCall, ProviderNetwork, Role, ToolCall, ToolSpec, Usage, FinishReason } from './types.js';
export { parseCompletionRequest, DEFAULT_MAX_TOKENS } from './request.js';
export { LocalProvider, type LocalProviderOptions } from './local/provider.js';
export { echoModel, rulesModel, scriptedModel, seededModel, DEFAULT_RULES, type LocalModel, type LocalReply, type Rule } from './local/models.js';
export { OpenAiCompatibleProvider, type OpenAiCompatibleOptions } from './openai/provider.js';
export { ModelCatalog, LOCAL_MODELS, type ModelEntry, type ModelCost } from './catalog.js';
export { route, PLACEMENT_MODES, type PlacementMode, type RouteDecision, type RouteCandidate, type RouteInput, type RoutePolicy, type Fallbacks, type RedactCloud } from './router.js';
export { ContextWindow, type ContextWindowOptions, type ContextWindowState, type FitResult, type Summarizer } from './context-window.js';
export { heuristicTokenizer, splitTokens, countPrompt, type Tokenizer } from './tokenizer.js';
export { PiiRedactor, redactMessages, type Redactor, type RedactionResult } from './redact.js';
export type { CallMetrics, ModelTotals } from './metrics.js';
