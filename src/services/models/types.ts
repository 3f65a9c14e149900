// The shapes every provider and caller of the model gateway share: a
// completion request (messages, tools, sampling), the chunks of a streamed
// answer, and the provider interface. All plain data except the provider.

import type { Clock } from '../../base/clock.js';

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  /** Provider-assigned id, echoed by the `tool` message that answers it. */
  id: string;
  name: string;
  /** Parsed JSON object (a provider's argument string that is not an object is a MODEL_BAD_TOOL_CALL). */
  arguments: Record<string, unknown>;
}

export interface Message {
  role: Role;
  content: string;
  /** assistant: the tool calls it made. */
  toolCalls?: ToolCall[];
  /** tool: the id of the call this message answers. */
  toolCallId?: string;
  /** tool: the tool's name (optional, some providers want it). */
  name?: string;
}

/** A tool offered to the model: its name, what it does and a JSON Schema for its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface CompletionRequest {
  messages: Message[];
  tools?: ToolSpec[];
  /** Completion tokens at most (also reserved in the context window). */
  maxTokens?: number;
  temperature?: number;
  seed?: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/**
 * One piece of a streamed answer. `at` is the injected clock's time when the
 * gateway (or local provider) saw it. A stream ends with exactly one `end`.
 */
export type ModelChunk =
  | { type: 'text'; text: string; at: number }
  | { type: 'tool_call'; call: ToolCall; at: number }
  | { type: 'end'; finishReason: FinishReason; usage: Usage; exactUsage: boolean; at: number };

/** What a provider call gets besides the request. */
export interface ProviderCall {
  /** The provider's own model name (the catalog id without `provider/`). */
  model: string;
  clock: Clock;
  signal?: AbortSignal;
}

/** Where a provider's traffic goes: nowhere (in process), this machine only, or the network. */
export type ProviderNetwork = 'none' | 'loopback' | 'remote';

/**
 * A model backend. `stream` yields text and tool-call chunks and finally one
 * `end` chunk; it throws a ModelError on failure (MODEL_ABORTED when `signal`
 * aborts). `usage` in `end` is exact only when the backend reported it.
 */
export interface ModelProvider {
  readonly name: string;
  readonly network: ProviderNetwork;
  stream(request: CompletionRequest, call: ProviderCall): AsyncIterable<ModelChunk>;
}
